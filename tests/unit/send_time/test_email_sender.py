"""The bulk sender: send-time data in, SendBulkEmail out, each destination's result checked, at most once a row."""

import json

import pytest
from botocore.exceptions import ClientError

from due import aws as due_aws
from due.archiving import SentArchive
from due.send_time.attribute_store import AttributeStore
from due.send_time.consent import Consent, Unsubscribes
from due.send_time.content_store import ContentStore
from due.send_time.email_sender import Chunk, ChunkFailed, EmailSender, InlineContent, StoredTemplate
from due.send_time.lookup import MissingDataPolicy, Recipient
from due.send_time.markers import ChunkMarkers
from due.send_time.sending import sending_client
from due.send_time.unsubscribe import ListUnsubscribe
from due_local.fakes import FakeError
from due_local.tables import create_table
from tests.archive_doubles import RecordingArchiveSqs, archive_of, on_archive_calls

FILE = "audience/incoming/spring/list.csv@v1"


def person(row, key="", locale="", **fields):
    address = f"person{row}@example.com"
    return Recipient(str(row), key, address, locale, {"email": address, "first_name": f"P{row}", **fields})


@pytest.fixture
def ses(fakes):
    fakes.sesv2.create_email_template(TemplateName="offer", TemplateContent={
        "Subject": "An offer for {{first_name}}", "Html": "<p>{{first_name}}: {{Offer}}</p>", "Text": "{{Offer}}"})
    return fakes.sesv2


@pytest.fixture
def markers(aws):
    create_table(aws.client("dynamodb"), "sent", "deduplication_id")
    return ChunkMarkers(due_aws.client("dynamodb"), "sent")


def build(markers, lookup, content, *, policy=MissingDataPolicy.SKIP, consent=None, clock=None, **options):
    sesv2 = sending_client()
    return EmailSender(sesv2, lookup, content, markers, consent or Consent(sesv2),
                       ListUnsubscribe("https://example.com/unsubscribe?who={address}"),
                       from_address="news@example.com", policy=policy, sleep=(clock.sleep if clock else lambda s: None),
                       **options)


@pytest.fixture
def offers_sender(ses, markers, offers):
    lookup = AttributeStore(due_aws.client("dynamodb"), offers, "id", 2)
    return build(markers, lookup, StoredTemplate(due_aws.client("sesv2"), "offer"))


def test_each_destination_gets_its_own_offer_escaped_for_html_and_its_own_unsubscribe_headers(ses, offers_sender):
    outcome = offers_sender.send(Chunk(FILE, "spring", [person(1, "c-1"), person(2, "c-2", first_name="Zoë & Co")]))
    assert outcome.sent == ["1", "2"] and outcome.calls == 1
    first, second = ses.sent_bulk
    assert first["Rendered"]["Html"] == "<p>P1: 20% off boots</p>"
    assert second["Rendered"]["Html"] == "<p>Zoë &amp; Co: Free &lt;b&gt;socks&lt;/b&gt; &amp; laces</p>"
    assert second["Rendered"]["Subject"] == "An offer for Zoë & Co"  # the subject and text read values as written
    assert second["Rendered"]["Text"] == "Free <b>socks</b> & laces"
    assert second["Headers"] == [
        {"Name": "List-Unsubscribe", "Value": "<https://example.com/unsubscribe?who=person2%40example.com>"},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}]


def test_a_text_only_template_gets_its_values_as_written(fakes, markers, offers):
    fakes.sesv2.create_email_template(TemplateName="plain", TemplateContent={"Subject": "s", "Text": "{{Offer}}"})
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "plain"))
    sender.send(Chunk(FILE, "spring", [person(2, "c-2")]))
    assert fakes.sesv2.sent_bulk[0]["Rendered"]["Text"] == "Free <b>socks</b> & laces"


