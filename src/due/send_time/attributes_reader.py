"""#11's reader: the shared audience reader, refusing a file when the stack's SES template does not exist.
Environment: ``KEY_COLUMN``, ``TEMPLATE_NAME`` and the reader's own (``due.send_time.reader_handler``)."""

from __future__ import annotations

import os

from due import aws
from due.send_time.reader_handler import CampaignRefused, handler


def _check(campaign: str) -> None:
    name = os.environ["TEMPLATE_NAME"]
    sesv2 = aws.client("sesv2")
    try:
        sesv2.get_email_template(TemplateName=name)
    except sesv2.exceptions.NotFoundException:
        raise CampaignRefused(f"the SES template {name} does not exist in this region") from None


lambda_handler = handler(_check, "external_attributes_reader", key_column=lambda: os.environ["KEY_COLUMN"])
