"""Pinpoint's send events, as the message archiver's Pinpoint mode reads them.

A project's event stream carries one ``_campaign.send`` or ``_journey.send`` event for each message a campaign or
journey sends (Pinpoint Developer Guide, "Campaign event data stream" and "Journey events"; AWS's published
examples are in ../shared/aws-examples/pinpoint_events). What an event gives, and all this module relies on:

* ``event_type``, ``event_timestamp`` (milliseconds since the epoch, when Pinpoint sent), ``application.app_id``;
* ``client.client_id``: the endpoint the message went to (the endpoint id, as every published campaign and
  journey send example and AWS's own message-archiver sample read it);
* campaign: ``attributes.campaign_id``, ``treatment_id`` (``"0"`` in every published example of a campaign
  without A/B treatments: the campaign's own, default treatment), ``campaign_activity_id`` (one run of the
  campaign), ``campaign_send_status``;
* journey: ``attributes.journey_id``, ``journey_activity_id`` (the key of the activity in the journey's
  ``Activities``), ``journey_run_id``, ``journey_activity_type`` (EMAIL, SMS, PUSH...), ``journey_send_status``;
* ``client_context.custom.endpoint``: a JSON string with part of the endpoint as sent (ChannelType, and in some
  examples Attributes and User); never its Address.

The event names no message id and no address, so the archive key can only be partly derived from the event: the
message id is built from what makes one send unique (the run or activity, the endpoint and the instant), the
hour folders from ``event_timestamp``; the recipient folder is the HMAC of the endpoint's address, which only the
renderer learns (GetEndpoint). The endpoint id is whatever the project's importer chose (Pinpoint API reference,
UpdateEndpoint: ``EndpointId`` is "the unique identifier for the endpoint", set by the caller; this collection's
own import uses the row's id column), often an email address or a phone number: so the message id carries an
HMAC of it with the archive's recipient secret, never the id itself (keys and logs free of personal data). The
transformation has no secret: ``archive_location`` says so, its ``key`` carries ``{recipient_folder}`` and
``{endpoint_digest}``, both filled in by the renderer.

Only ``SUCCESS`` sends are archived: every published example of a send that went out carries it, and another
status is a message Pinpoint did not send (quiet time, an inactive endpoint ...), which has nothing to archive.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from due.archive import ARCHIVE_PREFIX, UNSAFE_IN_KEY

CAMPAIGN_SEND = "_campaign.send"
JOURNEY_SEND = "_journey.send"
SEND_EVENT_TYPES = (CAMPAIGN_SEND, JOURNEY_SEND)
SENT = "SUCCESS"
LOCATION_FIELD = "archive_location"
RECIPIENT_PLACEHOLDER = "{recipient_folder}"
ENDPOINT_PLACEHOLDER = "{endpoint_digest}"
ENDPOINT_DIGEST_CHARACTERS = 32  # 128 bits of the HMAC-SHA256: no two endpoints of a run meet by chance


class NotASend(ValueError):
    """A send event that cannot be archived: the reason says which member is missing or wrong."""


@dataclass(frozen=True)
class SendEvent:
    event_type: str
    application_id: str
    endpoint_id: str
    sent_at: str  # ISO 8601, UTC, from event_timestamp
    campaign_id: str = ""
    treatment_id: str = ""
    campaign_activity_id: str = ""
    journey_id: str = ""
    journey_activity_id: str = ""
    journey_run_id: str = ""
    endpoint_snapshot: dict[str, Any] | None = None  # client_context.custom.endpoint, parsed

    @property
    def is_campaign(self) -> bool:
        return self.event_type == CAMPAIGN_SEND

    def endpoint_digest(self, secret: bytes) -> str:
        """The endpoint id as a message id carries it: an HMAC with the recipient secret (the id may be an address).
        "endpoint:" keeps it apart from the recipient folder, an HMAC of the address under the same key."""
        return hmac.new(secret, f"endpoint:{self.endpoint_id}".encode(),
                        hashlib.sha256).hexdigest()[:ENDPOINT_DIGEST_CHARACTERS]

    def _message_id_with(self, endpoint_part: str) -> str:
        run = (self.campaign_activity_id if self.is_campaign
               else f"{self.journey_run_id}-{self.journey_activity_id}")
        millis = int(datetime.fromisoformat(self.sent_at).timestamp() * 1000)
        kind = "campaign" if self.is_campaign else "journey"
        return f"{UNSAFE_IN_KEY.sub('_', f'{kind}-{run}')}-{endpoint_part}-{millis}"

    def message_id(self, secret: bytes) -> str:
        """What makes this send unique, stable across Firehose's and SQS's redeliveries of the same event."""
        return self._message_id_with(self.endpoint_digest(secret))

    def location(self, bucket: str) -> dict[str, str]:
        """As much of the archive key as the event gives: the renderer fills in both placeholders."""
        message_id = self._message_id_with(ENDPOINT_PLACEHOLDER)
        hour = f"{datetime.fromisoformat(self.sent_at):%Y/%m/%d/%H}"
        return {"bucket": bucket, "key": f"{ARCHIVE_PREFIX}{RECIPIENT_PLACEHOLDER}/{hour}/{message_id}.eml",
                "message_id": message_id,
                "recipient_folder": "HMAC-SHA256 of the endpoint's normalised address, set when archived",
                "endpoint_digest": "HMAC-SHA256 of the endpoint id, set when archived"}


def is_archivable(event: dict[str, Any]) -> bool:
    """A campaign or journey send that went out: the events the archiver stamps and queues."""
    event_type = event.get("event_type")
    if event_type not in SEND_EVENT_TYPES:
        return False
    status_key = "campaign_send_status" if event_type == CAMPAIGN_SEND else "journey_send_status"
    attributes = event.get("attributes")
    return isinstance(attributes, dict) and attributes.get(status_key) == SENT


def parse(event: dict[str, Any]) -> SendEvent:
    event_type = event.get("event_type")
    if event_type not in SEND_EVENT_TYPES:
        raise NotASend(f"{event_type!r} is not a campaign or journey send")
    attributes = _object(event, "attributes")
    timestamp = event.get("event_timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        raise NotASend(f"{event_type} has no event_timestamp in milliseconds")
    common = {
        "event_type": event_type,
        "application_id": _text(_object(event, "application"), "app_id", "application.app_id"),
        "endpoint_id": _text(_object(event, "client"), "client_id", "client.client_id"),
        "sent_at": datetime.fromtimestamp(timestamp / 1000, tz=UTC).isoformat(timespec="milliseconds"),
        "endpoint_snapshot": _snapshot(event),
    }
    if event_type == CAMPAIGN_SEND:
        return SendEvent(**common, campaign_id=_text(attributes, "campaign_id"),
                         treatment_id=str(attributes.get("treatment_id") or "0"),
                         campaign_activity_id=_text(attributes, "campaign_activity_id"))
    return SendEvent(**common, journey_id=_text(attributes, "journey_id"),
                     journey_activity_id=_text(attributes, "journey_activity_id"),
                     journey_run_id=_text(attributes, "journey_run_id"))


def _object(event: dict[str, Any], name: str) -> dict[str, Any]:
    value = event.get(name)
    if not isinstance(value, dict):
        raise NotASend(f"{event.get('event_type')} has no {name} object")
    return value


def _text(container: dict[str, Any], name: str, path: str = "") -> str:
    value = container.get(name)
    if not isinstance(value, str) or not value.strip():
        raise NotASend(f"send event has no {path or 'attributes.' + name}")
    return value.strip()


def _snapshot(event: dict[str, Any]) -> dict[str, Any] | None:
    custom = (event.get("client_context") or {}).get("custom") if isinstance(event.get("client_context"),
                                                                              dict) else None
    text = custom.get("endpoint") if isinstance(custom, dict) else None
    if not isinstance(text, str):
        return None
    try:
        snapshot = json.loads(text)
    except ValueError:
        return None  # a snapshot is a help, not a need: GetEndpoint has the endpoint
    return snapshot if isinstance(snapshot, dict) else None
