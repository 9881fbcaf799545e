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

The archive queue has its own SQS client (``archive_client``), not the shared one of due.aws: two attempts of
1 s to connect and 3 s to read, so that a slow archive queue costs the sender seconds, not the shared client's
five attempts of up to 25 s each with backoff (botocore's standard retry mode, "Retries" guide); and ``flush``
takes the invocation's time left, so that no archive call runs the function into its timeout. The client is
made for the queue's own region, read from its URL (``https://sqs.<region>.<URL suffix>/<account>/<name>``, the
form the templates build): a client signs for and calls its own region, and a queue of another region is not
found through it. The key policy of a Message_Archiver stack trusts its own account only, so its queue serves
the senders of its account.

(A module of its own rather than a function in due.archive: the archiver's own functions import due.archive,
and a variable read there would be one every one of them must set.)
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime

import boto3
from botocore.config import Config

from due.archive import ArchiveQueue, SentMessage
from due.logs import get_logger

logger = get_logger("archiving")

ARCHIVE_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1,
                               read_timeout=3)
QUEUE_URL_REGION = re.compile(r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/")


def queue_region(url: str) -> str | None:
    """The region of an SQS queue URL of the documented form; None for another form (a local emulator's)."""
    match = QUEUE_URL_REGION.match(url)
    return match.group(1) if match else None


@functools.cache
def archive_client(region: str | None):
    """The archive queue's own SQS client, for its region (None: the function's own); one per process."""
    return boto3.client("sqs", region_name=region, config=ARCHIVE_CLIENT_CONFIG)


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
        return cls(ArchiveQueue(archive_client(queue_region(url)), url) if url else None)

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

    def flush(self, time_left: Callable[[], float] = lambda: float("inf")) -> int:
        """Queues what was added since the last flush; returns how many will be missing from the archive.
        ``time_left()``: seconds the invocation has left (``seconds_left(context)``)."""
        pending, self._pending = self._pending, []
        lost, self._undescribed = self._undescribed, 0
        if pending:
            lost += self._queue.submit(pending, time_left)  # never raises: counts and logs what it could not queue
        return lost


def seconds_left(context) -> Callable[[], float]:
    """The Lambda context's time left, in seconds (``get_remaining_time_in_millis``)."""
    return lambda: context.get_remaining_time_in_millis() / 1000