@pytest.mark.parametrize(("policy", "sent", "skipped", "offer_of_9"), [
    (MissingDataPolicy.SKIP, ["1"], ["9"], None),
    (MissingDataPolicy.SEND_WITHOUT, ["1", "9"], [], ""),
    (MissingDataPolicy.USE_DEFAULT, ["1", "9"], [], "10% off everything"),
])
def test_recipients_without_data_follow_the_policy(ses, markers, offers, policy, sent, skipped, offer_of_9):
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "offer"), policy=policy,
                   default_data={"Offer": "10% off everything"})
    outcome = sender.send(Chunk(FILE, "spring", [person(1, "c-1"), person(9, "nobody")]))
    assert outcome.sent == sent and [row for row, _ in outcome.skipped] == skipped
    rendered = {m["To"][0]: m["Rendered"]["Text"] for m in ses.sent_bulk}
    assert rendered.get("person9@example.com") == offer_of_9


def test_a_slow_store_applies_the_policy_instead_of_failing_the_send(ses, markers):
    import threading

    release = threading.Event()

    class Slow:
        def batch_get_item(self, **kwargs):
            release.wait(5)
            return {}

    sender = build(markers, AttributeStore(Slow(), "offers", "id", 0.05), StoredTemplate(due_aws.client("sesv2"),
                   "offer"), policy=MissingDataPolicy.USE_DEFAULT, default_data={"Offer": "house offer"})
    outcome = sender.send(Chunk(FILE, "spring", [person(1, "c-1")]))
    release.set()
    assert outcome.sent == ["1"] and ses.sent_bulk[0]["Rendered"]["Text"] == "house offer"


def test_inline_content_is_one_call_per_locale_with_the_stored_html_and_the_rows_escaped(fakes, markers,
                                                                                      content_bucket):
    store = ContentStore(due_aws.client("s3"), content_bucket, "content/", "en_US", 2)
    sender = build(markers, store, InlineContent())
    chunk = Chunk(FILE, "spring", [person(1, locale="es_MX"), person(2, locale="en_US"),
                                   person(3, locale="es_MX", first_name="Zoë <Z>")])
    outcome = sender.send(chunk)
    assert outcome.calls == 2 and sorted(outcome.sent) == ["1", "2", "3"]
    by_address = {m["To"][0]: m["Rendered"] for m in fakes.sesv2.sent_bulk}
    assert by_address["person1@example.com"]["Subject"] == "Primavera MX P1"
    assert by_address["person2@example.com"]["Html"] == "<p>Hello P2</p>"
    assert by_address["person3@example.com"]["Html"] == "<p>Qué tal Zoë &lt;Z&gt;</p>"
    assert by_address["person3@example.com"]["Subject"] == "Primavera MX Zoë <Z>"
    sent_content = {c.params["DefaultContent"]["Template"]["TemplateContent"]["Subject"]
                    for c in fakes.sesv2.calls_of("SendBulkEmail")}
    assert sent_content == {"Primavera MX {{first_name}}", "Spring {{first_name}}"}


def test_throttled_destinations_are_sent_again_and_rejected_ones_reported(ses, offers_sender):
    ses.entry_statuses = ["SUCCESS", "ACCOUNT_THROTTLED", "MESSAGE_REJECTED", "TRANSIENT_FAILURE"]
    outcome = offers_sender.send(Chunk(FILE, "spring", [person(i, "c-1") for i in range(1, 5)]))
    assert sorted(outcome.sent) == ["1", "2", "4"] and outcome.rejected == [("3", "MESSAGE_REJECTED")]
    assert outcome.calls == 2
    assert [len(c.params["BulkEmailEntries"]) for c in ses.calls_of("SendBulkEmail")] == [4, 2]


def test_destinations_throttled_past_the_attempts_fail_the_chunk_and_only_they_go_when_it_comes_back(
        ses, offers_sender):
    chunk = Chunk(FILE, "spring", [person(1, "c-1"), person(2, "c-2")])
    ses.entry_statuses = ["SUCCESS", "ACCOUNT_THROTTLED", "ACCOUNT_THROTTLED", "ACCOUNT_THROTTLED"]
    with pytest.raises(ChunkFailed, match="still throttled") as failed:
        offers_sender.send(chunk)
    assert failed.value.outcome.sent == ["1"]
    again = offers_sender.send(chunk)  # SQS delivers the chunk again
    assert again.sent == ["2"]
    assert [m["To"][0] for m in ses.sent_bulk] == ["person1@example.com", "person2@example.com"]
    assert offers_sender.send(chunk).already_done  # a third delivery sends nothing


