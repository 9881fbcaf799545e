"""Amazon Pinpoint event stream records (Kinesis), as far as email reputation needs them.

A Pinpoint stream carries every event of a project (SMS, push, campaign,
custom events ...). Only ``_email.hardbounce``, ``_email.softbounce`` and
``_email.complaint`` mean something for reputation; the rest parse fine and
have no feedback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from due.email_feedback import EmailFeedback, FeedbackKind
from due.events import BadEvent, dig, load_json_object
from due.ses_events import complaint_kind, normalise_address

FEEDBACK_BY_EVENT_TYPE = {
    "_email.hardbounce": FeedbackKind.HARD_BOUNCE,
    "_email.softbounce": FeedbackKind.SOFT_BOUNCE,
    "_email.complaint": FeedbackKind.COMPLAINT,
}


@dataclass(frozen=True)
class PinpointEvent:
    event_type: str
    event_timestamp_ms: int
    application_id: str
    endpoint_id: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def feedback(self) -> EmailFeedback | None:
        kind = FEEDBACK_BY_EVENT_TYPE.get(self.event_type)
        if kind is None:
            return None
        mail_event = dig(self.raw, "facets", "email_channel", "mail_event")
        mail = mail_event.get("mail") if isinstance(mail_event, dict) else None
        if not isinstance(mail, dict) or not mail.get("message_id"):
            raise BadEvent(f"{self.event_type} event has no facets.email_channel.mail_event.mail.message_id")
        addresses = _affected_addresses(mail_event, mail)
        if not addresses:
            raise BadEvent(f"{self.event_type} event names no recipient address")
        detail = self.event_type
        if kind is FeedbackKind.COMPLAINT:
            # Pinpoint documents no complaint type; where a record passes SES's complaint detail
            # through (snake-cased, like the recipients below), it means what it means in SES.
            complaint = dig(mail_event, "complaint")
            complaint = complaint if isinstance(complaint, dict) else {}
            feedback_type, sub_type = complaint.get("complaint_feedback_type"), complaint.get("complaint_sub_type")
            kind = complaint_kind(feedback_type, sub_type)
            detail = "/".join(filter(None, (self.event_type, feedback_type, sub_type)))
        occurred = datetime.fromtimestamp(self.event_timestamp_ms / 1000, tz=UTC)
        return EmailFeedback(
            kind=kind,
            addresses=addresses,
            # Pinpoint events carry no SES feedback id; type + message id is unique per notification.
            event_id=f"{self.event_type}:{mail['message_id']}",
            occurred_at=occurred.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            message_id=mail["message_id"],
            detail=detail,
        )


def parse(data: str | bytes) -> PinpointEvent:
    return parse_record(load_json_object(data, "Pinpoint event"))


def parse_record(record: dict[str, Any]) -> PinpointEvent:
    event_type = record.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise BadEvent("Pinpoint event has no event_type")
    timestamp = record.get("event_timestamp")
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool) or not math.isfinite(timestamp):
        raise BadEvent(f"{event_type} event has no numeric event_timestamp")
    return PinpointEvent(
        event_type=event_type,
        event_timestamp_ms=int(timestamp),
        application_id=str(dig(record, "application", "app_id") or ""),
        endpoint_id=str(dig(record, "client", "client_id") or ""),
        raw=record,
    )


def _affected_addresses(mail_event: dict[str, Any], mail: dict[str, Any]) -> tuple[str, ...]:
    # When Pinpoint passes SES's bounce/complaint detail through, it names the
    # affected recipients; otherwise every destination of the message is affected.
    for section, key in (("bounce", "bounced_recipients"), ("complaint", "complained_recipients")):
        named = dig(mail_event, section, key)
        if isinstance(named, list) and named:
            return tuple(
                normalise_address(r["email_address"]) for r in named if isinstance(r, dict) and r.get("email_address")
            )
    destination = mail.get("destination") or []
    return tuple(normalise_address(a) for a in destination if isinstance(a, str) and "@" in a)

