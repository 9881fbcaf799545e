"""Engagement events in one shape, whatever sent them, so that one rule set reads them all.

Every source becomes ``EngagementEvent``::

    {"event_type": "_email.open",                     # Pinpoint's naming, for every source
     "person": {"email": "ana@example.com", "phone": null, "profile_id": null, "endpoint_id": null},
     "attributes": {"campaign": "spring"},            # the source's own attributes (see below)
     "detail": {"message_id": "...", "link": "..."},  # what the source says about the message
     "timestamp": "2017-08-09T22:00:19.652Z"}         # when it happened, UTC

Sources, and what they give:

* **SES configuration-set event publishing** (``eventType`` Open, Click, Delivery, Bounce ...). Named as the
  data lake names them (``_email.open``, ``_email.click``, ``_email.hardbounce`` ...). ``attributes`` are the
  message's tags (first value of each), ``detail`` the message id, link, bounce and complaint types. The person
  is the recipient: SES's ``mail.destination`` is "a list of email addresses that were recipients of the
  original mail" (SES Developer Guide, "Contents of event data that Amazon SES publishes to Amazon SNS", mail
  object). Bounce, Complaint, Delivery and DeliveryDelay name the recipients they are about; the others are
  about every destination, so a record becomes one event per recipient. Open and Click are per message, not per
  recipient (SES sets no recipient on them; django-ses issue #235): a message sent to one address is that
  person's open, a message sent to several cannot be attributed and becomes one event with no person (counted,
  never guessed). This collection's senders send one message per recipient.
* **End User Messaging SMS v2** configuration-set events (``eventType`` TEXT_DELIVERED, TEXT_SUCCESSFUL ...,
  ``destinationPhoneNumber``): named like Pinpoint's SMS events (``_SMS.SUCCESS``, ``_SMS.FAILURE``,
  ``_SMS.OPTOUT``, ``_SMS.BUFFERED``); the person is the destination number; ``attributes`` is the send's
  ``context``; ``detail`` the message id, status, type and country.
* **Pinpoint event stream** records (``event_type``, ``client.client_id``): the person is the endpoint
  (``endpoint_id``), plus the address or number the message went to; ``attributes`` are the record's
  ``attributes`` (a custom event's own, such as ``webinar_id``).
* **The application's own events** (the Kinesis stream's records), this JSON object::

      {"event_type": "webinar.registration",
       "person": {"email": "ana@example.com"},        # at least one of email, phone (E.164), profile_id
                                                      # (Pinpoint mode: endpoint_id)
       "attributes": {"webinar_id": "webinar5"},      # optional: strings, numbers, true/false, objects
       "timestamp": "2024-05-01T10:00:00Z"}           # ISO 8601; optional, default: when it is read

The naming of SES, SMS and Pinpoint records is the data lake's (``due.data_lake.rows``): an event type a data
lake view reads is the event type a rule names. A record that is none of these shapes, or lacks what its shape
needs, raises ``due.events.BadEvent`` with the reason (never the personal data in it).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from due.data_lake import rows
from due.events import BadEvent, load_json_object, unwrap_sns
from due.ses_events import normalise_address

E164 = re.compile(r"^\+[1-9]\d{1,14}$")  # ITU-T E.164: at most 15 digits after the +
PROFILE_ID = re.compile(r"^[a-f0-9]{32}$")  # ProfileId's pattern (Customer Profiles API reference, UpdateProfile)
MAX_EVENT_TYPE_LENGTH = 50  # Pinpoint's limit on a custom event's type; ours too, so both modes take one name
# Text columns of the data lake's row that say something about the message a rule may test.
_DETAIL_COLUMNS = ("message_id", "campaign_id", "journey_id", "link", "bounce_type", "bounce_subtype",
                   "complaint_feedback_type", "record_status", "message_type", "iso_country_code")
# Multi-recipient SES events that name no single recipient (see the module's docstring).
_PER_MESSAGE = {"_email.open", "_email.click"}


@dataclass(frozen=True)
class Person:
    """How an event names its person: the keys Customer Profiles finds profiles by, and Pinpoint's endpoint."""

    email: str | None = None
    phone: str | None = None
    profile_id: str | None = None
    endpoint_id: str | None = None  # Pinpoint mode only

    def is_named(self) -> bool:
        return any((self.email, self.phone, self.profile_id, self.endpoint_id))


