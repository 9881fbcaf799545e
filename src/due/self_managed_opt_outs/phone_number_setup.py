"""Point a phone number's two-way channel at the stack's topic and turn on self-managed opt-outs.

The old Pinpoint API could not do this; End User Messaging's UpdatePhoneNumber
can. The number's previous settings travel in the physical resource id (a few
hundred bytes of JSON) and are put back on stack delete, if the number still
points at this stack's topic.
"""

from __future__ import annotations

import json
from typing import Any

_PREFIX = "phone-number-setup:"
_SETTINGS = ("TwoWayEnabled", "TwoWayChannelArn", "SelfManagedOptOutsEnabled")


def configure(sms, phone_number_id: str, topic_arn: str) -> tuple[str, dict[str, Any]]:
    (number,) = sms.describe_phone_numbers(PhoneNumberIds=[phone_number_id])["PhoneNumbers"]
    previous = {key: number[key] for key in _SETTINGS if key in number}
    sms.update_phone_number(PhoneNumberId=phone_number_id, TwoWayEnabled=True, TwoWayChannelArn=topic_arn,
                            SelfManagedOptOutsEnabled=True)
    physical_id = _PREFIX + json.dumps({"id": phone_number_id, "topic": topic_arn, "previous": previous},
                                       separators=(",", ":"), sort_keys=True)
    return physical_id, {"PhoneNumber": number.get("PhoneNumber", "")}


def restore(sms, physical_id: str) -> dict[str, Any]:
    if not physical_id.startswith(_PREFIX):  # a Create that failed changed nothing
        return {}
    recorded = json.loads(physical_id[len(_PREFIX):])
    numbers = sms.describe_phone_numbers(PhoneNumberIds=[recorded["id"]])["PhoneNumbers"]
    if not numbers or numbers[0].get("TwoWayChannelArn") != recorded["topic"]:
        return {"Restored": "false"}  # released, or pointed elsewhere since: leave it
    previous = recorded["previous"]
    kwargs: dict[str, Any] = {"TwoWayEnabled": previous.get("TwoWayEnabled", False),
                              "SelfManagedOptOutsEnabled": previous.get("SelfManagedOptOutsEnabled", False)}
    if previous.get("TwoWayChannelArn"):
        kwargs["TwoWayChannelArn"] = previous["TwoWayChannelArn"]
    sms.update_phone_number(PhoneNumberId=recorded["id"], **kwargs)
    return {"Restored": "true"}
