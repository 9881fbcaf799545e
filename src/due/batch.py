"""SQS and Kinesis batches with partial batch failure responses.

Each record is handled on its own; a record whose handler raises is logged with
its id and reported in ``batchItemFailures`` (the event source mapping enables
``ReportBatchItemFailures``), and the others succeed. SQS then redelivers only
the failed messages and, after ``maxReceiveCount``, moves them to the queue's
dead-letter queue; Kinesis retries from the first failed record and sends what
still fails to the mapping's on-failure destination.

For FIFO queues order matters within a message group: after a failure, the
later records of that group are not attempted and are reported failed with
it, so nothing overtakes it; records of other groups go on.

(Written here rather than taken from Powertools' BatchProcessor: that utility
imports every Lambda event class and adds about 110 ms to each cold start,
measured by benchmarks/ses_event_processing.py, for what is a loop.)
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from due.logs import get_logger

logger = get_logger("batch")

Record = dict[str, Any]
PartialBatchResponse = dict[str, list[dict[str, str]]]


def process_sqs(event: dict[str, Any], handler: Callable[[Record], None]) -> PartialBatchResponse:
    records = event.get("Records", [])
    fifo = bool(records) and records[0].get("eventSourceARN", "").endswith(".fifo")
    group = (lambda record: record.get("attributes", {}).get("MessageGroupId", "")) if fifo else None
    return _process(records, handler, lambda record: record["messageId"], group)


def process_kinesis(event: dict[str, Any], handler: Callable[[Record], None]) -> PartialBatchResponse:
    return _process(event.get("Records", []), handler, lambda record: record["kinesis"]["sequenceNumber"], None)


def kinesis_data(record: Record) -> bytes:
    return base64.b64decode(record["kinesis"]["data"])


def _process(records: list[Record], handler: Callable[[Record], None], record_id: Callable[[Record], str],
             ordered_group: Callable[[Record], str] | None) -> PartialBatchResponse:
    failures: list[dict[str, str]] = []
    failed_groups: set[str] = set()
    for record in records:
        if ordered_group is not None and ordered_group(record) in failed_groups:
            failures.append({"itemIdentifier": record_id(record)})
            continue
        try:
            handler(record)
        except Exception as error:  # reported to Lambda, which retries it: nothing is swallowed
            logger.error("record failed", extra={"record_id": record_id(record), "error_type": type(error).__name__,
                                                  "error": str(error)})
            failures.append({"itemIdentifier": record_id(record)})
            if ordered_group is not None:
                failed_groups.add(ordered_group(record))
    return {"batchItemFailures": failures}
