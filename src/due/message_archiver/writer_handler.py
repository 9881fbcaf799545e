"""Archive queue -> S3: each sent message a sender queued, written once as a MIME file under its recipient.

One SQS message is one ``due.archive.SentMessage`` (JSON). ``ArchiveWriter.write`` puts it at
``SentMessage.key`` with ``If-None-Match: *``, so a redelivered message adds neither an object nor a version.
A body that is not a sent message fails its record (the reason is logged, never the body): SQS receives it
again and, after the queue's maxReceiveCount, moves it to the archive dead-letter queue, whose alarm tells
someone. The HMAC key is read from Secrets Manager once per container.
"""

from __future__ import annotations

import json
from typing import Any

from due import batch
from due.archive import ArchiveWriter, SentMessage, normalised_recipient
from due.logs import get_logger
from due.message_archiver.secret import archive_writer

logger = get_logger("message_archiver")


class NotASentMessage(ValueError):
    """The queued body is not a sent message; the reason names what is wrong, not what it holds."""


def parse(body: str) -> SentMessage:
    """The sent message in an archive queue body, or NotASentMessage with a reason free of personal data."""
    try:
        message = SentMessage.from_json(body)
        normalised_recipient(message.channel, message.recipient)  # the folder can be derived
    except json.JSONDecodeError as error:
        raise NotASentMessage(f"not JSON (at character {error.pos})") from None
    except (TypeError, AttributeError):  # missing or unknown fields, or a field of the wrong type
        raise NotASentMessage("not a sent message: missing, unknown or mistyped fields") from None
    except ValueError as error:  # SentMessage's own checks (channel, message id, sent_at) and the recipient's
        raise NotASentMessage(f"not a sent message: {error}") from None
    return message


def archive(record: batch.Record, writer: ArchiveWriter) -> bool:
    """Archives one queued message; False when it was archived already (a redelivery)."""
    message = parse(record["body"])
    written = writer.write(message)
    logger.info("archived" if written else "archived already",
                extra={"record_id": record["messageId"], "channel": message.channel})
    return written


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    writer = archive_writer()
    return batch.process_sqs(event, lambda record: archive(record, writer))
