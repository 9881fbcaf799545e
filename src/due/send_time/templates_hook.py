"""#12 in Pinpoint mode: the campaign hook puts the campaign's content for each endpoint's locale into
``Attributes.html``, ``Attributes.subject`` and ``Attributes.text``; the HTML goes as stored."""

from __future__ import annotations

from due.send_time import templates_config
from due.send_time.hook_handler import handler

lambda_handler = handler(templates_config.settings, "external_templates_hook", escape_for_html=False)
