"""#11 in Pinpoint mode: the campaign hook adds each endpoint's item to its attributes, escaped for an HTML body.
Environment: #11's store (``attributes_config``) and ``HOOK_KEY_SOURCE`` (EndpointId or UserId)."""

from __future__ import annotations

import os

from due.send_time import attributes_config
from due.send_time.hook_handler import handler

lambda_handler = handler(attributes_config.settings, "external_attributes_hook",
                         key_source=lambda: os.environ["HOOK_KEY_SOURCE"])
