"""One row shape for events from Amazon Pinpoint, SES and End User Messaging SMS.

The three sources describe the same things differently: Pinpoint's event
stream uses snake_case and its own event names (``_email.open``), SES
configuration sets publish camelCase (``Open``), End User Messaging SMS v2
publishes ``TEXT_DELIVERED`` and friends. ``to_row`` maps each to the columns of
``athena/events_table.sql`` and names every event the Pinpoint way, so a view
such as ``email_open`` reads one event type whatever the source.

Missing optional fields become None (NULL), never an error. A record that is
not one of the three shapes raises ``BadEvent``.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from due import pinpoint_events, ses_events
from due.events import BadEvent, dig

# The order of athena/events_table.sql (a test holds them equal).
COLUMNS = (
    "event_id", "event_source", "event_type", "source_event_type", "event_timestamp", "arrival_timestamp",
    "application_id", "campaign_id", "campaign_activity_id", "treatment_id", "journey_id",
    "journey_activity_id", "journey_run_id", "endpoint_id", "message_id",
    "from_address", "destinations", "subject", "recipients", "recipient_details",
    "bounce_type", "bounce_subtype", "complaint_feedback_type", "reject_reason", "delay_type",
    "link", "user_agent", "ip_address", "template_name", "error_message",
    "origination_number", "destination_number", "iso_country_code", "record_status", "status_description",
    "message_type", "message_parts", "price_usd", "attributes", "context", "metrics",
)

# Columns that are not text; every other column holds a string or NULL.
TYPED_COLUMNS = {"event_timestamp", "arrival_timestamp", "message_parts", "price_usd", "destinations", "recipients",
                 "recipient_details", "attributes", "context", "metrics"}

TEST_EVENT_PREFIX = "_test."

SES_EVENT_TYPES = {
    "Send": "_email.send",
    "Delivery": "_email.delivered",
    "Open": "_email.open",
    "Click": "_email.click",
    "Complaint": "_email.complaint",
    "Reject": "_email.rejected",
    "Rendering Failure": "_email.rendering_failure",
    "DeliveryDelay": "_email.delivery_delay",
    "Subscription": "_email.unsubscribe",
}

# End User Messaging SMS statuses, named as Pinpoint named SMS outcomes.
SMS_PENDING = {"TEXT_PENDING", "TEXT_QUEUED"}
SMS_SUCCESS = {"TEXT_SUCCESSFUL", "TEXT_DELIVERED"}
SMS_OPT_OUT_STATUSES = {"OPTED_OUT", "OPT_OUT"}

MILLICENTS_PER_USD = 100_000
INT_MAX = 2**31 - 1  # the range of an int column
DAY_MS = 86_400_000
# The first day of the table's partition projection (S3_Data_Lake.yaml, projection.dt.range "2020-01-01,NOW+1DAYS";
# a test holds the two equal). Athena projects no partition outside that range, so a row dated outside it would be
# written and never read: such events are refused instead, and land under the error prefix where a person sees them.
PARTITION_RANGE_START = "2020-01-01"
EARLIEST_MS = int(datetime.fromisoformat(PARTITION_RANGE_START).replace(tzinfo=UTC).timestamp() * 1000)


def is_test_event(record: dict[str, Any]) -> bool:
    """Pinpoint sends ``_test.event_stream`` when a stream is attached; it is not an engagement event."""
    event_type = record.get("event_type")
    return isinstance(event_type, str) and event_type.startswith(TEST_EVENT_PREFIX)


def to_row(record: dict[str, Any], original: bytes, arrival_ms: int | None = None) -> dict[str, Any]:
    """The table row for one source record. ``original`` is the record as delivered (for a stable event id);
    ``arrival_ms`` is when Firehose received it (now, when not given)."""
    if "event_type" in record:
        row = from_pinpoint(record, arrival_ms)
    elif "eventType" in record and "mail" in record:
        row = from_ses(record)
    elif "eventType" in record and "destinationPhoneNumber" in record:
        row = from_sms(record)
    else:
        raise BadEvent("neither a Pinpoint, an SES nor an End User Messaging SMS event")
    received_ms = arrival_ms if arrival_ms is not None else int(time.time() * 1000)
    # The projection ends at NOW+1DAYS, evaluated when a query runs (always after this): the last day it covers is
    # never earlier than the day after arrival. A day of slack for senders' clocks; beyond it, no partition.
    if not EARLIEST_MS <= row["event_timestamp"] < _midnight_after(received_ms + DAY_MS):
        raise BadEvent(f"{row['source_event_type']} event timestamp {row['event_timestamp']} is outside the table's "
                       f"partitions ({PARTITION_RANGE_START} to the day after arrival): Athena would never read it")
    if row.get("arrival_timestamp") is None:  # Pinpoint reports its own arrival; otherwise Firehose's
        row["arrival_timestamp"] = arrival_ms
    # Firehose delivers at least once: a record delivered twice keeps one id, so duplicates can be told apart.
    row["event_id"] = hashlib.sha256(original).hexdigest()[:32]
    # Every column, NULL unless set; text columns hold text (a source value of another type is NULL, not a
    # row Firehose cannot convert). Numbers, lists and maps are built by the typed helpers below.
    conformed = dict.fromkeys(COLUMNS)
    for column, value in row.items():
        if column in conformed and (column in TYPED_COLUMNS or isinstance(value, str)):
            conformed[column] = value
    return conformed


def event_date(row: dict[str, Any]) -> str:
    """The partition an event belongs to: its UTC date, ``yyyy-MM-dd``."""
    return datetime.fromtimestamp(row["event_timestamp"] / 1000, tz=UTC).strftime("%Y-%m-%d")


def _midnight_after(ms: int) -> int:
    return (ms // DAY_MS + 1) * DAY_MS


def from_pinpoint(record: dict[str, Any], firehose_arrival_ms: int | None) -> dict[str, Any]:
    event = pinpoint_events.parse_record(record)
    attributes = _strings(record.get("attributes"))
    mail_event = _object(dig(record, "facets", "email_channel", "mail_event"))
    mail = _object(mail_event.get("mail"))
    arrival = _int(record.get("arrival_timestamp"))
    occurred = event.event_timestamp_ms
    # Pinpoint's email events carry the message's send time as event_timestamp ("The time when the message was
    # sent ... typically the same for all the events that are generated for a message"); arrival_timestamp is
    # "The time when the event was received by Amazon Pinpoint" (Pinpoint Developer Guide, Email events). So an
    # open, click, delivery or bounce happened when Pinpoint received it; only the send happened at the send time.
    if event.event_type.startswith("_email.") and event.event_type != "_email.send":
        occurred = next((ms for ms in (arrival, firehose_arrival_ms) if ms is not None), occurred)
    row: dict[str, Any] = {
        "event_source": "pinpoint",
        "event_type": event.event_type,
        "source_event_type": event.event_type,
        "event_timestamp": occurred,
        "arrival_timestamp": arrival,
        "application_id": event.application_id or None,
        "endpoint_id": event.endpoint_id or None,
        "campaign_id": attributes.get("campaign_id"),
        "campaign_activity_id": attributes.get("campaign_activity_id"),
        "treatment_id": attributes.get("treatment_id"),
        "journey_id": attributes.get("journey_id"),
        "journey_activity_id": attributes.get("journey_activity_id"),
        "journey_run_id": attributes.get("journey_run_id"),
        "attributes": attributes or None,
        "metrics": _numbers(record.get("metrics")),
    }
    if mail:
        row.update(_pinpoint_email(event.event_type, mail_event, mail))
    if event.event_type.startswith("_SMS."):
        price_millicents = _float(_object(record.get("metrics")).get("price_in_millicents_usd"))
        row.update({
            "message_id": attributes.get("message_id"),
            "origination_number": attributes.get("origination_phone_number"),
            "destination_number": attributes.get("destination_phone_number"),
            "iso_country_code": attributes.get("iso_country_code"),
            "record_status": attributes.get("record_status"),
            "message_type": attributes.get("message_type"),
            "message_parts": _int(attributes.get("number_of_message_parts"), INT_MAX),
            "price_usd": None if price_millicents is None else price_millicents / MILLICENTS_PER_USD,
        })
    return row


def _pinpoint_email(event_type: str, mail_event: dict[str, Any], mail: dict[str, Any]) -> dict[str, Any]:
    destinations = _string_list(mail.get("destination"))
    row: dict[str, Any] = {
        "message_id": mail.get("message_id"),
        "from_address": _bare_address(mail.get("from_address")),
        "destinations": destinations,
        "subject": dig(mail, "common_headers", "subject"),
        "recipients": destinations,
    }
    if event_type in ("_email.hardbounce", "_email.softbounce"):
        bounce = _object(mail_event.get("bounce"))
        row.update(_recipient_entries(bounce.get("bounced_recipients"), "email_address", "status", "action",
                                      "diagnostic_code"))
        row.update(bounce_type=bounce.get("bounce_type"), bounce_subtype=bounce.get("bounce_sub_type"))
    elif event_type == "_email.complaint":
        complaint = _object(mail_event.get("complaint"))
        row.update(_recipient_entries(complaint.get("complained_recipients"), "email_address"))
        row["complaint_feedback_type"] = complaint.get("complaint_feedback_type")
    elif event_type == "_email.delivered":
        row["recipients"] = _string_list(dig(mail_event, "delivery", "recipients")) or destinations
    activity = _object(mail_event.get("click")) or _object(mail_event.get("open"))
    row.update(link=activity.get("link"), user_agent=activity.get("user_agent"),
               ip_address=activity.get("ip_address"))
    return row


def from_ses(record: dict[str, Any]) -> dict[str, Any]:
    event = ses_events.parse_notification(record)
    mail = record["mail"]
    source_type = event.type.value
    if event.type is ses_events.SesEventType.BOUNCE:
        event_type = "_email.hardbounce" if event.bounce_type == "Permanent" else "_email.softbounce"
    elif source_type in SES_EVENT_TYPES:
        event_type = SES_EVENT_TYPES[source_type]
    else:
        raise BadEvent(f"SES {source_type} is not an event a configuration set publishes")
    detail_key = {"Rendering Failure": "failure", "DeliveryDelay": "deliveryDelay"}.get(source_type,
                                                                                       source_type.lower())
    detail = _object(record.get(detail_key))
    destinations = _string_list(mail.get("destination"))
    tags = _object(mail.get("tags"))
    row: dict[str, Any] = {
        "event_source": "ses",
        "event_type": event_type,
        "source_event_type": source_type,
        "event_timestamp": epoch_ms(detail.get("timestamp") or mail.get("timestamp"), f"SES {source_type}"),
        "message_id": mail.get("messageId"),
        # SES may give "Sender Name <sender@example.com>" (the event publishing examples do); Pinpoint a bare address.
        "from_address": _bare_address(mail.get("source")),
        "destinations": destinations,
        "subject": dig(mail, "commonHeaders", "subject"),
        "recipients": destinations,
        # SES tags are lists of values; the first one is what a message tag carries.
        "attributes": {name: values[0] for name, values in tags.items()
                       if isinstance(values, list) and values and isinstance(values[0], str)} or None,
        "link": detail.get("link"),
        "user_agent": detail.get("userAgent"),
        "ip_address": detail.get("ipAddress"),
        "reject_reason": detail.get("reason") if source_type == "Reject" else None,
        "template_name": detail.get("templateName"),
        "error_message": detail.get("errorMessage"),
        "delay_type": detail.get("delayType"),
        "bounce_type": event.bounce_type,
        "bounce_subtype": event.bounce_subtype,
        "complaint_feedback_type": event.complaint_feedback_type,
    }
    named = {"Bounce": "bouncedRecipients", "Complaint": "complainedRecipients",
             "DeliveryDelay": "delayedRecipients"}.get(source_type)
    if named:
        row.update(_recipient_entries(detail.get(named), "emailAddress", "status", "action", "diagnosticCode"))
    elif source_type == "Delivery":
        row["recipients"] = _string_list(detail.get("recipients")) or destinations
    # The Pinpoint ids, when the message was sent through Pinpoint and SES tagged it with them.
    for column in ("campaign_id", "treatment_id", "journey_id", "application_id"):
        row[column] = (row["attributes"] or {}).get(column)
    return row


def from_sms(record: dict[str, Any]) -> dict[str, Any]:
    source_type = record.get("eventType")
    if not isinstance(source_type, str) or not source_type:
        raise BadEvent("SMS event has no eventType")
    status = record.get("messageStatus") if isinstance(record.get("messageStatus"), str) else None
    if source_type in SMS_PENDING:
        event_type = "_SMS.BUFFERED"
    elif source_type in SMS_SUCCESS:
        event_type = "_SMS.SUCCESS"
    elif status in SMS_OPT_OUT_STATUSES:
        event_type = "_SMS.OPTOUT"
    elif source_type.startswith("TEXT_"):
        event_type = "_SMS.FAILURE"
    else:  # voice and MMS events of the same configuration set: kept, under their own name
        event_type = source_type
    destination = record.get("destinationPhoneNumber")
    return {
        "event_source": "sms",
        "event_type": event_type,
        "source_event_type": source_type,
        "event_timestamp": _required_ms(record.get("eventTimestamp"), f"SMS {source_type}"),
        "message_id": record.get("messageId"),
        "origination_number": record.get("originationPhoneNumber"),
        "destination_number": destination,
        "destinations": [destination] if isinstance(destination, str) else None,
        "iso_country_code": record.get("isoCountryCode"),
        "record_status": status,
        "status_description": record.get("messageStatusDescription"),
        "message_type": record.get("messageType"),
        "message_parts": _int(record.get("totalMessageParts"), INT_MAX),
        "price_usd": _float(record.get("totalMessagePrice")),
        "context": _strings(record.get("context")) or None,
    }


def _recipient_entries(entries: Any, address_key: str, *detail_keys: str) -> dict[str, Any]:
    """``recipients`` and, where the source gives them, each recipient's status, action and diagnostic code."""
    if not isinstance(entries, list) or not entries:
        return {}
    recipients, details = [], {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get(address_key), str):
            continue
        address = entry[address_key]
        recipients.append(address)
        if detail_keys:
            status_key, action_key, code_key = detail_keys
            details[address] = {"status": _string(entry.get(status_key)), "action": _string(entry.get(action_key)),
                                "diagnostic_code": _string(entry.get(code_key))}
    if not recipients:  # nobody named after all: the message's destinations stand
        return {}
    return {"recipients": recipients, "recipient_details": details or None}


def epoch_ms(timestamp: Any, what: str) -> int:
    if not isinstance(timestamp, str) or not timestamp:
        raise BadEvent(f"{what} event has no timestamp")
    try:
        parsed = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(f"{what} event timestamp is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _required_ms(value: Any, what: str) -> int:
    number = _int(value)
    if number is None:
        raise BadEvent(f"{what} event has no numeric timestamp")
    return number


def _int(value: Any, limit: int = 2**63 - 1) -> int | None:
    """A whole number within ``limit`` (the column's range), or None: Parquet conversion would refuse more."""
    number = _float(value)
    return None if number is None or abs(number) > limit else int(number)


def _float(value: Any) -> float | None:
    """A finite number, or None: NaN and infinity (which Python's JSON reader accepts) are not valid JSON out."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bare_address(value: Any) -> str | None:
    """The address alone, as written, from ``Name <address>`` or a bare address; None when there is none."""
    if not isinstance(value, str):
        return None
    _name, address = parseaddr(value)
    return address or None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _object(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one when the source sent something else in its place."""
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items() if v is not None}


def _numbers(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    numbers = {str(k): _float(v) for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {k: v for k, v in numbers.items() if v is not None} or None


def _string_list(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [v for v in value if isinstance(v, str)] or None

