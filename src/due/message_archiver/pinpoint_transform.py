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

No record is ever returned ``ProcessingFailed``. The stream is the project's: S3_Data_Lake or anything else may
read its output, and Firehose does not deliver a ``ProcessingFailed`` record to the stream's destination but to
the ``processing-failed`` prefix of its S3 error output (Firehose Developer Guide, "Handle failure in data
transformation"), so failing a record would take a project event away from every other reader. Instead:

* entries SQS refuses are sent again (``QUEUE_ATTEMPTS``); the stamped events still not queued are written, one
  JSON line each, to ``unqueued/YYYY/MM/DD/HH/<invocation id>.jsonl`` in the archive bucket (encrypted, kept
  ``RetentionDays``) and logged at ERROR, which the stack's alarm on the transformation's errors reports; the page
  says how to queue them again. Only if that write fails too does the function raise: Firehose then retries the
  invocation (``NumberOfRetries``) and, failing that, backs the batch up under ``processing-failed``; the stack
  alarms on the function's Errors metric;
* a send event the archiver cannot read (no endpoint, no campaign id ...) passes ``Ok`` unchanged and is logged
  at ERROR with the reason (never the event);
* records that are not JSON objects, and every other event, pass through ``Ok`` untouched.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from due.logs import get_logger
from due.message_archiver import pinpoint_send

logger = get_logger("message_archiver.pinpoint_transform")

OK = "Ok"  # the only result returned (see above); ProcessingFailed would keep the record from the destination
UNQUEUED_PREFIX = "unqueued/"
SEND_BATCH = 10  # SendMessageBatch: at most 10 entries (SQS API reference)
QUEUE_ATTEMPTS = 3


@dataclass
class _Stamped:
    index: int  # the record's place in the response
    body: str  # the stamped event, as queued


def transform(event: dict[str, Any], sqs, queue_url: str, bucket: str, *, s3,
              sleep: Callable[[float], None] = time.sleep) -> dict[str, list[dict[str, str]]]:
    answers: list[dict[str, str]] = []
    stamped: list[_Stamped] = []
    not_sent = 0  # send events whose status says Pinpoint did not send (counted, so that none vanishes unseen)
    unreadable = 0
    for record in event.get("records", []):
        data = record.get("data", "")
        answers.append({"recordId": record["recordId"], "result": OK, "data": data})
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
            unreadable += 1
            logger.error("send event not archivable; passed through unchanged", extra={
                "record_id": record["recordId"], "reason": str(error)})
            continue
        document[pinpoint_send.LOCATION_FIELD] = send.location(bucket)
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        trailing = raw[len(raw.rstrip()):]  # Pinpoint ends each record with a newline; kept for the S3 output
        answers[-1]["data"] = base64.b64encode(text.encode() + trailing).decode()
        stamped.append(_Stamped(len(answers) - 1, text))
    unqueued = _queue(sqs, queue_url, stamped, sleep)
    if unqueued:
        _keep(s3, bucket, str(event.get("invocationId") or uuid.uuid4()), unqueued)
    logger.info("records transformed", extra={"records": len(answers), "send_events": len(stamped),
                                              "sends_not_made": not_sent, "send_events_unreadable": unreadable,
                                              "send_events_unqueued": len(unqueued)})
    return {"records": answers}


def _keep(s3, bucket: str, invocation_id: str, unqueued: list[_Stamped]) -> None:
    """Writes the send events SQS did not take where they are kept, encrypted, for someone to queue again.

    Raises when S3 refuses too: Firehose then retries the whole invocation (Firehose Developer Guide, "Handle
    failure in data transformation"), which queues the sends again; a duplicate is harmless (the archive's writes
    are conditional). ``ChecksumAlgorithm``: S3 refuses a PutObject without a checksum in a bucket with a default
    Object Lock retention (see ``due.archive.ArchiveWriter.write``)."""
    key = f"{UNQUEUED_PREFIX}{time.strftime('%Y/%m/%d/%H', time.gmtime())}/{_key_safe(invocation_id)}.jsonl"
    body = "".join(f"{item.body}\n" for item in unqueued).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson",
                  ChecksumAlgorithm="CRC32")
    logger.error("send events not queued for the archive; kept in the archive bucket to be queued again",
                 extra={"count": len(unqueued), "bucket": bucket, "key": key})


def _key_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:200] or str(uuid.uuid4())


def _queue(sqs, queue_url: str, stamped: list[_Stamped], sleep: Callable[[float], None]) -> list[_Stamped]:
    """Queues the stamped events; returns those SQS never took."""
    lost: list[_Stamped] = []
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
        lost.extend(pending.values())
    return lost
