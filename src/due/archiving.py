"""The sender's side of the message archive (#15): what one invocation sent, queued for the archiver afterwards.

Every sender of the collection uses it the same way: ``SentArchive.from_environment()`` once per container
(``ARCHIVE_QUEUE_URL`` empty: archiving is off, nothing is kept and no call is made), ``add(...)`` after each
send that succeeded, and ``flush()`` once after the batch of sends, which queues them with
``due.archive.ArchiveQueue`` (one SendMessageBatch per 10 messages). The archive is never in the way of a send:
it is queued only after the sends, and a message that cannot be described (a send that returned no message id)
or queued is counted and logged without personal data, and the send stands.

The send's message id each sender records, as the API references name it: End User Messaging SendTextMessage and
SendVoiceMessage ``MessageId`` ("The unique identifier for the message"), Pinpoint SendMessages
``MessageResult.MessageId``, SES v2 SendEmail ``MessageId`` and SendBulkEmail ``BulkEmailEntryResult.MessageId``
("The unique message identifier returned from the ... operation"), Connect StartOutboundVoiceContact ``ContactId``
("The identifier of this contact within the Amazon Connect instance").

(A module of its own rather than a function in due.archive: the archiver's own functions import due.archive,
and a variable read there would be one every one of them must set.)
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from due import aws
from due.archive import ArchiveQueue, SentMessage
from due.logs import get_logger

logger = get_logger("archiving")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class SentArchive:
    def __init__(self, queue: ArchiveQueue | None):
        self._queue = queue
        self._pending: list[SentMessage] = []
        self._undescribed = 0

    @classmethod
    def from_environment(cls) -> SentArchive:
        url = os.environ.get("ARCHIVE_QUEUE_URL", "")
        return cls(ArchiveQueue(aws.client("sqs"), url) if url else None)

    @property
    def enabled(self) -> bool:
        return self._queue is not None

    def add(self, channel: str, recipient: str, message_id: str, **fields) -> None:
        """Keeps one sent message for the next flush (nothing when archiving is off); never raises."""
        if self._queue is None:
            return
        try:
            self._pending.append(SentMessage(channel=channel, recipient=recipient, message_id=message_id or "",
                                             sent_at=fields.pop("sent_at", "") or now(), **fields))
        except (TypeError, ValueError) as error:
            self._undescribed += 1
            logger.error("a sent message cannot be archived", extra={"channel": channel, "error": str(error)})

    def flush(self) -> int:
        """Queues what was added since the last flush; returns how many will be missing from the archive."""
        pending, self._pending = self._pending, []
        lost, self._undescribed = self._undescribed, 0
        if pending:
            lost += self._queue.submit(pending)  # never raises: counts and logs what it could not queue
        return lost
