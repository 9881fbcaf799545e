"""The message archive: every message a sender here sends, kept as one MIME file per recipient, erasable.

The shared piece of the message archiver (architecture #6) that every sender will use:

* ``SentMessage``: what a sender knows of one message it sent (the channel, the recipient, the send's message id,
  when, the campaign or journey, and the content or, for SES templates, the template and its data). Senders put
  it on the archive queue as JSON (``ArchiveQueue``), never in the way of the send: a failure to queue is logged
  and counted, and the send goes on.
* ``ArchiveWriter``: writes it to ``archive/<recipient folder>/<YYYY>/<MM>/<DD>/<HH>/<message id>.eml``. The
  folder is an HMAC-SHA256 of the normalised address (email lower-cased, phone in E.164) with the archive's
  secret: keys carry no personal data, and a phone number cannot be recovered by hashing every number, as it
  could from a plain hash. The write is conditional (``IfNoneMatch="*"``): S3 answers 412 Precondition Failed
  when the key exists and 409 ConditionalRequestConflict when a concurrent write of it is in progress (S3 User
  Guide, "How to prevent object overwrites with conditional writes"), so a redelivered message adds neither an
  object nor a version.
* ``erase``: one person's archive, every version and delete marker under their folder, deleted; what it
  removed and what S3 refused (Object Lock in compliance mode refuses until retention ends) reported.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from due.logs import get_logger

logger = get_logger("archive")

ARCHIVE_PREFIX = "archive/"
CHANNELS = ("email", "sms", "voice", "push")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
UNSAFE_IN_KEY = re.compile(r"[^A-Za-z0-9._-]")
LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")
WRITE_ATTEMPTS = 3  # a 409 (a concurrent write of the same key) is retried; S3 then answers 412 or takes it
DELETE_BATCH = 1000  # DeleteObjects: up to 1,000 keys a request (S3 API reference)
SEND_BATCH = 10  # SendMessageBatch: up to 10 messages
# SendMessageBatch: "The maximum allowed individual message size and the maximum total payload size (the sum of the
# individual lengths of all of the batched messages) are both 1 MiB 1,048,576 bytes" (SQS API reference, and
# botocore's sqs 2012-11-05 model); a queue's MaximumMessageSize is 1,024 to 1,048,576 bytes, default 1,048,576
# (CreateQueue), which Message_Archiver.yaml sets on its queue. Batches are cut by size too, and a message still
# over it is archived without its largest parts (``TRUNCATED_HEADER``), never dropped whole.
SEND_BATCH_BYTES = 1_048_576
# SendMessage and SendMessageBatch accept only "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to
# #x10FFFF"; "If a message contains characters outside the allowed set, Amazon SQS rejects the message and returns
# an InvalidMessageContents error" (SQS API reference). The body is JSON with every non-ASCII character escaped
# (ensure_ascii), so it is ASCII and always within the set; a lone surrogate, which no UTF-8 text can hold, is
# replaced with U+FFFD first (the writer could not encode it either).
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# The parts left out, in order, of a message too large for the queue; the MIME file names them in this header.
TRUNCATED_HEADER = "X-Archive-Truncated"
DROPPABLE = ("html", "text", "replacement_data")
# BatchResultErrorEntry.SenderFault: "Specifies whether the error happened due to the caller of the batch API
# action" (SQS API reference): an entry failed with SenderFault false is the service's, sent again.
RESEND_ATTEMPTS = 2
RESEND_DELAY_SECONDS = 0.2
# No archive call starts with less time left in the invocation: one call takes at most the archive client's two
# attempts of 1 s to connect and 3 s to read (due.archiving.ARCHIVE_CLIENT_CONFIG), so the flush never runs the
# function into its timeout, which would leave a whole batch of sends (a FIFO group among them) unacknowledged.
CALL_TIME_NEEDED_SECONDS = 10.0
LOGGED_IDS = 100  # the lost messages' ids (the services' ids, no personal data) logged, at most


def normalised_recipient(channel: str, address: str) -> str:
    """The address as the folder is derived from it: an email address lower-cased, a number in E.164."""
    address = address.strip()
    if channel == "email":
        if "@" not in address:
            raise ValueError("an email recipient must be an email address")
        return address.lower()
    if channel in ("sms", "voice"):
        if not E164.match(address):
            raise ValueError("an SMS or voice recipient must be an E.164 number (+ and country code)")
        return address
    return address  # push: the device token or endpoint id as the sender has it


def recipient_folder(secret: bytes, channel: str, address: str) -> str:
    """HMAC-SHA256 of the normalised address: the same person, the same folder, and nothing readable in it."""
    return hmac.new(secret, normalised_recipient(channel, address).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SentMessage:
    channel: str
    recipient: str
    message_id: str  # the send's own id: SES MessageId, End User Messaging MessageId, Connect ContactId
    sent_at: str  # ISO 8601, UTC
    campaign_id: str = ""
    journey_id: str = ""
    origination: str = ""  # the sender: an address, a phone number, pool or sender id
    message_type: str = ""  # TRANSACTIONAL or PROMOTIONAL (SMS, voice)
    subject: str = ""
    text: str = ""
    html: str = ""
    template: str = ""  # an SES template the send named (SES renders it; its content is in SES, not here)
    template_version: str = ""
    replacement_data: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
        if not self.message_id.strip():
            raise ValueError("a sent message needs the send's message id")
        _instant(self.sent_at)

    def to_json(self) -> str:
        """ASCII JSON, within the characters SQS accepts (see ``SEND_BATCH_BYTES``'s notes), lone surrogates
        replaced."""
        return json.dumps(_without_lone_surrogates(asdict(self)), separators=(",", ":"), ensure_ascii=True)

    def without(self, part: str) -> SentMessage:
        """This message without one of its ``DROPPABLE`` parts, named in its ``TRUNCATED_HEADER`` header."""
        left_out = ", ".join(filter(None, [self.headers.get(TRUNCATED_HEADER, ""), part]))
        return replace(self, **{part: type(getattr(self, part))()},
                       headers={**self.headers, TRUNCATED_HEADER: left_out})

    @classmethod
    def from_json(cls, text: str) -> SentMessage:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("an archive message is a JSON object")
        return cls(**document)

    def key(self, secret: bytes) -> str:
        when = _instant(self.sent_at)
        return (f"{ARCHIVE_PREFIX}{recipient_folder(secret, self.channel, self.recipient)}/"
                f"{when:%Y/%m/%d/%H}/{UNSAFE_IN_KEY.sub('_', self.message_id.strip())}.eml")

    def to_mime(self) -> bytes:
        """The message as a MIME file: headers naming the channel, campaign or journey and time; the content the
        sender knows (text, HTML), and for a templated email the template and its data as a JSON part."""
        message = EmailMessage(policy=email.policy.SMTP)
        message["Date"] = _instant(self.sent_at).strftime("%a, %d %b %Y %H:%M:%S +0000")
        message["Message-ID"] = f"<{UNSAFE_IN_KEY.sub('_', self.message_id)}@archive.invalid>"
        message["To"] = _one_line(self.recipient)
        if self.origination:
            message["From" if self.channel == "email" else "X-Archive-Origination"] = _one_line(self.origination)
        if self.subject:
            message["Subject"] = _one_line(self.subject)
        message["X-Archive-Channel"] = self.channel
        for name, value in (("Campaign-Id", self.campaign_id), ("Journey-Id", self.journey_id),
                            ("Message-Type", self.message_type)):
            if value:
                message[f"X-Archive-{name}"] = _one_line(value)
        for name, value in self.headers.items():
            header = name if name == TRUNCATED_HEADER else f"X-Archive-Header-{UNSAFE_IN_KEY.sub('-', name)}"
            message[header] = _one_line(value)
        message.set_content(self.text or "(the sender kept no text of this message)")
        if self.html:
            message.add_alternative(self.html, subtype="html")
        if self.template:
            rendered_by = {"template": self.template, "version": self.template_version,
                           "replacement_data": self.replacement_data}
            message.add_attachment(json.dumps(rendered_by, indent=2, ensure_ascii=False).encode(),
                                   maintype="application", subtype="json", filename="template.json")
        return message.as_bytes()


def _one_line(value: str) -> str:
    """A header value on one line: a header field body holds no CR or LF but in folding (RFC 5322 section 2.2),
    and the email package refuses one ("Header values may not contain linefeed or carriage return characters").
    A value from a CSV cell (a campaign id, a header) may hold a line break; its line breaks become spaces."""
    return LINE_BREAKS.sub(" ", str(value))


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    return value


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ValueError("sent_at must be an ISO 8601 time") from None
    return instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)


class ArchiveWriter:
    def __init__(self, s3, bucket: str, secret: bytes, sleep=time.sleep):
        self._s3, self._bucket, self._secret, self._sleep = s3, bucket, secret, sleep

    def write(self, message: SentMessage) -> bool:
        """Archives one message; False when it was archived already (a redelivery)."""
        key, body = message.key(self._secret), message.to_mime()
        for attempt in range(WRITE_ATTEMPTS):
            try:
                # ChecksumAlgorithm: S3 refuses a PutObject into a bucket with a default Object Lock retention
                # unless it carries Content-MD5 or an x-amz-checksum-* header ("Content-MD5 OR x-amz-checksum- HTTP
                # header is required for Put Object requests with Object Lock parameters"; S3 User Guide, "Object
                # Lock considerations": uploading objects to an Object Lock enabled bucket). botocore adds a CRC32
                # by default only from 1.36 on, and the Lambda runtime's botocore is not ours to choose.
                self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="message/rfc822",
                                    IfNoneMatch="*", ChecksumAlgorithm="CRC32")
                return True
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code == "PreconditionFailed":
                    return False
                if code != "ConditionalRequestConflict" or attempt == WRITE_ATTEMPTS - 1:
                    raise
                self._sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")


@dataclass
class Erased:
    objects: int = 0  # distinct keys found
    versions: int = 0  # object versions found
    delete_markers: int = 0  # delete markers found
    deleted: int = 0  # versions and markers S3 deleted
    refused: list[dict[str, str]] = field(default_factory=list)  # key, version, S3's code (never the address)


def erase(s3, bucket: str, secret: bytes, channel: str, address: str) -> Erased:
    """Deletes every version of every object of one person's archive; says what went and what S3 refused."""
    prefix = f"{ARCHIVE_PREFIX}{recipient_folder(secret, channel, address)}/"
    result, keys = Erased(), set()
    # The whole listing first, then the deletes: a listing whose next page starts at a version already deleted
    # can end early (moto's does; the S3 API reference does not say what ListObjectVersions does with a
    # deleted VersionIdMarker). One person's folder is their messages, which fit in memory.
    found: list[dict[str, str]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for kind, entries in (("versions", page.get("Versions", [])), ("delete_markers",
                                                                          page.get("DeleteMarkers", []))):
            for entry in entries:
                keys.add(entry["Key"])
                setattr(result, kind, getattr(result, kind) + 1)
                found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
    for start in range(0, len(found), DELETE_BATCH):
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": found[start:start + DELETE_BATCH],
                                                            "Quiet": True})
        for error in response.get("Errors", []):
            result.refused.append({"key": error["Key"], "version": error.get("VersionId", ""),
                                   "code": error.get("Code", "")})
    result.objects = len(keys)
    result.deleted = result.versions + result.delete_markers - len(result.refused)
    return result