def test_an_account_wide_refusal_stops_the_chunk(ses, offers_sender):
    ses.entry_statuses = ["ACCOUNT_DAILY_QUOTA_EXCEEDED"]
    with pytest.raises(ChunkFailed, match="ACCOUNT_DAILY_QUOTA_EXCEEDED"):
        offers_sender.send(Chunk(FILE, "spring", [person(1, "c-1")]))


def test_a_call_refused_for_its_size_is_halved_and_later_calls_stay_halved(ses, markers, offers):
    refused = {"left": 1}
    original = ses.send_bulk_email

    def refuse_big_calls(DefaultContent, BulkEmailEntries, **kwargs):
        if len(BulkEmailEntries) > 2 and refused["left"]:
            refused["left"] -= 1
            raise FakeError("BadRequestException", "request too large")
        return original(DefaultContent, BulkEmailEntries, **kwargs)

    ses.send_bulk_email = refuse_big_calls
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "offer"), emails_per_second=4)
    outcome = sender.send(Chunk(FILE, "spring", [person(i, "c-1") for i in range(1, 9)]))
    assert sorted(outcome.sent, key=int) == [str(i) for i in range(1, 9)]
    assert [len(c.params["BulkEmailEntries"]) for c in ses.calls_of("SendBulkEmail")] == [4, 2, 2, 2, 2]


def test_one_bad_address_shrinks_only_its_own_chunks_calls_not_the_next_chunks(ses, markers, offers):
    original = ses.send_bulk_email

    def refuse_the_bad_address(DefaultContent, BulkEmailEntries, **kwargs):
        if any(e["Destination"]["ToAddresses"] == ["person3@example.com"] for e in BulkEmailEntries):
            raise FakeError("BadRequestException", "one entry is invalid")
        return original(DefaultContent, BulkEmailEntries, **kwargs)

    ses.send_bulk_email = refuse_the_bad_address
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "offer"))
    first = sender.send(Chunk(FILE, "spring", [person(i, "c-1") for i in range(1, 9)]))
    assert first.rejected == [("3", "BadRequestException")] and len(first.sent) == 7
    clean = sender.send(Chunk(FILE, "spring", [person(i, "c-1") for i in range(10, 60)]))
    assert len(clean.sent) == 50 and clean.calls == 1


def test_a_call_that_never_answered_is_set_aside_on_redelivery_and_the_rest_are_sent(ses, markers, offers):
    original = ses.send_bulk_email
    crashes = {"left": 1}

    def crash_once(DefaultContent, BulkEmailEntries, **kwargs):
        original(DefaultContent, BulkEmailEntries, **kwargs)  # SES sent them ...
        if crashes["left"]:
            crashes["left"] -= 1
            raise FakeError("InternalFailure", "the connection dropped", status=500)  # ... the answer is lost
        return {"BulkEmailEntryResults": [{"Status": "SUCCESS", "MessageId": "m"} for _ in BulkEmailEntries]}

    ses.send_bulk_email = crash_once
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "offer"), emails_per_second=2)
    chunk = Chunk(FILE, "spring", [person(i, "c-1") for i in range(1, 5)])
    with pytest.raises(ChunkFailed, match="InternalFailure") as failed:  # the client does not try again
        sender.send(chunk)
    assert isinstance(failed.value.__cause__, ClientError) and failed.value.outcome.sent == []
    set_aside = []
    outcome = sender.send(chunk, lambda recipients, reason: set_aside.append(([r.ref for r in recipients], reason)))
    assert set_aside[0][0] == ["1", "2"] and "may have been sent" in set_aside[0][1]
    assert outcome.unknown == ["1", "2"] and outcome.sent == ["3", "4"]
    assert sorted(a for m in ses.sent_bulk for a in m["To"]).count("person1@example.com") == 1


