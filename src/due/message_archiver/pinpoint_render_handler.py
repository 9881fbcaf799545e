"""Render queue -> archive: the Pinpoint mode's archiver (see ``pinpoint_render``).

One SQS message is one send event as the transformation stamped it. Each is re-rendered and written with
``due.archive.ArchiveWriter`` (conditional put: a redelivery adds nothing). A message whose campaign, treatment,
journey, template or endpoint is missing, or whose content cannot be rendered, fails its record with the reason
logged (``due.batch``): SQS delivers it again and, after the queue's maxReceiveCount, moves it to the render
dead-letter queue, whose alarm tells someone. Content is cached for one invocation (one batch); the HMAC key is
read once per container.

Environment: ``ARCHIVE_BUCKET``, ``RECIPIENT_SECRET_ARN``, ``PINPOINT_APPLICATION_ID`` (the project served: an
event of another project fails with that reason rather than an AccessDenied).
"""

from __future__ import annotations

import json
import os
from typing import Any

from due import aws, batch
from due.archive import ArchiveWriter
from due.logs import get_logger
from due.message_archiver import pinpoint_send
from due.message_archiver.pinpoint_render import PinpointContent, rebuild
from due.message_archiver.secret import archive_writer

logger = get_logger("message_archiver.pinpoint_render")


class ForeignProject(ValueError):
    """The send event is another project's: this stack may read only its own project."""


def archive(record: batch.Record, content: PinpointContent, writer: ArchiveWriter, application_id: str) -> bool:
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
    message = rebuild(send, content)
    written = writer.write(message)
    logger.info("archived" if written else "archived already", extra={
        "record_id": record["messageId"], "channel": message.channel, "message_id": message.message_id})
    return written


def process(event: dict[str, Any], pinpoint, writer: ArchiveWriter, application_id: str) -> dict[str, Any]:
    content = PinpointContent(pinpoint)  # one cache per invocation: content edited between batches is re-read
    response = batch.process_sqs(event, lambda record: archive(record, content, writer, application_id))
    logger.info("batch archived", extra={"records": len(event.get("Records", [])),
                                         "failed": len(response["batchItemFailures"]),
                                         "content_fetches": dict(content.fetches)})
    return response


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process(event, aws.client("pinpoint"), archive_writer(), os.environ.get("PINPOINT_APPLICATION_ID", ""))
