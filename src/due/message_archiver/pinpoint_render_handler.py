"""Render queue -> archive: the Pinpoint mode's archiver (see ``pinpoint_render``).

One SQS message is one send event as the transformation stamped it. Each is re-rendered and written with
``due.archive.ArchiveWriter`` (conditional put: a redelivery adds nothing). A message whose campaign, treatment,
journey, template or endpoint is missing, or whose content cannot be rendered, fails its record with the reason
logged (``due.batch``): SQS delivers it again and, after the queue's maxReceiveCount, moves it to the render
dead-letter queue, whose alarm tells someone. Content is cached for one invocation (one batch); the HMAC key is
read once per container. Logs name the SQS record, never the message id or the endpoint (an endpoint id may be an
address).

A batch is not allowed to run into the function's timeout: when a timeout ends an invocation, the whole batch
returns to the queue and every message of it counts a receive (Lambda Developer Guide, "Using Lambda with Amazon
SQS": on an error or timeout the batch becomes visible again), so a throttled Pinpoint would walk a large
campaign's messages to the dead-letter queue. Before each record the handler checks the time left
(``context.get_remaining_time_in_millis()``, Lambda Developer Guide, "Lambda context object in Python"); with
less than ``TIME_RESERVE_MS`` it takes no more records and reports the rest as failures, which SQS delivers again
after the visibility timeout: the archive lags instead. The event source mapping's ``MaximumConcurrency`` bounds
how many renderers read Pinpoint at once.

Environment: ``ARCHIVE_BUCKET``, ``RECIPIENT_SECRET_ARN``, ``PINPOINT_APPLICATION_ID`` (the project served: an
event of another project fails with that reason rather than an AccessDenied).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from due import aws, batch
from due.archive import ArchiveWriter
from due.logs import get_logger
from due.message_archiver import pinpoint_send
from due.message_archiver.pinpoint_render import PinpointContent, rebuild
from due.message_archiver.secret import archive_writer, container_secret

logger = get_logger("message_archiver.pinpoint_render")

# One record is one GetEndpoint (5 attempts at most with botocore's retries), perhaps a few content reads, and one
# PutObject: 30 of the function's 120 seconds is left for the record started last.
TIME_RESERVE_MS = 30_000


class OutOfTime(Exception):
    """Not started: too little of the invocation was left. SQS delivers the record again."""


class ForeignProject(ValueError):
    """The send event is another project's: this stack may read only its own project."""


def archive(record: batch.Record, content: PinpointContent, writer: ArchiveWriter, application_id: str,
            secret: bytes) -> bool:
    """Re-renders and archives one queued send event; False when it was archived already."""
    try:
        event = json.loads(record["body"])
    except json.JSONDecodeError as error:
        raise pinpoint_send.NotASend(f"render queue body is not JSON (at character {error.pos})") from None
    if not isinstance(event, dict):
        raise pinpoint_send.NotASend("render queue body is not a JSON object")
    send = pinpoint_send.parse(event)
    if application_id and send.application_id != application_id:
        raise ForeignProject(f"send event of project {send.application_id}; this archiver serves {application_id}")
    message = rebuild(send, content, secret)
    written = writer.write(message)
    logger.info("archived" if written else "archived already", extra={
        "record_id": record["messageId"], "channel": message.channel})
    return written


def process(event: dict[str, Any], pinpoint, writer: ArchiveWriter, application_id: str, secret: bytes,
            remaining_ms: Callable[[], int] = lambda: TIME_RESERVE_MS * 10) -> dict[str, Any]:
    content = PinpointContent(pinpoint)  # one cache per invocation: content edited between batches is re-read
    late = 0

    def archive_in_time(record: batch.Record) -> None:
        nonlocal late
        if late or remaining_ms() < TIME_RESERVE_MS:
            late += 1
            raise OutOfTime("not started: too little time left in this invocation; SQS delivers it again")
        archive(record, content, writer, application_id, secret)

    response = batch.process_sqs(event, archive_in_time)
    logger.info("batch archived", extra={"records": len(event.get("Records", [])),
                                         "failed": len(response["batchItemFailures"]), "not_started": late,
                                         "content_fetches": dict(content.fetches)})
    return response


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process(event, aws.client("pinpoint"), archive_writer(), os.environ.get("PINPOINT_APPLICATION_ID", ""),
                   container_secret(), context.get_remaining_time_in_millis)