def test_consent_keeps_opted_out_people_out_of_the_call(fakes, markers, offers):
    sesv2 = due_aws.client("sesv2")
    fakes.sesv2.create_email_template(TemplateName="offer", TemplateContent={"Subject": "s", "Text": "{{Offer}}"})
    sesv2.put_suppressed_destination(EmailAddress="person2@example.com", Reason="BOUNCE")
    sesv2.create_contact_list(ContactListName="news", Topics=[
        {"TopicName": "offers", "DisplayName": "Offers", "DefaultSubscriptionStatus": "OPT_IN"}])
    sesv2.create_contact(ContactListName="news", EmailAddress="person3@example.com",
                         TopicPreferences=[{"TopicName": "offers", "SubscriptionStatus": "OPT_OUT"}])
    sesv2.create_contact(ContactListName="news", EmailAddress="person4@example.com", UnsubscribeAll=True)
    create_table(due_aws.client("dynamodb"), "unsubscribes", "address")
    Unsubscribes(due_aws.client("dynamodb"), "unsubscribes").record("Person6@example.com", "now")
    consent = Consent(sesv2, contact_list="news", topic="offers",
                      unsubscribes=Unsubscribes(due_aws.client("dynamodb"), "unsubscribes"))
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2), StoredTemplate(sesv2, "offer"),
                   consent=consent, policy=MissingDataPolicy.SEND_WITHOUT)
    chunk = Chunk(FILE, "spring", [person(1), person(2), person(3), person(4), person(5, email_opt_out="Yes"),
                                   person(6)])
    outcome = sender.send(chunk)
    assert outcome.sent == ["1"]
    assert dict(outcome.skipped) == {
        "2": "on the account-level suppression list", "3": "unsubscribed from the contact list news topic offers",
        "4": "unsubscribed from the contact list news topic offers",
        "5": "opted out in the file's email_opt_out column", "6": "unsubscribed with this stack's unsubscribe link"}
    assert [m["To"] for m in fakes.sesv2.sent_bulk] == [["person1@example.com"]]


def test_a_profile_that_opted_out_is_not_sent_to(fakes, markers, offers):
    from due.profiles import ProfileStore

    profiles = fakes.profiles
    client = due_aws.client("customer-profiles")
    client.create_domain(DomainName="people", DefaultExpirationDays=30)
    profile_id = client.create_profile(DomainName="people", EmailAddress="person2@example.com")["ProfileId"]
    client.update_profile(DomainName="people", ProfileId=profile_id, Attributes={"email_opt_out": "true"})
    assert profiles.profiles
    fakes.sesv2.create_email_template(TemplateName="offer", TemplateContent={"Subject": "s", "Text": "x"})
    sesv2 = due_aws.client("sesv2")
    consent = Consent(sesv2, profile_store=ProfileStore(client, "people", ""))
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2), StoredTemplate(sesv2, "offer"),
                   consent=consent, policy=MissingDataPolicy.SEND_WITHOUT)
    outcome = sender.send(Chunk(FILE, "spring", [person(1), person(2)]))
    assert outcome.sent == ["1"] and outcome.skipped == [("2", "opted out in the person's profile (email_opt_out)")]


def test_calls_hold_no_more_recipients_than_the_rate_allows_and_each_takes_its_permits(ses, markers, offers):
    paced = []
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "offer"), emails_per_second=3, pace=paced.append)
    sender.send(Chunk(FILE, "spring", [person(i, "c-1") for i in range(1, 8)]))
    assert paced == [3, 3, 1]
    assert [len(c.params["BulkEmailEntries"]) for c in ses.calls_of("SendBulkEmail")] == [3, 3, 1]


def test_replacement_data_holds_each_value_as_written_and_escaped_for_html():
    from due.send_time.email_sender import replacement_data

    assert json.loads(replacement_data({"a": "<1>"}, {"b": "2"})) == {"a": "<1>", "b": "2", "a__html": "&lt;1&gt;",
                                                                     "b__html": "2"}


def test_only_the_html_parts_simple_placeholders_read_the_escaped_values():
    from due.send_time.email_sender import html_placeholders, template_content

    assert html_placeholders("<p>{{ name }} {{a.b}} {{{raw}}} {{#if x}}y{{else}}z{{/if}}</p>") == \
        "<p>{{name__html}} {{a.b__html}} {{{raw}}} {{#if x}}y{{else}}z{{/if}}</p>"
    assert template_content({"subject": "Hi\n {{name}}", "html": "<b>{{name}}</b>", "text": "{{name}}"}) == {
        "Subject": "Hi {{name}}", "Html": "<b>{{name__html}}</b>", "Text": "{{name}}"}


