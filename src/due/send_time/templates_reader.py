"""#12's reader: the shared audience reader, refusing a file whose campaign has no content in the default
locale (or unusable content). Environment: ``LOCALE_COLUMN``, #12's store (``templates_config``) and the
reader's own (``due.send_time.reader_handler``)."""

from __future__ import annotations

import os

from due.send_time.content_store import BadContent, CampaignContentMissing
from due.send_time.reader_handler import CampaignRefused, handler
from due.send_time.templates_config import content_store


def _check(campaign: str) -> None:
    try:
        content_store().require(campaign)
    except (CampaignContentMissing, BadContent) as problem:
        raise CampaignRefused(str(problem)) from None


lambda_handler = handler(_check, "external_templates_reader", locale_column=lambda: os.environ["LOCALE_COLUMN"])
