"""The Firehose transformation of the Pinpoint mode: every record back as it came, send events stamped and queued.

Firehose's contract (Amazon Data Firehose Developer Guide, "Required parameters for data transformation" and
"Transform source data"): the function gets ``{"records": [{"recordId", "data" (base64), ...}]}`` and answers
``{"records": [{"recordId", "result", "data"}]}`` with every record id it was given; ``Ok`` and ``Dropped`` are
processed, ``ProcessingFailed`` is not: Firehose delivers such a record, unchanged, under the
``processing-failed`` prefix of the stream's S3 (error) output, so it is kept, never lost. Firehose invokes the
function synchronously, whose request and response are each limited to 6 MB, and for at most 5 minutes; the
buffer Firehose hands over is 0.2 to 3 MB (1 MB by default). A stamp adds about 300 bytes to a send record, so a
3 MB buffer of 1 KB events comes back under 6 MB once base64-encoded; the page says to keep the buffer at 1 MB.

Every record is returned ``Ok`` with its data unchanged except ``_campaign.send`` and ``_journey.send`` events that
went out (``pinpoint_send.is_archivable``): those gain ``archive_location`` (as much of the archive key as the event
lets one derive; see ``pinpoint_send``) and are put on the render queue, 10 per SendMessageBatch (its maximum).
Entries SQS refuses are sent again (``QUEUE_ATTEMPTS``); a send event still not queued comes back
``ProcessingFailed`` so that it is backed up, not silently missing from the archive. A send event the archiver
cannot read (no endpoint, no campaign id ...) also comes back ``ProcessingFailed``, with the reason logged.
Records that are not JSON objects, and every other event, pass through ``Ok`` untouched: the stream is the
project's, and the transformation must not break what else reads it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from due.logs import get_logger
from due.message_archiver import pinpoint_send

logger = get_logger("message_archiver.pinpoint_transform")

OK, FAILED = "Ok", "ProcessingFailed"
SEND_BATCH = 10  # SendMessageBatch: at most 10 entries (SQS API reference)
QUEUE_ATTEMPTS = 3


@dataclass
class _Stamped:
    index: int  # the record's place in the response
    body: str  # the stamped event, as queued


def transform(event: dict[str, Any], sqs, queue_url: str, bucket: str,
              sleep: Callable[[float], None] = time.sleep) -> dict[str, list[dict[str, str]]]:
    answers: list[dict[str, str]] = []
    stamped: list[_Stamped] = []
    not_sent = 0  # send events whose status says Pinpoint did not send (counted, so that none vanishes unseen)
    for record in event.get("records", []):
        data = record.get("data", "")
        answer = {"recordId": record["recordId"], "result": OK, "data": data}
        answers.append(answer)
        try:
            raw = base64.b64decode(data)
            document = json.loads(raw)
        except ValueError:
            continue  # not a Pinpoint event: not ours to judge
        if not isinstance(document, dict) or not pinpoint_send.is_archivable(document):
            not_sent += isinstance(document, dict) and document.get("event_type") in pinpoint_send.SEND_EVENT_TYPES
            continue
        try:
            send = pinpoint_send.parse(document)
        except pinpoint_send.NotASend as error:
            logger.error("send event not archivable; backed up by Firehose", extra={
                "record_id": record["recordId"], "reason": str(error)})
            answer["result"] = FAILED
            continue
        document[pinpoint_send.LOCATION_FIELD] = send.location(bucket)
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        trailing = raw[len(raw.rstrip()):]  # Pinpoint ends each record with a newline; kept for the S3 output
        answer["data"] = base64.b64encode(text.encode() + trailing).decode()
        stamped.append(_Stamped(len(answers) - 1, text))
    for index in _queue(sqs, queue_url, stamped, sleep):
        answers[index]["result"] = FAILED
    failed = sum(1 for answer in answers if answer["result"] == FAILED)
    logger.info("records transformed", extra={"records": len(answers), "send_events": len(stamped),
                                              "sends_not_made": not_sent, "processing_failed": failed})
    return {"records": answers}


def _queue(sqs, queue_url: str, stamped: list[_Stamped], sleep: Callable[[float], None]) -> list[int]:
    """Queues the stamped events; returns the response indexes of those SQS never took."""
    lost: list[int] = []
    for start in range(0, len(stamped), SEND_BATCH):
        pending = {str(n): item for n, item in enumerate(stamped[start:start + SEND_BATCH])}
        for attempt in range(QUEUE_ATTEMPTS):
            if attempt:
                sleep(0.2 * attempt)
            try:
                response = sqs.send_message_batch(QueueUrl=queue_url, Entries=[
                    {"Id": entry_id, "MessageBody": item.body} for entry_id, item in pending.items()])
            except (ClientError, BotoCoreError) as error:  # the whole call, after botocore's own retries
                logger.warning("render queue refused a batch", extra={"attempt": attempt + 1,
                                                                      "error": type(error).__name__})
                continue
            failed = {entry["Id"] for entry in response.get("Failed", [])}
            for entry in response.get("Failed", []):
                logger.warning("render queue refused an entry", extra={
                    "attempt": attempt + 1, "code": entry.get("Code"), "sender_fault": entry.get("SenderFault")})
            pending = {entry_id: item for entry_id, item in pending.items() if entry_id in failed}
            if not pending:
                break
        if pending:
            logger.error("send events not queued for the archive; returned ProcessingFailed",
                         extra={"count": len(pending)})
            lost.extend(item.index for item in pending.values())
    return lost