@dataclass(frozen=True)
class EngagementEvent:
    event_type: str
    person: Person
    timestamp: str  # ISO 8601, UTC, milliseconds
    attributes: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, str] = field(default_factory=dict)

    def as_document(self) -> dict[str, Any]:
        """The event as the JSON object rule paths point into."""
        return asdict(self)


def normalise_json(data: str | bytes) -> list[EngagementEvent]:
    """The events in one delivered record (a Kinesis record's data, an SQS body with or without SNS's envelope)."""
    payload = load_json_object(data, "event record")
    if set(payload) == {FORWARDED}:
        return [from_forwarded(payload[FORWARDED])]
    return normalise(unwrap_sns(payload))


FORWARDED = "forwarded"  # the key of an event the forwarder put on the stream, already in this module's shape


def forwarded(event: EngagementEvent) -> bytes:
    """The stream record the forwarder writes for an SES or SMS event: ``{"forwarded": <the event>}``."""
    return json.dumps({FORWARDED: event.as_document()}, separators=(",", ":")).encode()


def from_forwarded(document: Any) -> EngagementEvent:
    if not isinstance(document, dict) or not isinstance(document.get("event_type"), str) or not isinstance(
            document.get("person"), dict) or not isinstance(document.get("timestamp"), str):
        raise BadEvent("forwarded event lacks event_type, person or timestamp")
    person = {key: document["person"].get(key) for key in ("email", "phone", "profile_id", "endpoint_id")}
    return EngagementEvent(document["event_type"], Person(**person), document["timestamp"],
                           dict(document.get("attributes") or {}), dict(document.get("detail") or {}))


def partition_key(person: Person) -> str:
    """The stream's partition key for a person: a SHA-256 of how the event names them (``profile_id:<id>``,
    ``email:<address>``, ``phone:<E.164>`` or ``endpoint_id:<id>``, the first the event has), so events naming
    one identifier share a shard and are applied in order, and no address is written where the stream's metadata
    shows it."""
    for kind in ("profile_id", "email", "phone", "endpoint_id"):
        if getattr(person, kind):
            return hashlib.sha256(f"{kind}:{getattr(person, kind)}".encode()).hexdigest()
    raise ValueError("the event names no person")


def normalise(record: dict[str, Any]) -> list[EngagementEvent]:
    """The events one source record holds: one, or one per recipient of a multi-recipient SES record."""
    if "event_type" in record and "person" in record:
        return [from_application(record)]
    if "event_type" in record:
        return [from_pinpoint(record)]
    if ("eventType" in record or "notificationType" in record) and "mail" in record:
        return from_ses(record)
    if "eventType" in record and "destinationPhoneNumber" in record:
        return [from_sms(record)]
    raise BadEvent("neither an application event, a Pinpoint, an SES nor an End User Messaging SMS event")


def from_ses(record: dict[str, Any]) -> list[EngagementEvent]:
    row = rows.from_ses(record)  # the data lake's conformer: one naming of SES events
    event_type, timestamp, attributes, detail = row["event_type"], _iso(row["event_timestamp"]), \
        dict(row["attributes"] or {}), _detail(row)
    recipients = [normalise_address(address) for address in row["recipients"] or []]
    if not recipients:
        raise BadEvent(f"SES {row['source_event_type']} event names no recipient")
    if event_type in _PER_MESSAGE and len(set(recipients)) > 1:
        return [EngagementEvent(event_type, Person(), timestamp, attributes, detail)]
    return [EngagementEvent(event_type, Person(email=address), timestamp, attributes, detail)
            for address in dict.fromkeys(recipients)]