class ArchiveQueue:
    """The sender's side: queues what it sent for the archiver. Never fails the send, never raises."""

    def __init__(self, sqs, queue_url: str, sleep=time.sleep):
        self._sqs, self._queue, self._sleep = sqs, queue_url, sleep

    def submit(self, messages: list[SentMessage], time_left: Callable[[], float] = lambda: float("inf")) -> int:
        """Queues the messages, 10 (and 1 MiB) a call; returns how many could not be queued (logged with their
        message ids, the services' ids and no personal data, never raised). ``time_left()``: seconds the
        invocation has left; no call starts with less than ``CALL_TIME_NEEDED_SECONDS`` (what is left is lost
        here, and a sender whose markers keep the send archives it again on the redelivery)."""
        lost: list[str] = []
        groups: list[list[tuple[str, str]]] = []
        group: list[tuple[str, str]] = []
        size = 0
        for message in messages:
            body = _queue_body(message)
            if body is None:
                lost.append(message.message_id)
                continue
            if len(group) == SEND_BATCH or size + len(body) > SEND_BATCH_BYTES:
                groups.append(group)
                group, size = [], 0
            group.append((message.message_id, body))
            size += len(body)  # ASCII: characters are bytes
        if group:
            groups.append(group)
        for n, group in enumerate(groups):
            if time_left() < CALL_TIME_NEEDED_SECONDS:
                left = [message_id for later in groups[n:] for message_id, _ in later]
                logger.error("too little time left to queue sent messages for the archive",
                             extra={"count": len(left)})
                lost += left
                break
            lost += self._send(group, time_left)
        if lost:
            logger.error("some sent messages will be missing from the archive",
                         extra={"lost": len(lost), "message_ids": lost[:LOGGED_IDS]})
        return len(lost)

    def _send(self, group: list[tuple[str, str]], time_left: Callable[[], float]) -> list[str]:
        """One SendMessageBatch; entries the service failed (SenderFault false) sent again; the ids lost."""
        message_ids = {str(n): message_id for n, (message_id, _) in enumerate(group)}
        entries = [{"Id": str(n), "MessageBody": body} for n, (_, body) in enumerate(group)]
        lost: list[str] = []
        for attempt in range(RESEND_ATTEMPTS + 1):
            try:
                response = self._sqs.send_message_batch(QueueUrl=self._queue, Entries=entries)
            # BotoCoreError: botocore's own failures (EndpointConnectionError, ReadTimeoutError) are not OSErrors.
            except (ClientError, BotoCoreError, OSError) as error:
                logger.error("messages not queued for the archive", extra={"count": len(entries),
                                                                          "error": type(error).__name__})
                return lost + [message_ids[e["Id"]] for e in entries]
            again = set()
            for entry in response.get("Failed", []):
                logger.warning("a sent message refused by the archive queue", extra={
                    "message_id": message_ids.get(entry["Id"], ""), "code": entry.get("Code", ""),
                    "sender_fault": entry.get("SenderFault", True)})
                if entry.get("SenderFault", True):
                    lost.append(message_ids[entry["Id"]])
                else:
                    again.add(entry["Id"])
            if not again:
                return lost
            if attempt == RESEND_ATTEMPTS or time_left() < CALL_TIME_NEEDED_SECONDS:
                return lost + [message_ids[entry_id] for entry_id in sorted(again)]
            self._sleep(RESEND_DELAY_SECONDS * (attempt + 1))
            entries = [e for e in entries if e["Id"] in again]
        raise AssertionError("unreachable: the last attempt returns")


def _queue_body(message: SentMessage) -> str | None:
    """The message as the queue takes it: within ``SEND_BATCH_BYTES``, its largest parts left out if need be
    (named in ``TRUNCATED_HEADER``); None (logged) when it cannot be."""
    try:
        body = message.to_json()
        for part in DROPPABLE:
            if len(body) <= SEND_BATCH_BYTES:
                break
            if getattr(message, part):
                message = message.without(part)
                body = message.to_json()
    except (TypeError, ValueError) as error:  # a value JSON cannot hold
        logger.error("a sent message cannot be queued for the archive",
                     extra={"message_id": message.message_id, "error": type(error).__name__})
        return None
    if len(body) > SEND_BATCH_BYTES:
        logger.error("a sent message is too large for the archive queue",
                     extra={"message_id": message.message_id, "bytes": len(body)})
        return None
    if TRUNCATED_HEADER in message.headers:
        logger.warning("a sent message archived without some of its content", extra={
            "message_id": message.message_id, "left_out": message.headers[TRUNCATED_HEADER]})
    return body
