import copy
import json
from pathlib import Path

import pytest

from due import ses_events
from due.email_feedback import FeedbackKind
from due.events import BadEvent
from due.ses_events import SesEventType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ses_event_processing"


def sample(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def envelope(message: dict) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                       "Message": json.dumps(message)})


def test_identity_notification_bounce_inside_sns_envelope():
    event = ses_events.parse(envelope(sample("permanent_bounce.json")))
    assert event.type is SesEventType.BOUNCE
    assert event.recipients == ("no-such-user@example.com",)
    assert event.bounce_type == "Permanent"
    feedback = event.feedback()
    assert feedback.kind is FeedbackKind.HARD_BOUNCE
    assert feedback.event_id == "0100019a0c1b2c3d-6d1e8a1b-1c2d-4e5f-8a9b-0c1d2e3f4a5b-000000"
    assert feedback.occurred_at == "2026-11-20T10:15:02.669Z"


def test_configuration_set_complaint_raw_and_address_lower_cased():
    event = ses_events.parse(json.dumps(sample("complaint.json")))
    assert event.type is SesEventType.COMPLAINT
    assert event.recipients == ("annoyed.reader@example.net",)
    assert event.feedback().kind is FeedbackKind.COMPLAINT
    assert event.feedback().detail == "abuse"


@pytest.mark.parametrize(("bounce_type", "kind"), [
    ("Permanent", FeedbackKind.HARD_BOUNCE),
    ("Transient", FeedbackKind.SOFT_BOUNCE),
    ("Undetermined", FeedbackKind.SOFT_BOUNCE),
])
def test_bounce_types(bounce_type, kind):
    message = sample("permanent_bounce.json")
    message["bounce"]["bounceType"] = bounce_type
    assert ses_events.parse(json.dumps(message)).feedback().kind is kind


@pytest.mark.parametrize("type_name", ["Send", "Reject", "Open", "Click", "Rendering Failure", "Subscription",
                                       "Received"])
def test_other_event_types_parse_and_have_no_feedback(type_name):
    message = {"eventType": type_name, "mail": {"messageId": "m-2", "destination": ["a@example.com"]}}
    event = ses_events.parse(json.dumps(message))
    assert event.type.value == type_name
    assert event.recipients == ("a@example.com",)
    assert event.feedback() is None


def test_delivery_and_delay_name_their_recipients():
    delivery = ses_events.parse(json.dumps(sample("delivery.json")))
    assert delivery.recipients == ("happy.reader@example.com",)
    delay = {"eventType": "DeliveryDelay",
             "mail": {"messageId": "m", "destination": ["a@example.com", "b@example.com"]},
             "deliveryDelay": {"delayType": "MailboxFull", "delayedRecipients": [{"emailAddress": "B@example.com"}]}}
    assert ses_events.parse(json.dumps(delay)).recipients == ("b@example.com",)


def test_subscription_confirmation_from_ses_is_accepted():
    event = ses_events.parse(json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded",
                                         "message": "You have successfully subscribed"}))
    assert event.type is SesEventType.SUBSCRIPTION_SUCCEEDED
    assert event.feedback() is None


def test_feedback_without_feedback_id_uses_type_and_message_id():
    message = sample("permanent_bounce.json")
    del message["bounce"]["feedbackId"]
    assert ses_events.parse(json.dumps(message)).feedback().event_id.startswith("Bounce:0100019a0c1b2a00")


def _without(path: list[str]) -> str:
    message = copy.deepcopy(sample("permanent_bounce.json"))
    target = message
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return json.dumps(message)


@pytest.mark.parametrize(("body", "error"), [
    ("not json at all", "message body is not JSON"),
    ("[1, 2]", "not an object"),
    (json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t"}), "SNS envelope has no Message"),
    (json.dumps({"Type": "Notification", "Message": "{broken"}), "SNS Message is not JSON"),
    (json.dumps({"hello": "world"}), "neither eventType nor notificationType"),
    (json.dumps({"eventType": "Teleport", "mail": {"messageId": "m"}}), "unknown SES event type 'Teleport'"),
    (_without(["bounce", "bouncedRecipients"]), "has no bouncedRecipients"),
    (_without(["bounce"]), "has no 'bounce' object"),
    (_without(["mail"]), "has no mail.messageId"),
    (json.dumps({"eventType": "Complaint", "mail": {"messageId": "m"}, "complaint": {"complainedRecipients": []}}),
     "has no complainedRecipients"),
    (json.dumps({"eventType": "Bounce", "mail": {"messageId": "m"},
                 "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "not-an-address"}]}}),
     "not an email address"),
])
def test_bad_input_is_a_bad_event_saying_what_is_wrong(body, error):
    with pytest.raises(BadEvent, match=error):
        ses_events.parse(body)


@pytest.mark.parametrize(("feedback_type", "sub_type", "kind"), [
    ("abuse", None, FeedbackKind.COMPLAINT),
    ("fraud", None, FeedbackKind.COMPLAINT),
    ("virus", None, FeedbackKind.COMPLAINT),
    ("other", None, FeedbackKind.COMPLAINT),
    (None, None, FeedbackKind.COMPLAINT),  # no feedback report: still the recipient's complaint
    ("some-future-type", None, FeedbackKind.COMPLAINT),
    ("Abuse", None, FeedbackKind.COMPLAINT),
    ("not-spam", None, FeedbackKind.NOT_SPAM),
    ("auth-failure", None, FeedbackKind.AUTH_FAILURE_REPORT),
    ("abuse", "OnAccountSuppressionList", FeedbackKind.ON_SUPPRESSION_LIST),
    (None, "OnAccountSuppressionList", FeedbackKind.ON_SUPPRESSION_LIST),
])
def test_complaint_feedback_types_and_sub_types(feedback_type, sub_type, kind):
    notification = sample("complaint.json")
    notification["complaint"].pop("complaintFeedbackType", None)
    if feedback_type:
        notification["complaint"]["complaintFeedbackType"] = feedback_type
    if sub_type:
        notification["complaint"]["complaintSubType"] = sub_type
    feedback = ses_events.parse(json.dumps(notification)).feedback()
    assert feedback.kind is kind
    assert feedback.detail == "/".join(filter(None, (feedback_type, sub_type)))


@pytest.mark.parametrize(("bounce_type", "sub_type", "kind"), [
    ("Permanent", "General", FeedbackKind.HARD_BOUNCE),
    ("Permanent", "Suppressed", FeedbackKind.HARD_BOUNCE),  # SES's global list: ours gets it too
    ("Permanent", "OnAccountSuppressionList", FeedbackKind.ON_SUPPRESSION_LIST),
    ("Transient", "MailboxFull", FeedbackKind.SOFT_BOUNCE),
    ("Undetermined", "Undetermined", FeedbackKind.SOFT_BOUNCE),
])
def test_bounce_types_and_the_account_suppression_list_sub_type(bounce_type, sub_type, kind):
    notification = sample("permanent_bounce.json")
    notification["bounce"].update(bounceType=bounce_type, bounceSubType=sub_type)
    assert ses_events.parse(json.dumps(notification)).feedback().kind is kind