def test_a_throttled_call_is_made_again_and_sends_each_destination_once(ses, offers_sender, clock):
    ses.fail_next("SendBulkEmail", "TooManyRequestsException", times=2, status=429)
    outcome = offers_sender.send(Chunk(FILE, "spring", [person(1, "c-1"), person(2, "c-2")]))
    assert outcome.sent == ["1", "2"] and outcome.calls == 3
    assert [m["To"] for m in ses.sent_bulk] == [["person1@example.com"], ["person2@example.com"]]


def test_a_call_throttled_past_the_attempts_fails_the_chunk_and_sends_all_when_it_comes_back(ses, offers_sender):
    chunk = Chunk(FILE, "spring", [person(1, "c-1")])
    ses.fail_next("SendBulkEmail", "TooManyRequestsException", times=3, status=429)
    with pytest.raises(ChunkFailed, match="TooManyRequestsException"):
        offers_sender.send(chunk)
    assert offers_sender.send(chunk).sent == ["1"]


def test_a_suppression_list_the_sandbox_will_not_list_does_not_stop_the_send(ses, offers_sender):
    ses.fail_next("ListSuppressedDestinations", "AccessDeniedException", status=403)
    assert offers_sender.send(Chunk(FILE, "spring", [person(1, "c-1")])).sent == ["1"]


def test_throttling_on_the_suppression_list_fails_the_chunk_for_a_later_try(ses, offers_sender, no_backoff):
    chunk = Chunk(FILE, "spring", [person(1, "c-1")])
    ses.fail_next("ListSuppressedDestinations", "TooManyRequestsException", status=429)
    with pytest.raises(ClientError, match="TooManyRequests"):
        offers_sender.send(chunk)
    assert ses.sent_bulk == []
    assert offers_sender.send(chunk).sent == ["1"]  # nothing was in flight: all of it goes when it comes back


def test_inline_content_cannot_send_without_content_so_send_without_skips_and_says_why(fakes, markers):
    from due.send_time.lookup import Found

    class NoContent:
        def look_up(self, campaign, recipients):
            return Found(missing={r.ref for r in recipients})

    sender = build(markers, NoContent(), InlineContent(), policy=MissingDataPolicy.SEND_WITHOUT)
    outcome = sender.send(Chunk(FILE, "spring", [person(1, locale="en_US")]))
    assert outcome.sent == [] and outcome.skipped == [
        ("1", "no content to send (policy SendWithout cannot send an empty message)")]
    assert fakes.sesv2.calls_of("SendBulkEmail") == []


@pytest.mark.parametrize("policy", [MissingDataPolicy.SKIP, MissingDataPolicy.SEND_WITHOUT])
def test_content_late_from_s3_fails_the_chunk_unsettled_and_it_is_sent_when_it_comes_back(fakes, markers, policy):
    from due.send_time.lookup import Found

    class SlowOnce:
        late = True

        def look_up(self, campaign, recipients):
            if self.late:
                self.late = False
                return Found(late={r.ref for r in recipients})
            return Found(data={r.ref: {"subject": "s", "text": "t"} for r in recipients})

    sender = build(markers, SlowOnce(), InlineContent(), policy=policy)
    chunk = Chunk(FILE, "spring", [person(1, locale="en_US"), person(2, locale="en_US")])
    with pytest.raises(ChunkFailed, match="time budget"):
        sender.send(chunk)
    assert fakes.sesv2.calls_of("SendBulkEmail") == []
    assert sender.send(chunk).sent == ["1", "2"]


