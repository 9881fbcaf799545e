"""Firehose record transformation: each source event becomes one row of the events table.

Firehose hands over a batch of base64 records and wants every one back, by
``recordId``, as ``Ok`` (with the row and its date partition), ``Dropped`` (a
Pinpoint test event) or ``ProcessingFailed`` (not an event we can read: Firehose
writes it unchanged under the error prefix, where a person can look at it).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

from due.data_lake import rows
from due.events import BadEvent, load_json_object
from due.logs import get_logger

logger = get_logger("data_lake_transform")

# The template counts refused records with a metric filter on this message, and alarms on them.
REFUSED = "record goes to the error prefix"


def transform(record: dict[str, Any]) -> dict[str, Any]:
    record_id = record["recordId"]
    original = base64.b64decode(record["data"])
    try:
        # Strict UTF-8: a record that is not UTF-8 is reported, never stored with mangled names.
        event = load_json_object(original.decode("utf-8"), "record")
        if rows.is_test_event(event):
            return {"recordId": record_id, "result": "Dropped", "data": record["data"]}
        row = rows.to_row(event, original, arrival_ms=record.get("approximateArrivalTimestamp"))
    except (UnicodeDecodeError, BadEvent) as exc:
        reason = "record is not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
        logger.warning(REFUSED, extra={"record_id": record_id, "reason": reason})
        return {"recordId": record_id, "result": "ProcessingFailed", "data": record["data"]}
    # One JSON document per line, so the JSON layout can be read by line and the Parquet converter sees one per record.
    line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
    return {
        "recordId": record_id,
        "result": "Ok",
        "data": base64.b64encode(line.encode("utf-8")).decode("ascii"),
        "metadata": {"partitionKeys": {"dt": rows.event_date(row)}},
    }


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    results = [transform(record) for record in event.get("records", [])]
    logger.info("batch transformed", extra={"results": dict(Counter(r["result"] for r in results))})
    return {"records": results}
