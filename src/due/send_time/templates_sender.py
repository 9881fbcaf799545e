"""#12's sender: each destination's content (per campaign and locale, from S3) is the call's inline template."""

from __future__ import annotations

import functools

from due.send_time import sending, templates_config
from due.send_time.email_sender import EmailSender, InlineContent
from due.send_time.sender_handler import handler


@functools.lru_cache(maxsize=1)
def _sender() -> EmailSender:
    store, policy, default = templates_config.settings()
    return sending.build_sender(store, InlineContent(), policy, default)


lambda_handler = handler(_sender, "external_templates_sender")