def test_a_topic_whose_default_is_opt_out_reaches_only_the_contacts_who_opted_in(fakes, markers, offers):
    sesv2 = due_aws.client("sesv2")
    fakes.sesv2.create_email_template(TemplateName="offer", TemplateContent={"Subject": "s", "Text": "{{Offer}}"})
    sesv2.create_contact_list(ContactListName="news", Topics=[
        {"TopicName": "offers", "DisplayName": "Offers", "DefaultSubscriptionStatus": "OPT_OUT"}])
    sesv2.create_contact(ContactListName="news", EmailAddress="person1@example.com",
                         TopicPreferences=[{"TopicName": "offers", "SubscriptionStatus": "OPT_IN"}])
    sesv2.create_contact(ContactListName="news", EmailAddress="person2@example.com")  # no choice: the default
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2), StoredTemplate(sesv2, "offer"),
                   consent=Consent(sesv2, contact_list="news", topic="offers"),
                   policy=MissingDataPolicy.SEND_WITHOUT)
    outcome = sender.send(Chunk(FILE, "spring", [person(1), person(2), person(3)]))  # 3 is not on the list
    assert outcome.sent == ["1"]
    assert dict(outcome.skipped) == {
        "2": "unsubscribed from the contact list news topic offers",
        "3": "not opted in to the topic offers of the contact list news (its default is OPT_OUT)"}


def test_the_stored_template_is_read_paced_and_a_throttled_read_is_retried(ses, no_backoff):
    paced = []
    template = StoredTemplate(due_aws.client("sesv2"), "offer", pace=lambda: paced.append(1))
    ses.fail_next("GetEmailTemplate", "TooManyRequestsException", status=429)
    assert template.content({})["subject"] == "An offer for {{first_name}}"
    assert paced == [1]


def test_the_attributes_sender_reads_its_template_with_the_retrying_client_paced(monkeypatch):
    from due.send_time import attributes_sender, sending

    built = {}
    monkeypatch.setattr(attributes_sender.attributes_config, "settings", lambda: (None, None, None))
    monkeypatch.setattr(sending, "build_sender", lambda store, template, policy, default: template)
    monkeypatch.setattr(sending, "ses_api_pace", lambda: built.setdefault("pace", lambda: None))
    monkeypatch.setattr(attributes_sender.aws, "client", lambda name: built.setdefault("client", name))
    monkeypatch.setenv("TEMPLATE_NAME", "offer")
    attributes_sender._sender.cache_clear()
    try:
        template = attributes_sender._sender()
    finally:
        attributes_sender._sender.cache_clear()
    assert template._ses == "sesv2" and template._pace is built["pace"]


def test_no_call_starts_without_time_for_it_and_the_rest_is_sent_when_the_chunk_comes_back(ses, markers, offers):
    from due.send_time.email_sender import CALL_TIME_NEEDED_SECONDS

    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "offer"), emails_per_second=1)
    chunk = Chunk(FILE, "spring", [person(i, "c-1") for i in range(1, 4)])
    left = iter([100.0, 100.0, 100.0, CALL_TIME_NEEDED_SECONDS - 1])  # the wait before the 2nd call used it up
    set_aside = []
    with pytest.raises(ChunkFailed, match="too little for a call") as failed:
        sender.send(chunk, lambda recipients, reason: set_aside.append(recipients), time_left=lambda: next(left))
    assert failed.value.outcome.sent == ["1"] and len(ses.sent_bulk) == 1
    again = sender.send(chunk, lambda recipients, reason: set_aside.append(recipients))
    assert again.sent == ["2", "3"] and set_aside == []  # nothing was in flight: nothing set aside


def test_a_topic_the_contact_list_does_not_have_stops_the_send(fakes, markers, offers):
    sesv2 = due_aws.client("sesv2")
    fakes.sesv2.create_email_template(TemplateName="offer", TemplateContent={"Subject": "s", "Text": "{{Offer}}"})
    sesv2.create_contact_list(ContactListName="news", Topics=[
        {"TopicName": "offers", "DisplayName": "Offers", "DefaultSubscriptionStatus": "OPT_IN"}])
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2), StoredTemplate(sesv2, "offer"),
                   consent=Consent(sesv2, contact_list="news", topic="ofers"), policy=MissingDataPolicy.SEND_WITHOUT)
    with pytest.raises(LookupError, match="no topic 'ofers'"):
        sender.send(Chunk(FILE, "spring", [person(1)]))
    assert fakes.sesv2.sent_bulk == []


