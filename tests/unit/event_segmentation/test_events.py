"""Each source's records become one event shape; AWS's published examples go through the same functions."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from due.event_segmentation import events
from due.event_segmentation.events import EngagementEvent, Person
from due.events import BadEvent

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "aws-examples"


def example(name: str) -> dict:
    if not EXAMPLES.is_dir():
        pytest.skip(f"AWS example payloads not present at {EXAMPLES} (a clone without ../shared)")
    return json.loads((EXAMPLES / name).read_text())


# --- AWS's examples (values read by hand from the files) ---------------------------------------------------

def test_ses_open_example_is_the_recipients_email_open_at_the_time_of_the_open():
    [event] = events.normalise(example("ses_event_publishing/open.json"))
    assert event.event_type == "_email.open"
    assert event.person == Person(email="recipient@example.com")
    assert event.timestamp == "2017-08-09T22:00:19.652Z"  # open.timestamp, not mail.timestamp
    assert event.attributes["myCustomTag1"] == "myCustomValue1"


def test_ses_click_example_carries_the_link():
    [event] = events.normalise(example("ses_event_publishing/click.json"))
    assert event.event_type == "_email.click"
    assert event.detail["link"] == "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html"


def test_ses_bounce_example_is_a_hard_bounce_of_the_bounced_recipient():
    [event] = events.normalise(example("ses_event_publishing/bounce.json"))
    assert (event.event_type, event.person.email) == ("_email.hardbounce", "recipient@example.com")
    assert event.detail["bounce_type"] == "Permanent"


def test_sms_v2_example_is_an_sms_success_for_the_destination_number():
    [event] = events.normalise(example("sms_events/text_successful_end_user_messaging_userguide.json"))
    assert event == EngagementEvent(
        "_SMS.SUCCESS", Person(phone="+14255550156"), "2023-06-17T04:11:43.470Z", {"account": "bar"},
        {"message_id": "862a8790-60c0-4430-9b2b-658bdexample", "record_status": "SUCCESSFUL",
         "message_type": "PROMOTIONAL"})


def test_pinpoint_email_open_example_names_the_endpoint_and_its_address():
    [event] = events.normalise(example("pinpoint_events/email_open.json"))
    assert event.event_type == "_email.open"
    assert event.person == Person(email="recipient@example.com", endpoint_id="8dc1f651-b3ec-46fc-9b67-2a050example")
    assert event.attributes == {"feedback": "opened"}


def test_pinpoint_sms_example_names_the_endpoint_and_number():
    [event] = events.normalise(example("pinpoint_events/sms_success.json"))
    assert (event.event_type, event.person.phone, event.person.endpoint_id) == (
        "_SMS.SUCCESS", "+14255550199", "123456789012")


def test_ses_example_inside_the_sns_envelope_is_read_the_same():
    record = example("ses_event_publishing/open.json")
    envelope = example("_envelopes/sns_to_sqs_body_raw_delivery_disabled.json")
    body = json.dumps(dict(envelope, Message=json.dumps(record)))
    assert events.normalise_json(body) == events.normalise(record)


# --- SES records with several recipients --------------------------------------------------------------------

def ses_open(*destinations: str) -> dict:
    return {"eventType": "Open", "mail": {"messageId": "m1", "timestamp": "2024-05-01T10:00:00.000Z",
                                          "destination": list(destinations)},
            "open": {"timestamp": "2024-05-01T10:05:00.000Z"}}


def test_an_open_of_a_message_sent_to_several_people_names_nobody():
    [event] = events.normalise(ses_open("a@example.com", "b@example.com"))
    assert event.person == Person()


def test_a_send_to_several_people_is_one_event_each():
    record = ses_open("A@Example.com", "b@example.com")
    record["eventType"], record["send"] = "Send", {}
    del record["open"]
    assert [event.person.email for event in events.normalise(record)] == ["a@example.com", "b@example.com"]


# --- the application's own events --------------------------------------------------------------------------

def app_event(**overrides) -> dict:
    record = {"event_type": "webinar.registration", "person": {"email": "Ana@Example.com"},
              "attributes": {"webinar_id": "webinar5"}, "timestamp": "2024-05-01T10:00:00Z"}
    record.update(overrides)
    return record


def test_application_event_is_read_with_its_person_and_attributes():
    [event] = events.normalise_json(json.dumps(app_event()))
    assert event == EngagementEvent("webinar.registration", Person(email="ana@example.com"),
                                    "2024-05-01T10:00:00.000Z", {"webinar_id": "webinar5"})


def test_application_event_without_timestamp_is_dated_when_read():
    record = app_event()
    del record["timestamp"]
    assert events.from_application(record, now_ms=0).timestamp == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize(("change", "reason"), [
    ({"person": {}}, "names no person"),
    ({"person": {"email": None}}, "names no person"),
    ({"person": "ana@example.com"}, "person is not an object"),
    ({"person": {"email": "not-an-address"}}, "not an email address"),
    ({"person": {"phone": "0612345678"}}, "not an E.164 number"),
    ({"person": {"name": "Ana"}}, "keys this format does not know"),
    ({"event_type": ""}, "event_type must be text"),
    ({"event_type": "x" * 51}, "event_type must be text"),
    ({"attributes": ["webinar5"]}, "attributes is not an object"),
    ({"timestamp": "yesterday"}, "timestamp is not ISO 8601"),
    ({"extra": 1}, "fields this format does not know"),
])
def test_malformed_application_event_is_refused_with_the_reason(change, reason):
    with pytest.raises(BadEvent, match=reason):
        events.normalise(app_event(**change))


def test_a_record_of_no_known_shape_is_refused():
    with pytest.raises(BadEvent, match="neither an application event"):
        events.normalise({"type": "click"})


def test_a_record_that_is_not_json_is_refused():
    with pytest.raises(BadEvent, match="not JSON"):
        events.normalise_json(b"\x00garbage")


def test_sms_event_without_a_destination_number_is_refused():
    record = {"eventType": "TEXT_DELIVERED", "eventTimestamp": 1, "destinationPhoneNumber": None}
    with pytest.raises(BadEvent, match=r"destinationPhoneNumber is not an E\.164 number"):
        events.normalise(record)


def test_ses_event_without_a_timestamp_is_refused():
    record = copy.deepcopy(ses_open("a@example.com"))
    del record["open"]["timestamp"], record["mail"]["timestamp"]
    with pytest.raises(BadEvent, match="no timestamp"):
        events.normalise(record)


def test_an_application_events_profile_id_must_be_a_customer_profiles_id():
    with pytest.raises(BadEvent, match="not a Customer Profiles profile id"):
        events.from_application({"event_type": "signup", "person": {"profile_id": "customer-17"}})
    event = events.from_application({"event_type": "signup", "person": {"profile_id": "0123456789abcdef" * 2}})
    assert event.person.profile_id == "0123456789abcdef" * 2