def from_sms(record: dict[str, Any]) -> EngagementEvent:
    row = rows.from_sms(record)  # the data lake's conformer: one naming of SMS events
    phone = row["destination_number"]
    if not isinstance(phone, str) or not E164.match(phone):
        raise BadEvent(f"SMS {row['source_event_type']} event's destinationPhoneNumber is not an E.164 number")
    return EngagementEvent(row["event_type"], Person(phone=phone), _iso(row["event_timestamp"]),
                           dict(row["context"] or {}), _detail(row))


def from_pinpoint(record: dict[str, Any]) -> EngagementEvent:
    row = rows.from_pinpoint(record, None)  # the data lake's conformer: one Pinpoint reading
    recipients = row.get("recipients") or []
    email = normalise_address(recipients[0]) if len(recipients) == 1 else None
    phone = row.get("destination_number") if isinstance(row.get("destination_number"), str) else None
    person = Person(email=email, phone=phone, endpoint_id=row["endpoint_id"] or None)
    return EngagementEvent(row["event_type"], person, _iso(row["event_timestamp"]), dict(row["attributes"] or {}),
                           _detail(row))


def from_application(record: dict[str, Any], now_ms: int | None = None) -> EngagementEvent:
    """The application's own event (the format in the module's docstring)."""
    event_type = record.get("event_type")
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > MAX_EVENT_TYPE_LENGTH:
        raise BadEvent(f"application event's event_type must be text of 1 to {MAX_EVENT_TYPE_LENGTH} characters")
    unknown = set(record) - {"event_type", "person", "attributes", "timestamp"}
    if unknown:
        raise BadEvent(f"{event_type} event has fields this format does not know: {sorted(unknown)}")
    person = record.get("person")
    if not isinstance(person, dict):
        raise BadEvent(f"{event_type} event's person is not an object")
    unknown = set(person) - {"email", "phone", "profile_id", "endpoint_id"}
    if unknown:
        raise BadEvent(f"{event_type} event's person has keys this format does not know: {sorted(unknown)}")
    for key, value in person.items():
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise BadEvent(f"{event_type} event's person.{key} is not a non-empty string")
    email, phone, profile_id, endpoint_id = (person.get(key) for key in ("email", "phone", "profile_id",
                                                                          "endpoint_id"))
    if email is not None and "@" not in email:
        raise BadEvent(f"{event_type} event's person.email is not an email address")
    if phone is not None and not E164.match(phone.strip()):
        raise BadEvent(f"{event_type} event's person.phone is not an E.164 number (+ and country code)")
    if profile_id is not None and not PROFILE_ID.match(profile_id.strip()):
        raise BadEvent(f"{event_type} event's person.profile_id is not a Customer Profiles profile id (32 hex digits)")
    if not (email or phone or profile_id or endpoint_id):
        raise BadEvent(f"{event_type} event names no person: give person.email, person.phone or person.profile_id "
                       "(Pinpoint mode: person.endpoint_id)")
    attributes = record.get("attributes", {})
    if not isinstance(attributes, dict):
        raise BadEvent(f"{event_type} event's attributes is not an object")
    timestamp = record.get("timestamp")
    if timestamp is None:
        occurred = now_ms if now_ms is not None else int(time.time() * 1000)
    else:
        try:
            occurred = rows.epoch_ms(timestamp, event_type)  # one ISO 8601 reading
        except BadEvent:
            raise BadEvent(f"{event_type} event's timestamp is not ISO 8601") from None
    return EngagementEvent(
        event_type.strip(),
        Person(email=normalise_address(email) if email else None, phone=phone.strip() if phone else None,
               profile_id=profile_id.strip() if profile_id else None,
               endpoint_id=endpoint_id.strip() if endpoint_id else None),
        _iso(occurred), attributes)


def _detail(row: dict[str, Any]) -> dict[str, str]:
    return {column: row[column] for column in _DETAIL_COLUMNS if isinstance(row.get(column), str)}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
