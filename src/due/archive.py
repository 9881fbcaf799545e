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
from dataclasses import asdict, dataclass, field
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
WRITE_ATTEMPTS = 3  # a 409 (a concurrent write of the same key) is retried; S3 then answers 412 or takes it
DELETE_BATCH = 1000  # DeleteObjects: up to 1,000 keys a request (S3 API reference)
SEND_BATCH = 10  # SendMessageBatch: up to 10 messages
# SendMessageBatch: "The maximum allowed individual message size and the maximum total payload size (the sum of the
# individual lengths of all of the batched messages) are both 256 KB (262,144 bytes)" (SQS API reference). An email
# with its HTML reaches that in a few messages: the batches are cut by size too.
SEND_BATCH_BYTES = 262_144


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
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

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
        message["To"] = self.recipient
        if self.origination:
            message["From" if self.channel == "email" else "X-Archive-Origination"] = self.origination
        if self.subject:
            message["Subject"] = self.subject
        message["X-Archive-Channel"] = self.channel
        for name, value in (("Campaign-Id", self.campaign_id), ("Journey-Id", self.journey_id),
                            ("Message-Type", self.message_type)):
            if value:
                message[f"X-Archive-{name}"] = value
        for name, value in self.headers.items():
            message[f"X-Archive-Header-{UNSAFE_IN_KEY.sub('-', name)}"] = value
        message.set_content(self.text or "(the sender kept no text of this message)")
        if self.html:
            message.add_alternative(self.html, subtype="html")
        if self.template:
            rendered_by = {"template": self.template, "version": self.template_version,
                           "replacement_data": self.replacement_data}
            message.add_attachment(json.dumps(rendered_by, indent=2, ensure_ascii=False).encode(),
                                   maintype="application", subtype="json", filename="template.json")
        return message.as_bytes()


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
    result, keys, batch = Erased(), set(), []

    def flush() -> None:
        if not batch:
            return
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": list(batch), "Quiet": True})
        for error in response.get("Errors", []):
            result.refused.append({"key": error["Key"], "version": error.get("VersionId", ""),
                                   "code": error.get("Code", "")})
        batch.clear()

    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for kind, entries in (("versions", page.get("Versions", [])), ("delete_markers",
                                                                          page.get("DeleteMarkers", []))):
            for entry in entries:
                keys.add(entry["Key"])
                setattr(result, kind, getattr(result, kind) + 1)
                batch.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
                if len(batch) == DELETE_BATCH:
                    flush()
    flush()
    result.objects = len(keys)
    result.deleted = result.versions + result.delete_markers - len(result.refused)
    return result


class ArchiveQueue:
    """The sender's side: queues what it sent for the archiver. Never fails the send."""

    def __init__(self, sqs, queue_url: str):
        self._sqs, self._queue = sqs, queue_url

    def submit(self, messages: list[SentMessage]) -> int:
        """Queues the messages, 10 (and 256 KB) a call; returns how many could not be queued (logged, never raised)."""
        lost, groups, group, size = 0, [], [], 0
        for body in (m.to_json() for m in messages):
            length = len(body.encode())
            if length > SEND_BATCH_BYTES:
                lost += 1
                logger.error("a sent message is too large for the archive queue", extra={"bytes": length})
                continue
            if len(group) == SEND_BATCH or size + length > SEND_BATCH_BYTES:
                groups.append(group)
                group, size = [], 0
            group.append(body)
            size += length
        if group:
            groups.append(group)
        for group in groups:
            try:
                response = self._sqs.send_message_batch(QueueUrl=self._queue, Entries=[
                    {"Id": str(n), "MessageBody": body} for n, body in enumerate(group)])
                lost += len(response.get("Failed", []))
            # BotoCoreError: botocore's own failures (EndpointConnectionError, ReadTimeoutError) are not OSErrors.
            except (ClientError, BotoCoreError, OSError) as error:
                lost += len(group)
                logger.error("messages not queued for the archive", extra={"count": len(group),
                                                                          "error": type(error).__name__})
        if lost:
            logger.error("some sent messages will be missing from the archive", extra={"lost": lost})
        return lost
