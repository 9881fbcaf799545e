"""The reply itself: template content with %%NAME%% and %%ID%% filled in, as an RFC 3834 response."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from due.ses_auto_reply.inbound import InboundMail
from due.ses_auto_reply.templates import EmailTemplate


def substitute(text: str, mail: InboundMail, escape_html: bool) -> str:
    """%%NAME%% is the original From (display name and address), %%ID%% the SES message id."""
    name, message_id = mail.from_header, mail.ses_message_id
    if escape_html:
        name, message_id = html.escape(name), html.escape(message_id)
    return text.replace("%%NAME%%", name).replace("%%ID%%", message_id)


def _one_line(text: str) -> str:
    # A header value never carries the sender's line breaks (header injection).
    return " ".join(text.split())


def build(mail: InboundMail, template: EmailTemplate, from_address: str) -> EmailMessage:
    """The reply to ``mail``, addressed to its return path (RFC 3834 section 4)."""
    prefix = substitute(template.subject, mail, escape_html=False)
    subject = _one_line(f"{prefix} {mail.subject}" if prefix and not prefix.endswith(" ") else prefix + mail.subject)
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = mail.envelope_sender
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-replied"
    if mail.rfc_message_id:
        message["In-Reply-To"] = _one_line(mail.rfc_message_id)
        message["References"] = _one_line(f"{mail.references} {mail.rfc_message_id}".strip())
    message.set_content(substitute(template.text, mail, escape_html=False) or " ")
    if template.html:
        message.add_alternative(substitute(template.html, mail, escape_html=True), subtype="html")
    return message
