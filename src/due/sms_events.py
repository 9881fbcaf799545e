"""Inbound two-way SMS, as End User Messaging (and Pinpoint) publish it to SNS.

The SNS Message is JSON with ``originationNumber`` (the customer),
``destinationNumber`` (your number), ``messageKeyword``, ``messageBody``,
``inboundMessageId`` and ``previousPublishedMessageId``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from due.events import BadEvent, load_json_object, unwrap_sns

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass(frozen=True)
class InboundSms:
    inbound_message_id: str
    customer_number: str  # who wrote (originationNumber)
    our_number: str  # the number they wrote to (destinationNumber)
    body: str
    keyword: str  # the keyword AWS matched for the number, if any
    received_at: str = ""  # ISO 8601 from the SNS envelope; orders a number's messages


def parse_sqs_body(body: str) -> InboundSms:
    """An SQS body holding the SNS envelope (whose Timestamp orders messages) or the raw message."""
    payload = load_json_object(body, "message body")
    return parse(unwrap_sns(payload), received_at=str(payload.get("Timestamp", "")))


def parse(message: dict[str, Any], received_at: str = "") -> InboundSms:
    message_id = message.get("inboundMessageId")
    if not isinstance(message_id, str) or not message_id:
        raise BadEvent("inbound SMS has no inboundMessageId")
    for field in ("originationNumber", "destinationNumber"):
        if not isinstance(message.get(field), str) or not E164.match(message[field]):
            raise BadEvent(f"inbound SMS {message_id}: {field} is not an E.164 number")
    body = message.get("messageBody")
    if not isinstance(body, str):
        raise BadEvent(f"inbound SMS {message_id} has no messageBody")
    return InboundSms(message_id, message["originationNumber"], message["destinationNumber"], body,
                      str(message.get("messageKeyword") or ""), received_at)
