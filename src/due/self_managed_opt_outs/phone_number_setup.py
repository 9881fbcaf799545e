"""Point a phone number's (or a pool's) two-way channel at the stack's topic and turn on self-managed opt-outs.

The old Pinpoint API could not do this; End User Messaging's UpdatePhoneNumber
and UpdatePool can. What AWS documents, and what follows from it here:

* "If the origination phone number is associated with a pool, an error is
  returned" (UpdatePhoneNumber, API reference), and a pool's numbers share
  its two-way and opt-out configuration (user guide, "Phone pools"). So a
  pooled number is refused with a message naming its pool, and the pool is
  configured instead when its id is given.
* ``TwoWayChannelRole`` is "an optional IAM Role Arn for a service to assume,
  to be able to post inbound SMS messages"; without one, End User Messaging
  publishes as its service principal, which the topic policy and the key
  policy must allow (user guide, "Topic policies for Amazon SNS topics"): the
  stack's do. A role the number already had is used instead of them, and it
  knows nothing of this stack's topic and key, so it is replaced by the
  stack's role. A number without one keeps none: the API takes no empty role
  (the model requires an ARN), so a role once set could never be cleared on
  delete.

The previous settings travel in the physical resource id (JSON, well under
CloudFormation's 1 KB) and are put back on stack delete, if the number or
pool still points at this stack's topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_PREFIX = "phone-number-setup:"
# OptOutListName is left alone: the stack never changes it, so restoring it could only undo someone's change.
_SETTINGS = ("TwoWayEnabled", "TwoWayChannelArn", "TwoWayChannelRole", "SelfManagedOptOutsEnabled")
MAX_PHYSICAL_ID = 1024


class PooledNumber(ValueError):
    """The number belongs to a pool, whose settings End User Messaging applies instead."""


@dataclass(frozen=True)
class Origination:
    """A phone number or a pool: the two things End User Messaging keeps two-way settings on."""

    kind: str  # "phone-number" or "pool"
    id: str

    @classmethod
    def of(cls, phone_number_id: str = "", pool_id: str = "") -> Origination:
        if bool(phone_number_id) == bool(pool_id):
            raise ValueError("give exactly one of PhoneNumberId and PoolId")
        return cls("pool", pool_id) if pool_id else cls("phone-number", phone_number_id)

    def describe(self, sms) -> dict[str, Any]:
        if self.kind == "pool":
            (pool,) = sms.describe_pools(PoolIds=[self.id])["Pools"]
            return pool
        (number,) = sms.describe_phone_numbers(PhoneNumberIds=[self.id])["PhoneNumbers"]
        return number

    def update(self, sms, **settings: Any) -> None:
        if self.kind == "pool":
            sms.update_pool(PoolId=self.id, **settings)
        else:
            sms.update_phone_number(PhoneNumberId=self.id, **settings)


def configure(sms, origination: Origination, topic_arn: str, role_arn: str) -> tuple[str, dict[str, Any]]:
    current = origination.describe(sms)
    if current.get("PoolId") and origination.kind == "phone-number":
        raise PooledNumber(
            f"phone number {origination.id} is in pool {current['PoolId']}: End User Messaging does not update a "
            f"pooled number, and the pool's two-way settings apply to all of its numbers. Give PoolId="
            f"{current['PoolId']} (and no PhoneNumberId) to configure the pool.")
    previous = {key: current[key] for key in _SETTINGS if key in current}
    settings: dict[str, Any] = {"TwoWayEnabled": True, "TwoWayChannelArn": topic_arn,
                                "SelfManagedOptOutsEnabled": True}
    if previous.get("TwoWayChannelRole"):
        settings["TwoWayChannelRole"] = role_arn
    physical_id = _PREFIX + json.dumps({"kind": origination.kind, "id": origination.id, "topic": topic_arn,
                                        "previous": previous}, separators=(",", ":"), sort_keys=True)
    if len(physical_id) > MAX_PHYSICAL_ID:  # checked before changing anything, so a failed Create changed nothing
        raise ValueError(f"{origination.kind} {origination.id}: its previous settings are too long to keep "
                         f"({len(physical_id)} characters; CloudFormation keeps {MAX_PHYSICAL_ID})")
    origination.update(sms, **settings)
    return physical_id, {"PhoneNumber": current.get("PhoneNumber", ""), "PoolId": current.get("PoolId", "")}


def recorded_origination(physical_id: str) -> Origination | None:
    """What a physical id configured; None for the id of a Create that failed (it changed nothing)."""
    if not physical_id.startswith(_PREFIX):
        return None
    recorded = json.loads(physical_id[len(_PREFIX):])
    return Origination(recorded.get("kind", "phone-number"), recorded["id"])


def restore(sms, physical_id: str) -> dict[str, Any]:
    origination = recorded_origination(physical_id)
    if origination is None:
        return {}
    recorded = json.loads(physical_id[len(_PREFIX):])
    try:
        current = origination.describe(sms)
    except sms.exceptions.ResourceNotFoundException:
        return {"Restored": "false"}  # released or deleted since: nothing to give back
    if current.get("TwoWayChannelArn") != recorded["topic"]:
        return {"Restored": "false"}  # pointed elsewhere since: leave it
    previous = recorded["previous"]
    settings: dict[str, Any] = {"TwoWayEnabled": previous.get("TwoWayEnabled", False),
                                "SelfManagedOptOutsEnabled": previous.get("SelfManagedOptOutsEnabled", False)}
    for key in ("TwoWayChannelArn", "TwoWayChannelRole"):
        if previous.get(key):
            settings[key] = previous[key]
    origination.update(sms, **settings)
    return {"Restored": "true"}
