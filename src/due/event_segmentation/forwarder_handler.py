"""The forwarder: SES and End User Messaging events (SNS -> SQS, raw delivery) -> the stream.

One record per person, with the person's ``partition_key``, so the events naming one address or number share a
shard and are applied in order, one batch at a time, with the application's events naming it the same way (a
count or a Pinpoint list read and written by two invocations at once could lose an update). Order is per
identifier: the page says what that leaves out.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from due import aws
from due.event_segmentation.events import forwarded, normalise_json, partition_key
from due.events import BadEvent
from due.logs import get_logger

logger = get_logger("event_segmentation_forwarder")

PUT_RECORDS_MAX = 500  # PutRecords: "Each PutRecords request can support up to 500 records" (Kinesis API reference)
PUT_ATTEMPTS = 3
BACKOFF_SECONDS = 0.1


# --- the forwarder -------------------------------------------------------------------------------------------
def forward(bodies: dict[str, str], kinesis, stream_name: str, sleep=time.sleep) -> set[str]:
    """Puts each message's events on the stream; returns the message ids that failed (bad or not taken)."""
    failed: set[str] = set()
    entries: list[tuple[str, dict[str, Any]]] = []
    nobody = 0
    for message_id, body in bodies.items():
        try:
            events = normalise_json(body)
        except BadEvent as bad:
            logger.error("not an SES or End User Messaging event", extra={"message_id": message_id,
                                                                          "reason": str(bad)})
            failed.add(message_id)  # retried, then in the dead-letter queue with its body
            continue
        for event in events:
            if not event.person.is_named():
                nobody += 1  # e.g. an open of a message sent to several people: never guessed
                continue
            entries.append((message_id, {"Data": forwarded(event), "PartitionKey": partition_key(event.person)}))
    for start in range(0, len(entries), PUT_RECORDS_MAX):
        pending = entries[start:start + PUT_RECORDS_MAX]
        for attempt in range(PUT_ATTEMPTS):
            if attempt:
                sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** attempt))  # noqa: S311 (jitter, not a secret)
            response = kinesis.put_records(StreamName=stream_name, Records=[entry for _, entry in pending])
            # A record Kinesis did not take carries an ErrorCode (ProvisionedThroughputExceededException or
            # InternalFailure) in its place in the response; the others were written (PutRecords API reference).
            pending = [entry for entry, result in zip(pending, response["Records"], strict=True)
                       if "ErrorCode" in result]
            if not pending:
                break
        failed.update(message_id for message_id, _ in pending)
    logger.info("events forwarded", extra={"messages": len(bodies), "records": len(entries), "without_person": nobody,
                                           "failed_messages": len(failed)})
    return failed


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    # A message whose events were put before another's failed is sent again with it: the stream then holds it
    # twice, which a set, add or remove rule absorbs and a count rule counts twice (at-least-once, as Lambda).
    failed = forward({r["messageId"]: r["body"] for r in records}, aws.client("kinesis"), os.environ["STREAM_NAME"])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in sorted(failed)]}


