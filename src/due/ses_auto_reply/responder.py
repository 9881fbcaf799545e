"""Decide, render and send one automatic reply."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from email.message import EmailMessage

from due import aws
from due.archiving import SentArchive
from due.ses_auto_reply import reply
from due.ses_auto_reply.inbound import InboundMail
from due.ses_auto_reply.loop_guard import OwnAddresses, reason_not_to_reply
from due.ses_auto_reply.reply_log import ReplyLog
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
        claimed: list[str] = []
        for key in keys:
            if not self._reply_log.claim(key, mail.ses_message_id):
                for earlier in claimed:
                    self._reply_log.release(earlier, mail.ses_message_id)
                return Outcome.ALREADY_REPLIED, "a reply went to this sender or address within the window"
            claimed.append(key)
        try:
            message_id = self._send(sender, mail.envelope_sender, message.as_bytes())
        except Exception:
            for key in claimed:
                self._reply_log.release(key, mail.ses_message_id)  # the retry may send it
            raise
        self._archive_reply(message, message_id, template.version)
        return Outcome.REPLIED, ""

    def _archive_reply(self, message: EmailMessage, message_id: str, template_version: str) -> None:
        """The reply as sent, for the message archive (when on): after the send, never failing it."""
        if not self._archive.enabled:
            return
        text, html = (message.get_body((subtype,)) for subtype in ("plain", "html"))
        headers = {name: str(message[name]) for name in ("Message-ID", "Auto-Submitted", "In-Reply-To")
                   if message[name]}
        self._archive.add("email", str(message["To"]), message_id, origination=str(message["From"]),
                          subject=str(message["Subject"]), text=text.get_content() if text else "",
                          html=html.get_content() if html else "", template=self._settings.template_name,
                          template_version=template_version, headers=headers)
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