def test_a_suppression_list_error_other_than_the_sandboxs_refusal_stops_the_send(ses, offers_sender):
    ses.fail_next("ListSuppressedDestinations", "BadRequestException", status=400)
    with pytest.raises(ClientError, match="BadRequestException"):
        offers_sender.send(Chunk(FILE, "spring", [person(1, "c-1")]))
    assert ses.sent_bulk == []


def test_the_fakes_suppression_list_comes_in_pages_as_ses_gives_it(fakes):
    sesv2 = due_aws.client("sesv2")
    for i in range(3):
        sesv2.put_suppressed_destination(EmailAddress=f"gone{i}@example.com", Reason="BOUNCE")
    first = sesv2.list_suppressed_destinations(PageSize=2)
    rest = sesv2.list_suppressed_destinations(PageSize=2, NextToken=first["NextToken"])
    assert len(first["SuppressedDestinationSummaries"]) == 2 and "NextToken" not in rest
    assert {s["EmailAddress"] for s in first["SuppressedDestinationSummaries"] + rest[
        "SuppressedDestinationSummaries"]} == {f"gone{i}@example.com" for i in range(3)}


def test_the_consent_lists_are_asked_for_in_pages_of_1000(fakes, markers, offers):
    sesv2 = due_aws.client("sesv2")
    fakes.sesv2.create_email_template(TemplateName="offer", TemplateContent={"Subject": "s", "Text": "{{Offer}}"})
    sesv2.create_contact_list(ContactListName="news", Topics=[
        {"TopicName": "offers", "DisplayName": "Offers", "DefaultSubscriptionStatus": "OPT_IN"}])
    for i in range(150):
        sesv2.put_suppressed_destination(EmailAddress=f"gone{i}@example.com", Reason="BOUNCE")
    consent = Consent(sesv2, contact_list="news", topic="offers")
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2), StoredTemplate(sesv2, "offer"),
                   consent=consent, policy=MissingDataPolicy.SEND_WITHOUT)
    outcome = sender.send(Chunk(FILE, "spring", [person(1), Recipient("2", "", "gone149@example.com")]))
    assert outcome.sent == ["1"] and outcome.skipped == [("2", "on the account-level suppression list")]
    listed = fakes.sesv2.calls_of("ListSuppressedDestinations") + fakes.sesv2.calls_of("ListContacts")
    assert [c.params.get("PageSize") for c in listed] == [1000, 1000]
    assert consent.ses_api_calls == 3  # the topics, one page of each list


# ------------------------------------------------------------------ the message archive (#15)
def archiving_offers_sender(markers, offers, sqs):
    return build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                 StoredTemplate(due_aws.client("sesv2"), "offer"), archive=archive_of(sqs))


def test_each_destination_ses_accepted_is_archived_with_its_template_values_headers_and_message_id(
        ses, markers, offers):
    sqs = RecordingArchiveSqs()
    ses.entry_statuses = ["SUCCESS", "ACCOUNT_THROTTLED", "MESSAGE_REJECTED", "TRANSIENT_FAILURE"]
    sender = archiving_offers_sender(markers, offers, sqs)
    outcome = sender.send(Chunk(FILE, "spring", [person(i, "c-2") for i in (1, 2, 3, 4)]))
    assert sorted(outcome.sent) == ["1", "2", "4"] and outcome.calls == 2
    assert [len(b) for b in sqs.batches] == [1, 2]  # one archive call after each SES call
    batch = [m for b in sqs.batches for m in b]
    ids = {m["To"][0]: m["MessageId"] for m in ses.sent_bulk}
    assert sorted((m.recipient, m.message_id) for m in batch) == sorted(ids.items())
    first = next(m for m in batch if m.recipient == "person1@example.com")
    assert (first.channel, first.origination, first.campaign_id, first.template) == (
        "email", "news@example.com", "spring", "offer")
    assert (first.subject, first.html, first.text) == (
        "An offer for {{first_name}}", "<p>{{first_name}}: {{Offer}}</p>", "{{Offer}}")
    assert first.replacement_data["Offer"] == "Free <b>socks</b> & laces"
    assert first.replacement_data["first_name"] == "P1"
    assert not any(name.endswith("__html") for name in first.replacement_data)
    assert first.headers["List-Unsubscribe"] == "<https://example.com/unsubscribe?who=person1%40example.com>"


