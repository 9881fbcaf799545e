import json
from pathlib import Path

import pytest

from due import pinpoint_events
from due.email_feedback import FeedbackKind
from due.events import BadEvent

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pinpoint_event_processing"


def sample(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_hard_bounce_becomes_feedback_for_the_destination():
    event = pinpoint_events.parse(json.dumps(sample("hardbounce.json")))
    assert event.endpoint_id == "endpoint-0001"
    feedback = event.feedback()
    assert feedback.kind is FeedbackKind.HARD_BOUNCE
    assert feedback.addresses == ("gone.away@example.com",)
    assert feedback.event_id == "_email.hardbounce:0100019a0c1b2a10-51111111-2222-3333-4444-555555555555-000000"
    assert feedback.occurred_at == "2025-11-20T12:00:00.000Z"


@pytest.mark.parametrize(("event_type", "kind"), [
    ("_email.softbounce", FeedbackKind.SOFT_BOUNCE),
    ("_email.complaint", FeedbackKind.COMPLAINT),
])
def test_soft_bounce_and_complaint(event_type, kind):
    record = sample("hardbounce.json")
    record["event_type"] = event_type
    assert pinpoint_events.parse(json.dumps(record)).feedback().kind is kind


def test_named_recipients_win_over_destination():
    record = sample("hardbounce.json")
    mail_event = record["facets"]["email_channel"]["mail_event"]
    mail_event["mail"]["destination"] = ["a@example.com", "b@example.com"]
    mail_event["bounce"] = {"bounced_recipients": [{"email_address": "B@example.com"}]}
    assert pinpoint_events.parse(json.dumps(record)).feedback().addresses == ("b@example.com",)


@pytest.mark.parametrize("event_type", ["_email.open", "_email.delivered", "_sms.success", "_campaign.send",
                                        "webinar.registration"])
def test_other_events_have_no_feedback(event_type):
    record = sample("open.json")
    record["event_type"] = event_type
    assert pinpoint_events.parse(json.dumps(record)).feedback() is None


@pytest.mark.parametrize(("mutate", "error"), [
    (lambda r: r.pop("event_type"), "no event_type"),
    (lambda r: r.update(event_timestamp="yesterday"), "no numeric event_timestamp"),
    (lambda r: r.pop("facets"), "no facets.email_channel.mail_event.mail.message_id"),
    (lambda r: r["facets"]["email_channel"]["mail_event"]["mail"].update(destination=[]), "names no recipient"),
])
def test_bad_records(mutate, error):
    record = sample("hardbounce.json")
    mutate(record)
    with pytest.raises(BadEvent, match=error):
        pinpoint_events.parse(json.dumps(record)).feedback()


def test_not_json():
    with pytest.raises(BadEvent, match="Pinpoint event is not JSON"):
        pinpoint_events.parse(b"\x00\x01")


@pytest.mark.parametrize(("complaint", "kind"), [
    (None, FeedbackKind.COMPLAINT),  # what Pinpoint documents: no complaint detail
    ({"complaint_feedback_type": "abuse"}, FeedbackKind.COMPLAINT),
    ({"complaint_feedback_type": "not-spam"}, FeedbackKind.NOT_SPAM),
    ({"complaint_feedback_type": "auth-failure"}, FeedbackKind.AUTH_FAILURE_REPORT),
    ({"complaint_sub_type": "OnAccountSuppressionList"}, FeedbackKind.ON_SUPPRESSION_LIST),
])
def test_complaint_detail_passed_through_means_what_it_means_in_ses(complaint, kind):
    record = sample("complaint.json")
    if complaint:
        record["facets"]["email_channel"]["mail_event"]["complaint"] = complaint
    feedback = pinpoint_events.parse_record(record).feedback()
    assert feedback.kind is kind
    assert feedback.addresses == ("not.interested@example.net",)
