"""Unwrapping what AWS delivers: JSON bodies and SNS envelopes.

Every parser in this package raises ``BadEvent`` for input it cannot use, with
a message that says what was wrong (never the personal data inside).
"""

from __future__ import annotations

import json
from typing import Any


class BadEvent(ValueError):
    """The input is not the event it claims to be; retrying will not help."""


def load_json_object(text: str | bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise BadEvent(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadEvent(f"{what} is JSON but not an object (got {type(value).__name__})")
    return value


def unwrap_sns(payload: dict[str, Any]) -> dict[str, Any]:
    """The message inside an SNS notification envelope, or ``payload`` itself.

    SNS -> SQS delivers the envelope unless raw message delivery is on, and
    SNS -> Lambda always delivers it, so consumers accept both.
    """
    if payload.get("Type") != "Notification" and "TopicArn" not in payload:
        return payload
    if "Message" not in payload:
        raise BadEvent("SNS envelope has no Message")
    return load_json_object(payload["Message"], "SNS Message")


def dig(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``, or None as soon as a level is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
