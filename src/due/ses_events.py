"""Amazon SES notifications, in both formats SES publishes.

* Identity feedback notifications carry ``notificationType``
  (Bounce, Complaint, Delivery, Received, AmazonSnsSubscriptionSucceeded).
* Configuration-set event publishing carries ``eventType`` (Bounce, Complaint,
  Delivery, Send, Reject, Open, Click, Rendering Failure, DeliveryDelay,
  Subscription).

The body is the same for both apart from that key, so one parser serves both.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from due.email_feedback import EmailFeedback, FeedbackKind
from due.events import BadEvent, dig, load_json_object, unwrap_sns

# SES notification contents (SES Developer Guide, "Amazon SNS notification contents for Amazon SES"):
# complaintFeedbackType is the Feedback-Type of the ISP's feedback report, one of the values IANA
# registers (abuse, auth-failure, fraud, not-spam, other, virus), and absent when the ISP sent no report.
# A complaint without a report, or with a type not listed here, is a complaint.
COMPLAINT_KIND_BY_FEEDBACK_TYPE = {
    "abuse": FeedbackKind.COMPLAINT,  # unsolicited email or other abuse
    "fraud": FeedbackKind.COMPLAINT,  # fraud or phishing
    "virus": FeedbackKind.COMPLAINT,  # a virus found in the message
    "other": FeedbackKind.COMPLAINT,  # any other complaint
    "not-spam": FeedbackKind.NOT_SPAM,
    "auth-failure": FeedbackKind.AUTH_FAILURE_REPORT,
}
# complaintSubType (SES API v2 Complaint; same field in notifications) and bounceSubType of a Permanent
# bounce: SES accepted the message but did not send it, the address being on the account-level
# suppression list.
ON_ACCOUNT_SUPPRESSION_LIST = "OnAccountSuppressionList"


def complaint_kind(feedback_type: str | None, sub_type: str | None) -> FeedbackKind:
    if sub_type == ON_ACCOUNT_SUPPRESSION_LIST:
        return FeedbackKind.ON_SUPPRESSION_LIST
    return COMPLAINT_KIND_BY_FEEDBACK_TYPE.get((feedback_type or "").strip().lower(), FeedbackKind.COMPLAINT)


class SesEventType(enum.StrEnum):
    BOUNCE = "Bounce"
    COMPLAINT = "Complaint"
    DELIVERY = "Delivery"
    SEND = "Send"
    REJECT = "Reject"
    OPEN = "Open"
    CLICK = "Click"
    RENDERING_FAILURE = "Rendering Failure"
    DELIVERY_DELAY = "DeliveryDelay"
    SUBSCRIPTION = "Subscription"
    RECEIVED = "Received"
    # Sent once when a topic is first attached to an identity.
    SUBSCRIPTION_SUCCEEDED = "AmazonSnsSubscriptionSucceeded"


@dataclass(frozen=True)
class SesEvent:
    type: SesEventType
    message_id: str
    timestamp: str
    # The recipients this event is about: bounced, complained, delivered or
    # delayed recipients where SES names them, else the message's destination.
    recipients: tuple[str, ...]
    bounce_type: str | None = None  # Permanent, Transient, Undetermined
    bounce_subtype: str | None = None
    feedback_id: str | None = None
    complaint_feedback_type: str | None = None
    complaint_sub_type: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def feedback(self) -> EmailFeedback | None:
        """The reputation meaning of this event, or None when it has none."""
        if self.type is SesEventType.BOUNCE:
            # Undetermined bounces are treated like transient ones: counted, not suppressed.
            kind = FeedbackKind.HARD_BOUNCE if self.bounce_type == "Permanent" else FeedbackKind.SOFT_BOUNCE
            if self.bounce_subtype == ON_ACCOUNT_SUPPRESSION_LIST:
                kind = FeedbackKind.ON_SUPPRESSION_LIST
            detail = f"{self.bounce_type}/{self.bounce_subtype}"
        elif self.type is SesEventType.COMPLAINT:
            kind = complaint_kind(self.complaint_feedback_type, self.complaint_sub_type)
            detail = "/".join(filter(None, (self.complaint_feedback_type, self.complaint_sub_type)))
        else:
            return None
        return EmailFeedback(
            kind=kind,
            addresses=self.recipients,
            event_id=self.feedback_id or f"{self.type.value}:{self.message_id}",
            occurred_at=self.timestamp,
            message_id=self.message_id,
            detail=detail,
        )


def parse(body: str | bytes) -> SesEvent:
    """Parse an SQS message body (SNS envelope or raw) holding an SES notification."""
    return parse_notification(unwrap_sns(load_json_object(body, "message body")))


def parse_notification(notification: dict[str, Any]) -> SesEvent:
    type_name = notification.get("eventType") or notification.get("notificationType")
    if not type_name:
        raise BadEvent("not an SES notification: neither eventType nor notificationType is set")
    try:
        event_type = SesEventType(type_name)
    except ValueError:
        raise BadEvent(f"unknown SES event type {type_name!r}") from None
    if event_type is SesEventType.SUBSCRIPTION_SUCCEEDED:
        return SesEvent(type=event_type, message_id="", timestamp="", recipients=(), raw=notification)

    mail = notification.get("mail")
    if not isinstance(mail, dict) or not mail.get("messageId"):
        raise BadEvent(f"SES {type_name} notification has no mail.messageId")
    destination = tuple(_addresses(mail.get("destination") or [], "mail.destination"))

    if event_type is SesEventType.BOUNCE:
        bounce = _section(notification, "bounce", type_name)
        recipients = _recipient_list(bounce, "bouncedRecipients", type_name)
        return SesEvent(
            type=event_type,
            message_id=mail["messageId"],
            timestamp=bounce.get("timestamp") or mail.get("timestamp", ""),
            recipients=recipients,
            bounce_type=bounce.get("bounceType"),
            bounce_subtype=bounce.get("bounceSubType"),
            feedback_id=bounce.get("feedbackId"),
            raw=notification,
        )
    if event_type is SesEventType.COMPLAINT:
        complaint = _section(notification, "complaint", type_name)
        recipients = _recipient_list(complaint, "complainedRecipients", type_name)
        return SesEvent(
            type=event_type,
            message_id=mail["messageId"],
            timestamp=complaint.get("timestamp") or mail.get("timestamp", ""),
            recipients=recipients,
            feedback_id=complaint.get("feedbackId"),
            complaint_feedback_type=complaint.get("complaintFeedbackType"),
            complaint_sub_type=complaint.get("complaintSubType"),
            raw=notification,
        )
    return SesEvent(
        type=event_type,
        message_id=mail["messageId"],
        timestamp=mail.get("timestamp", ""),
        recipients=_named_recipients(notification, event_type) or destination,
        raw=notification,
    )


def normalise_address(address: str) -> str:
    """Addresses are compared and stored lower-cased and trimmed."""
    return address.strip().lower()


def _section(notification: dict[str, Any], key: str, type_name: str) -> dict[str, Any]:
    section = notification.get(key)
    if not isinstance(section, dict):
        raise BadEvent(f"SES {type_name} notification has no {key!r} object")
    return section


def _recipient_list(section: dict[str, Any], key: str, type_name: str) -> tuple[str, ...]:
    entries = section.get(key)
    if not isinstance(entries, list) or not entries:
        raise BadEvent(f"SES {type_name} notification has no {key}")
    addresses = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("emailAddress"), str):
            raise BadEvent(f"SES {type_name} notification has a {key} entry without emailAddress")
        addresses.append(entry["emailAddress"])
    return tuple(_addresses(addresses, key))


def _named_recipients(notification: dict[str, Any], event_type: SesEventType) -> tuple[str, ...]:
    if event_type is SesEventType.DELIVERY:
        return tuple(_addresses(dig(notification, "delivery", "recipients") or [], "delivery.recipients"))
    if event_type is SesEventType.DELIVERY_DELAY:
        delayed = dig(notification, "deliveryDelay", "delayedRecipients") or []
        if not isinstance(delayed, list):
            raise BadEvent("deliveryDelay.delayedRecipients is not a list")
        addresses = [d.get("emailAddress", "") for d in delayed if isinstance(d, dict)]
        return tuple(_addresses(addresses, "delayedRecipients"))
    return ()


def _addresses(values: Any, where: str) -> list[str]:
    if not isinstance(values, list):
        raise BadEvent(f"{where} is not a list")
    result = []
    for value in values:
        if not isinstance(value, str) or "@" not in value:
            raise BadEvent(f"{where} holds something that is not an email address")
        result.append(normalise_address(value))
    return result
