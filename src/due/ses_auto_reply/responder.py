"""Decide, render and send one automatic reply."""

from __future__ import annotations

import enum
import hashlib
import os
import time
from dataclasses import dataclass
from email.message import EmailMessage

from due import aws
from due.archiving import SentArchive, now
from due.ses_auto_reply import reply
from due.ses_auto_reply.inbound import InboundMail
from due.ses_auto_reply.loop_guard import OwnAddresses, reason_not_to_reply
from due.ses_auto_reply.reply_log import ReplyLog, SentReply
from due.ses_auto_reply.sender_key import canonical_address
from due.ses_auto_reply.templates import PinpointTemplates, SesV2Templates


class Outcome(enum.StrEnum):
    REPLIED = "replied"
    NOT_REPLYING = "not_replying"  # the loop guard said no
    ALREADY_REPLIED = "already_replied"  # this sender had a reply within the window


@dataclass(frozen=True)
class Settings:
    template_name: str
    default_response_address: str  # empty: reply from the address written to
    configuration_set: str  # empty: none
    own: OwnAddresses

    def sender_for(self, mail: InboundMail) -> str:
        return self.default_response_address or mail.recipients[0]


class SendRefused(RuntimeError):
    """SES would not send the reply (an unverified identity, usually)."""


class AutoResponder:
    def __init__(self, templates, reply_log: ReplyLog, sesv2, settings: Settings,
                 archive: SentArchive | None = None):
        self._templates, self._reply_log, self._sesv2, self._settings = templates, reply_log, sesv2, settings
        self._archive = archive or SentArchive(None)

    @classmethod
    def from_environment(cls) -> AutoResponder:
        source = os.environ.get("TEMPLATE_SOURCE", "SESv2")
        templates = PinpointTemplates(aws.client("pinpoint")) if source == "Pinpoint" else SesV2Templates(
            aws.client("sesv2"))
        default = os.environ.get("DEFAULT_RESPONSE_ADDRESS", "").strip().lower()
        settings = Settings(
            template_name=os.environ["TEMPLATE_NAME"],
            default_response_address=default,
            configuration_set=os.environ.get("CONFIGURATION_SET_NAME", ""),
            own=OwnAddresses.from_list([*os.environ.get("OWN_ADDRESSES", "").split(","), default]),
        )
        reply_log = ReplyLog(aws.client("dynamodb"), os.environ["REPLY_LOG_TABLE_NAME"],
                             int(os.environ.get("REPLY_WINDOW_HOURS", "24")) * 3600)
        return cls(templates, reply_log, aws.client("sesv2"), settings, SentArchive.from_environment())

    def respond(self, mail: InboundMail) -> tuple[Outcome, str]:
        """Returns the outcome and, when not replying, why."""
        reason = reason_not_to_reply(mail, self._settings.own)
        if reason:
            return Outcome.NOT_REPLYING, reason
        # The template first: a missing one fails before anything is recorded.
        template = self._templates.get(self._settings.template_name)
        sender = self._settings.sender_for(mail)
        message = reply.build(mail, template, sender)
        # The window counts the author, whose return path may change with every message (sender_key), and
        # the address the reply goes to (the return path, RFC 3834 section 4): a forged From with a victim's
        # return path must not earn the victim a reply per message (SES reports DMARC GRAY, not FAIL, for a
        # From domain without a DMARC policy, so the verdicts alone do not stop it).
        keys = list(dict.fromkeys([canonical_address(mail.from_address), canonical_address(mail.envelope_sender)]))
        claimed_at = time.time()
        claimed: list[str] = []
        for key in keys:
            claimed_it, earlier = self._reply_log.claim_or_earlier(key, mail.ses_message_id, claimed_at)
            if not claimed_it:
                for release in claimed:
                    self._reply_log.release(release, mail.ses_message_id)
                if earlier is not None:
                    # A retry of this very mail, replied to already: its archive record may have died with the
                    # attempt that sent it, so it is archived again (the archiver's write is conditional on the
                    # hour and message id, so a second copy adds nothing).
                    self._archive_reply(message, earlier)
                return Outcome.ALREADY_REPLIED, "a reply went to this sender or address within the window"
            claimed.append(key)
        try:
            message_id = self._send(sender, mail.envelope_sender, message.as_bytes())
        except Exception:
            for key in claimed:
                self._reply_log.release(key, mail.ses_message_id)  # the retry may send it
            raise
        sent = SentReply(message_id, now(), str(message["Message-ID"]), template.version, content_digest(message))
        try:
            if self._archive.enabled:
                # Before the archive: a retry after a crash here finds the send and archives it. A crash between
                # the send and this write leaves the claim without it: the retry neither replies nor archives
                # (sending again could reply twice).
                for key in claimed:
                    self._reply_log.record_sent(key, mail.ses_message_id, sent, claimed_at)
        finally:
            self._archive_reply(message, sent)
        return Outcome.REPLIED, ""

    def _archive_reply(self, message: EmailMessage, sent: SentReply) -> None:
        """The reply as sent, for the message archive (when on): after the send, never failing it.

        ``message`` is built for this attempt; on a retry its Message-ID is the recorded one. Its Date is not
        archived (``sent_at`` is). Its content is rebuilt from the inbound mail and the template as it is now:
        when that differs from what was sent (the template changed in between; SES v2 templates have no versions
        to fetch the old one by), the record keeps what is known (ids, time, addresses, template and version) and
        says the content was not kept, rather than archive content that was never sent."""
        if not self._archive.enabled:
            return
        text, html = (message.get_body((subtype,)) for subtype in ("plain", "html"))
        headers = {name: str(message[name]) for name in ("Message-ID", "Auto-Submitted", "In-Reply-To")
                   if message[name]}
        headers["Message-ID"] = sent.header_message_id
        content = {"subject": str(message["Subject"]), "text": text.get_content() if text else "",
                   "html": html.get_content() if html else ""}
        if content_digest(message) != sent.content_digest:
            content = {"subject": "", "text": "", "html": ""}
            headers[CONTENT_NOT_KEPT_HEADER] = "the template changed between the send and this archive record"
        self._archive.add("email", str(message["To"]), sent.ses_message_id, sent_at=sent.sent_at,
                          origination=str(message["From"]), template=self._settings.template_name,
                          template_version=sent.template_version, headers=headers, **content)
        self._archive.flush()

    def _send(self, sender: str, recipient: str, raw: bytes) -> str:
        """SES's message id of the reply (SendEmail's MessageId, SES API v2 reference)."""
        kwargs = {"ConfigurationSetName": self._settings.configuration_set} if self._settings.configuration_set else {}
        try:
            return self._sesv2.send_email(FromEmailAddress=sender, Destination={"ToAddresses": [recipient]},
                                          Content={"Raw": {"Data": raw}}, **kwargs)["MessageId"]
        except self._sesv2.exceptions.MessageRejected as exc:
            raise SendRefused(f"SES refused to send from {sender} (is the identity verified, and the "
                              f"recipient too while in the sandbox?): {exc}") from exc


# Named in the archived record when its content could not be rebuilt as sent (AutoResponder._archive_reply); the
# archive's MIME file carries it as X-Archive-Header-Content-Not-Kept.
CONTENT_NOT_KEPT_HEADER = "Content-Not-Kept"


def content_digest(message: EmailMessage) -> str:
    """SHA-256 of the reply's subject, text and HTML: whether a rebuilt reply is the one sent."""
    parts = [str(message["Subject"])]
    for subtype in ("plain", "html"):
        body = message.get_body((subtype,))
        parts.append(body.get_content() if body else "")
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
