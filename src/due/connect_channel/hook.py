"""Pinpoint mode: the campaign's DELIVERY hook (custom channel) event -> one queued call per phone endpoint.

The event, as the Pinpoint developer guide documents it ("Create a custom channel in Amazon Pinpoint using a
webhook or Lambda function"): ``Message`` (the campaign's message configuration), ``Data`` (the
CustomMessage payload string), ``ApplicationId``, ``CampaignId``, ``TreatmentId``, ``ActivityId``,
``ScheduledTime`` and ``Endpoints``, a map of endpoint id -> endpoint (``ChannelType``, ``Address``,
``EndpointStatus``, ``OptOut``, ``Location``, ``Demographic``, ``Attributes``, ``User``...).

* the message spoken is the campaign's SMS body (``Message.SMSMessage.Body``; Pinpoint writes these keys in
  lower case in hook events, so they are matched either way), else ``Data`` (a JSON object's ``message``
  member, or the text itself);
* an endpoint is called when its channel is SMS or VOICE (its Address is a phone number); any other
  endpoint, an INACTIVE one or one opted out of everything (``OptOut`` ALL) is skipped with the reason;
* a call's source is ``pinpoint/<application>/<campaign>/<treatment>/<activity>``: the activity is one run of
  the campaign, so its deduplication id is one per endpoint and run: Pinpoint retrying the hook does not
  dial anyone twice, and the next run calls again;
* ``Demographic.Timezone`` is the recipient's zone for the calling window; ``Attributes`` (lists, joined with
  commas) and ``User.UserAttributes`` become contact attributes.
"""

from __future__ import annotations

import json
from typing import Any

from due.connect_channel.requests import MAX_ATTRIBUTE_BYTES, MESSAGE_ATTRIBUTE, CallRequest, attribute_key
from due.events import BadEvent

PHONE_CHANNELS = ("SMS", "VOICE")


def _member(mapping: Any, name: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    return next((v for k, v in mapping.items() if k.lower() == name.lower()), None)


def message_of(event: dict[str, Any]) -> str:
    body = _member(_member(event.get("Message"), "SMSMessage"), "Body")
    if isinstance(body, str) and body.strip():
        return body
    data = event.get("Data")
    if isinstance(data, str) and data.strip():
        try:
            parsed = json.loads(data)
        except ValueError:
            return data
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            return parsed["message"]
        return data
    return ""


def _attributes(endpoint: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for source in (endpoint.get("Attributes"), (endpoint.get("User") or {}).get("UserAttributes")):
        for name, values in (source or {}).items():
            value = ",".join(map(str, values)) if isinstance(values, list) else str(values)
            if value:
                found[attribute_key(name)] = value
    return found


def requests_of(event: dict[str, Any]) -> tuple[list[CallRequest], list[tuple[CallRequest, str]]]:
    """(calls to queue, (endpoint, reason) skipped)."""
    endpoints = event.get("Endpoints")
    if not isinstance(endpoints, dict) or not event.get("CampaignId"):
        raise BadEvent("not a Pinpoint campaign hook event (no CampaignId or Endpoints)")
    source = "pinpoint/" + "/".join(str(event.get(k) or "-") for k in ("ApplicationId", "CampaignId",
                                                                        "TreatmentId", "ActivityId"))
    message = message_of(event)
    calls, skipped = [], []
    for position, (endpoint_id, endpoint) in enumerate(sorted(endpoints.items()), start=1):
        endpoint = endpoint if isinstance(endpoint, dict) else {}
        attributes = _attributes(endpoint)
        request = CallRequest(source, position, str(endpoint.get("Address") or ""), message, recipient=endpoint_id,
                              external_id=str((endpoint.get("User") or {}).get("UserId") or ""),
                              time_zone=str((endpoint.get("Demographic") or {}).get("Timezone") or ""),
                              attributes=attributes)
        size = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
        if endpoint.get("ChannelType") not in PHONE_CHANNELS or not request.number:
            skipped.append((request, f"no phone number: a {endpoint.get('ChannelType') or 'typeless'} endpoint"))
        elif endpoint.get("EndpointStatus") == "INACTIVE":
            skipped.append((request, "the endpoint is inactive"))
        elif endpoint.get("OptOut") == "ALL":
            skipped.append((request, "the endpoint opted out (OptOut ALL)"))
        elif size + len(MESSAGE_ATTRIBUTE) + len(message.encode()) > MAX_ATTRIBUTE_BYTES:
            skipped.append((request, f"the message and attributes pass Connect's {MAX_ATTRIBUTE_BYTES} bytes"))
        else:
            calls.append(request)
    return calls, skipped