def test_each_calls_sends_are_archived_before_the_next_call_and_before_they_are_settled(ses, markers, offers):
    """An invocation killed part way through a chunk (a Lambda timeout) loses what it kept in memory: what the
    earlier calls sent is queued already, and the call under way is still in flight in the marker."""
    order: list[str] = []

    class Ordered(RecordingArchiveSqs):
        def send_message_batch(self, QueueUrl, Entries):
            order.append("archive")
            return super().send_message_batch(QueueUrl, Entries)

    due_aws.client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem",
                                                    lambda **_: order.append("marker"))
    sending_client().meta.events.register("before-call.sesv2.SendBulkEmail", lambda **_: order.append("send"))
    ses.entry_statuses = ["SUCCESS", "TRANSIENT_FAILURE", "SUCCESS"]
    archiving_offers_sender(markers, offers, Ordered()).send(Chunk(FILE, "spring", [person(1, "c-1"),
                                                                                    person(2, "c-2")]))
    assert len(ses.sent_bulk) == 2
    # each call: its rows in flight, the call, its sends archived, its rows settled
    # the skipped rows settled (none), then each call: its rows in flight, the call, its sends archived, its
    # rows settled
    assert order == ["marker"] + ["marker", "send", "archive", "marker"] * 2


def test_inline_content_is_archived_as_sent_with_the_rows_values(fakes, markers, content_bucket):
    sqs = RecordingArchiveSqs()
    sender = build(markers, ContentStore(due_aws.client("s3"), content_bucket, "content/", "en_US", 2),
                   InlineContent(), archive=archive_of(sqs))
    sender.send(Chunk(FILE, "spring", [person(1, locale="es_MX"), person(2, locale="en_US")]))
    assert len(sqs.batches) == 2  # one call per content, each archived after it
    batch = [m for b in sqs.batches for m in b]
    by_address = {m.recipient: m for m in batch}
    assert by_address["person1@example.com"].html == "<p>Qué tal {{first_name}}</p>"
    assert by_address["person2@example.com"].subject == "Spring {{first_name}}"
    assert by_address["person2@example.com"].template == "inline"
    assert by_address["person2@example.com"].replacement_data == {"email": "person2@example.com",
                                                                   "first_name": "P2"}


def test_what_was_sent_before_the_chunk_stopped_is_archived(ses, markers, offers):
    sqs = RecordingArchiveSqs()
    ses.entry_statuses = ["SUCCESS", "ACCOUNT_THROTTLED", "ACCOUNT_THROTTLED", "ACCOUNT_THROTTLED"]
    with pytest.raises(ChunkFailed):
        archiving_offers_sender(markers, offers, sqs).send(Chunk(FILE, "spring", [person(1, "c-1"), person(2, "c-2")]))
    assert [[m.recipient for m in batch] for batch in sqs.batches] == [["person1@example.com"]]


def test_without_the_archive_nothing_is_queued(ses, markers, offers, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QUEUE_URL", "")
    calls = []
    on_archive_calls(lambda: calls.append(1))
    sender = build(markers, AttributeStore(due_aws.client("dynamodb"), offers, "id", 2),
                   StoredTemplate(due_aws.client("sesv2"), "offer"), archive=SentArchive.from_environment())
    assert sender.send(Chunk(FILE, "spring", [person(1, "c-1")])).sent == ["1"]
    assert calls == []


def test_an_archive_queue_that_fails_neither_fails_nor_repeats_the_send(ses, markers, offers):
    sender = archiving_offers_sender(markers, offers, RecordingArchiveSqs(fail=True))
    chunk = Chunk(FILE, "spring", [person(1, "c-1"), person(2, "c-2")])
    assert sender.send(chunk).sent == ["1", "2"]
    assert sender.send(chunk).already_done  # settled: a redelivery sends nothing again
    assert len(ses.sent_bulk) == 2
