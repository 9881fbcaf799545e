"""Where the reply's content comes from: an SES v2 email template (current) or a Pinpoint one (the seed)."""

from __future__ import annotations

from dataclasses import dataclass


class TemplateMissing(LookupError):
    """The configured template does not exist: a deployment mistake, worth an error naming it."""


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    subject: str
    html: str
    text: str
    # Pinpoint's EmailTemplateResponse.Version: "The unique identifier, as an integer, for the active version of the
    # message template" (Pinpoint API reference), recorded in the archive; SES v2 templates have none.
    version: str = ""


class SesV2Templates:
    def __init__(self, sesv2):
        self._sesv2 = sesv2

    def get(self, name: str) -> EmailTemplate:
        try:
            content = self._sesv2.get_email_template(TemplateName=name)["TemplateContent"]
        except self._sesv2.exceptions.NotFoundException:
            raise TemplateMissing(f"SES email template {name!r} does not exist in this region") from None
        return EmailTemplate(name, content.get("Subject", ""), content.get("Html", ""), content.get("Text", ""))


class PinpointTemplates:
    def __init__(self, pinpoint):
        self._pinpoint = pinpoint

    def get(self, name: str) -> EmailTemplate:
        try:
            template = self._pinpoint.get_email_template(TemplateName=name)["EmailTemplateResponse"]
        except self._pinpoint.exceptions.NotFoundException:
            raise TemplateMissing(f"Pinpoint email template {name!r} does not exist in this region") from None
        return EmailTemplate(name, template.get("Subject", ""), template.get("HtmlPart", ""),
                             template.get("TextPart", ""), str(template.get("Version") or ""))
