"""Pinpoint mode: campaign hook events (the documented shape) through the lookup, endpoints out.

AWS's example of this event is not among ../shared/aws-examples; the events here follow the shape the Amazon
Pinpoint Developer Guide documents ("Customizing segments with AWS Lambda", Event data: MessageConfiguration,
ApplicationId, CampaignId, TreatmentId, ActivityId, ScheduledTime, and Endpoints, a map of endpoint id to
endpoint definition, at most 50 a call), with endpoint definitions shaped like its example answer."""

import json

import pytest

from due import aws as due_aws
from due.events import BadEvent
from due.send_time.attribute_store import AttributeStore
from due.send_time.content_store import ContentStore
from due.send_time.hook import MAX_ENDPOINTS_PER_EVENT, filter_endpoints
from due.send_time.lookup import MissingDataPolicy


def endpoint(user_id="", locale="en_US", attributes=None):
    definition = {"ChannelType": "EMAIL", "Address": "someone@example.com", "EndpointStatus": "ACTIVE",
                  "OptOut": "NONE", "Demographic": {"Locale": locale}, "EffectiveDate": "2026-11-02T21:26:48.598Z",
                  "User": {"UserId": user_id} if user_id else {}}
    if attributes is not None:
        definition["Attributes"] = attributes
    return definition


def event(endpoints, html=True, email=True):
    """MessageConfiguration has the DirectMessageConfiguration's structure: EmailMessage.SimpleEmail's parts."""
    simple = {"Subject": {"Data": "{{Attributes.subject}}"}, "TextPart": {"Data": "{{Attributes.Offer}}"}}
    if html:
        simple["HtmlPart"] = {"Data": "<p>{{Attributes.Offer}}</p>"}
    configuration = {"EmailMessage": {"FromAddress": "news@example.com", "SimpleEmail": simple}} if email else {}
    return {"MessageConfiguration": configuration, "ApplicationId": "app1", "CampaignId": "spring",
            "TreatmentId": "0", "ActivityId": "activity1", "ScheduledTime": "2026-11-28T09:00:00.000Z",
            "Endpoints": endpoints}


@pytest.fixture
def offers_store(offers):
    return AttributeStore(due_aws.client("dynamodb"), offers, "id", 2)


def test_endpoints_without_attributes_gain_the_offer_as_a_list_escaped_for_the_html_body(offers_store):
    answer = filter_endpoints(event({"c-1": endpoint(), "c-2": endpoint()}), offers_store, MissingDataPolicy.SKIP)
    assert answer["c-1"]["Attributes"]["Offer"] == ["20% off boots"]
    assert answer["c-2"]["Attributes"]["Offer"] == ["Free &lt;b&gt;socks&lt;/b&gt; &amp; laces"]
    assert answer["c-1"]["ChannelType"] == "EMAIL" and answer["c-1"]["Demographic"] == {"Locale": "en_US"}
    json.dumps(answer)  # Pinpoint must be able to decode the answer


def test_existing_attributes_are_kept_and_a_text_message_gets_values_as_written(offers_store):
    answer = filter_endpoints(event({"c-2": endpoint(attributes={"Plan": ["gold"]})}, html=False), offers_store,
                              MissingDataPolicy.SKIP)
    assert answer["c-2"]["Attributes"] == {"Plan": ["gold"], "Offer": ["Free <b>socks</b> & laces"],
                                           "Points": ["120"], "Vip": ["true"]}


def test_the_key_may_be_the_user_id(offers_store):
    answer = filter_endpoints(event({"e-9": endpoint(user_id="c-3")}), offers_store, MissingDataPolicy.SKIP,
                              key_source="UserId")
    assert answer["e-9"]["Attributes"]["Offer"] == ["Two for one"]


@pytest.mark.parametrize(("policy", "kept", "offer"), [
    (MissingDataPolicy.SKIP, False, None), (MissingDataPolicy.SEND_WITHOUT, True, None),
    (MissingDataPolicy.USE_DEFAULT, True, ["10% off"])])
def test_an_endpoint_without_data_follows_the_policy(offers_store, policy, kept, offer):
    answer = filter_endpoints(event({"c-1": endpoint(), "nobody": endpoint()}), offers_store, policy,
                              {"Offer": "10% off"})
    assert ("nobody" in answer) is kept and "c-1" in answer
    assert (answer.get("nobody", {}).get("Attributes") or {}).get("Offer") == offer


def test_fifty_endpoints_are_one_store_call(aws, offers):
    calls = []
    client = due_aws.client("dynamodb")
    original = client.batch_get_item
    client.batch_get_item = lambda **kwargs: calls.append(1) or original(**kwargs)
    endpoints = {f"e-{i}": endpoint() for i in range(MAX_ENDPOINTS_PER_EVENT)}
    answer = filter_endpoints(event(endpoints), AttributeStore(client, offers, "id", 2), MissingDataPolicy.SEND_WITHOUT)
    assert len(answer) == 50 and calls == [1]


def test_templates_hook_puts_the_locales_html_as_stored_and_the_subject(content_bucket):
    store = ContentStore(due_aws.client("s3"), content_bucket, "content/", "en_US", 2)
    answer = filter_endpoints(event({"a": endpoint(locale="es_MX"), "b": endpoint(locale="fr_FR")}), store,
                              MissingDataPolicy.SKIP, escape_for_html=False)
    assert answer["a"]["Attributes"]["html"] == ["<p>Qué tal {{first_name}}</p>"]
    assert answer["a"]["Attributes"]["subject"] == ["Primavera MX {{first_name}}"]
    assert answer["b"]["Attributes"]["subject"] == ["Spring {{first_name}}"]


def test_an_event_that_is_not_a_hook_event_is_refused(offers_store):
    with pytest.raises(BadEvent):
        filter_endpoints({"Records": []}, offers_store, MissingDataPolicy.SKIP)


def test_a_template_campaign_shows_no_body_so_email_endpoints_get_escaped_values_and_sms_as_written(offers_store):
    sms = {**endpoint(), "ChannelType": "SMS", "Address": "+14255550100"}
    answer = filter_endpoints(event({"c-2": endpoint(), "c-1": sms}, email=False), offers_store,
                              MissingDataPolicy.SKIP)
    assert answer["c-2"]["Attributes"]["Offer"] == ["Free &lt;b&gt;socks&lt;/b&gt; &amp; laces"]
    assert answer["c-1"]["Attributes"]["Offer"] == ["20% off boots"]
