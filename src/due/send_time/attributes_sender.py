"""#11's sender: each destination's item from DynamoDB fills the stack's stored SES template
(``TEMPLATE_NAME``)."""

from __future__ import annotations

import functools
import os

from due import aws
from due.send_time import attributes_config, sending
from due.send_time.email_sender import EmailSender, StoredTemplate
from due.send_time.sender_handler import handler


@functools.lru_cache(maxsize=1)
def _sender() -> EmailSender:
    store, policy, default = attributes_config.settings()
    # Reading the template sends nothing: the client that retries throttling, paced on the stack's SES API limit.
    template = StoredTemplate(aws.client("sesv2"), os.environ["TEMPLATE_NAME"], pace=sending.ses_api_pace())
    return sending.build_sender(store, template, policy, default)


lambda_handler = handler(_sender, "external_attributes_sender")
