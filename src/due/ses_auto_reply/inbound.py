"""The message SES received, as its receipt rule's Lambda action describes it.

SES invokes the function with ``Records[0].ses.mail`` (envelope and headers)
and ``Records[0].ses.receipt`` (the rule's recipients and the spam, virus,
SPF, DKIM and DMARC verdicts). The body is not included; a reply needs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from typing import Any

from due.events import BadEvent


@dataclass(frozen=True)
class InboundMail:
    ses_message_id: str
    # SMTP MAIL FROM (the Return-Path), as written: a local part may be case-sensitive (RFC 5321 section 2.4),
    # and BATV/SRS return paths carry signatures. Empty for bounces.
    envelope_sender: str
    from_header: str  # as written, display name included
    subject: str
    rfc_message_id: str  # the Message-ID header, angle brackets included
    references: str
    recipients: tuple[str, ...]  # the addresses this rule matched
    headers: tuple[tuple[str, str], ...]
    verdicts: dict[str, str]  # spam, virus, spf, dkim, dmarc -> PASS/FAIL/GRAY/PROCESSING_FAILED/DISABLED

    @property
    def from_address(self) -> str:
        return parseaddr(self.from_header)[1].lower()

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def parse(event: dict[str, Any]) -> InboundMail:
    try:
        ses = event["Records"][0]["ses"]
        mail, receipt = ses["mail"], ses["receipt"]
        message_id = mail["messageId"]
    except (KeyError, IndexError, TypeError):
        raise BadEvent("not an SES receipt event: Records[0].ses.mail.messageId is missing") from None
    common = mail.get("commonHeaders") or {}
    headers = tuple((h.get("name", ""), h.get("value", "")) for h in mail.get("headers") or [] if isinstance(h, dict))
    from_values = common.get("from") or [value for key, value in headers if key.lower() == "from"]
    from_header = from_values[0] if from_values else ""
    recipients = tuple(address.lower() for _, address in getaddresses(receipt.get("recipients") or []) if address)
    if not recipients:
        raise BadEvent(f"SES receipt event {message_id} names no recipients")
    header_map = {key.lower(): value for key, value in reversed(headers)}
    return InboundMail(
        ses_message_id=message_id,
        envelope_sender=(mail.get("source") or "").strip().strip("<>"),
        from_header=from_header,
        subject=common.get("subject") or header_map.get("subject", ""),
        rfc_message_id=common.get("messageId") or header_map.get("message-id", ""),
        references=header_map.get("references", ""),
        recipients=recipients,
        headers=headers,
        verdicts={
            name: (receipt.get(f"{name}Verdict") or {}).get("status", "")
            for name in ("spam", "virus", "spf", "dkim", "dmarc")
        },
    )
