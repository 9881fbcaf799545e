from __future__ import annotations

import pytest

from due.s3_triggered_import import follow_up, pinpoint_import
from due.s3_triggered_import.follow_up import FollowUpStopped
from due.s3_triggered_import.rows import ImportRow
from tests.archive_doubles import RecordingArchiveSqs, archive_of
from tests.unit.s3_triggered_import.conftest import BUCKET

TEMPLATE = "welcome"
FROM = "news@example.com"


@pytest.fixture
def sesv2(aws, fakes):
    client = aws.client("sesv2")
    client.create_email_template(TemplateName=TEMPLATE, TemplateContent={
        "Subject": "Welcome {{first_name}}", "Text": "Hello {{first_name}}"})
    return client


def _people(n: int) -> list[ImportRow]:
    return [ImportRow(i, {"email": f"person{i}@example.com", "first_name": f"P{i}"}) for i in range(1, n + 1)]


class Pace:
    def __init__(self):
        self.permits = 0

    def __call__(self):
        self.permits += 1


def _send(sesv2, rows, pace=None, is_opted_out=lambda address: False, **options):
    arguments = {"configuration_set": None, "contact_list": None, "topic": None, **options}
    return follow_up.send_template(sesv2, rows, "email", TEMPLATE, FROM, pace=pace or Pace(),
                                   is_opted_out=is_opted_out, **arguments)


def _sizes(fakes) -> list[int]:
    return [len(c.params["BulkEmailEntries"]) for c in fakes.sesv2.calls_of("SendBulkEmail")]


def test_the_template_goes_to_everyone_50_a_call_with_their_own_data_and_one_permit_each(sesv2, fakes):
    pace = Pace()

    counts = _send(sesv2, _people(120), pace=pace)

    assert (counts.sent, counts.failed, counts.calls) == (120, 0, 3)
    assert _sizes(fakes) == [50, 50, 20]
    assert pace.permits == 120
    first = fakes.sesv2.sent_bulk[0]
    assert (first["To"], first["TemplateName"], first["From"]) == (["person1@example.com"], TEMPLATE, FROM)
    assert first["TemplateData"] == {"email": "person1@example.com", "first_name": "P1"}


def test_opted_out_people_and_rows_without_a_usable_address_are_skipped(sesv2, fakes):
    rows = [*_people(3), ImportRow(4, {"email": "", "first_name": "No"}),
            ImportRow(5, {"email": "five@example.com", "email_opt_out": "true"})]

    counts = _send(sesv2, rows, is_opted_out=lambda address: address == "person2@example.com")

    assert (counts.sent, counts.opted_out, counts.no_address) == (2, 2, 1)
    assert [m["To"] for m in fakes.sesv2.sent_bulk] == [["person1@example.com"], ["person3@example.com"]]


def test_an_opt_out_column_counts_however_the_file_spells_it(sesv2, fakes):
    rows = [ImportRow(1, {"email": "eve@example.com", "Email Opt Out": "yes"}), *_people(1)]

    counts = _send(sesv2, rows)

    assert (counts.sent, counts.opted_out) == (1, 1)
    assert [m["To"] for m in fakes.sesv2.sent_bulk] == [["person1@example.com"]]


def test_a_refused_call_is_halved_and_later_calls_keep_the_size_ses_took(sesv2, fakes):
    fakes.sesv2.fail_next("SendBulkEmail", "BadRequestException", message="Request too large")

    counts = _send(sesv2, _people(100))

    assert counts.sent == 100
    assert _sizes(fakes) == [50, 25, 25, 25, 25]


def test_a_single_destination_ses_refuses_fails_alone(sesv2, fakes):
    fakes.sesv2.fail_next("SendBulkEmail", "BadRequestException", times=5)  # 3, then 1 and 2, then 1 and 1

    counts = _send(sesv2, _people(3))

    assert _sizes(fakes) == [3, 1, 2, 1, 1]
    assert counts.failures == {"BadRequestException": 3}
    assert (counts.sent, counts.failed) == (0, 3)


def test_transient_entry_failures_are_tried_again(sesv2, fakes):
    fakes.sesv2.entry_statuses.extend(["TRANSIENT_FAILURE", "SUCCESS", "ACCOUNT_THROTTLED"])

    counts = _send(sesv2, _people(3))

    assert (counts.sent, counts.failed) == (3, 0)
    assert _sizes(fakes) == [3, 2]


def test_an_entry_status_every_later_send_would_share_stops_the_follow_up_with_the_counts(sesv2, fakes):
    fakes.sesv2.entry_statuses.extend(["SUCCESS", "ACCOUNT_DAILY_QUOTA_EXCEEDED"])

    with pytest.raises(FollowUpStopped) as stopped:
        _send(sesv2, _people(60))

    assert stopped.value.reason == "ACCOUNT_DAILY_QUOTA_EXCEEDED"
    assert stopped.value.counts.sent == 1
    assert _sizes(fakes) == [50]


def test_a_missing_template_stops_the_follow_up(aws, fakes):
    with pytest.raises(FollowUpStopped, match="TEMPLATE_NOT_FOUND"):
        _send(aws.client("sesv2"), _people(2))


def test_a_list_unsubscribe_header_is_added_with_one_click_for_an_https_address(sesv2, fakes):
    value = "<https://example.com/unsubscribe>, <mailto:unsubscribe@example.com>"

    _send(sesv2, _people(1), list_unsubscribe=value)

    assert fakes.sesv2.sent_bulk[0]["Headers"] == [
        {"Name": "List-Unsubscribe", "Value": value},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}]


def test_with_a_contact_list_ses_manages_the_subscription_one_send_per_person(sesv2, fakes):
    sesv2.create_contact_list(ContactListName="customers", Topics=[
        {"TopicName": "news", "DisplayName": "News", "DefaultSubscriptionStatus": "OPT_IN"}])
    sesv2.create_contact(ContactListName="customers", EmailAddress="person2@example.com",
                         TopicPreferences=[{"TopicName": "news", "SubscriptionStatus": "OPT_OUT"}])
    pace = Pace()

    counts = _send(sesv2, _people(3), pace=pace, contact_list="customers", topic="news")

    assert (counts.sent, counts.calls, pace.permits) == (3, 3, 3)
    assert [m["To"] for m in fakes.sesv2.sent_templated] == [["person1@example.com"], ["person3@example.com"]]
    assert [m["To"] for m in fakes.sesv2.unsubscribed_bounces] == [["person2@example.com"]]
    (first, *_) = fakes.sesv2.calls_of("SendEmail")
    assert first.params["ListManagementOptions"] == {"ContactListName": "customers", "TopicName": "news"}
    assert first.params["Content"]["Template"]["TemplateName"] == TEMPLATE


def test_pinpoint_mode_creates_the_seeds_campaign_to_the_imported_segment(aws, fakes):
    s3, pinpoint = aws.client("s3"), aws.client("pinpoint")
    s3.create_bucket(Bucket=BUCKET)
    rows = [ImportRow(1, {"id": "c1", "email": "ana@example.com", "phone": ""})]
    pinpoint_import.write_import_file(rows, s3, BUCKET, "pinpoint/run-1/endpoints.json", "id", email_column="email",
                                      phone_column="phone")
    job_id = pinpoint_import.start_import(pinpoint, "app-1", f"s3://{BUCKET}/pinpoint/run-1/",
                                          "arn:aws:iam::123456789012:role/import", "run-1")
    while not (state := pinpoint_import.job_state(pinpoint, "app-1", job_id)).done:
        pass

    campaign_id = follow_up.create_campaign(pinpoint, "app-1", state.segment_id, "run-1 welcome", TEMPLATE,
                                            from_address=FROM)

    campaign = fakes.pinpoint.campaigns[("app-1", campaign_id)]
    assert campaign["SegmentId"] == state.segment_id
    assert campaign["Schedule"] == {"StartTime": "IMMEDIATE", "Frequency": "ONCE"}
    assert campaign["TemplateConfiguration"] == {"EmailTemplate": {"Name": TEMPLATE}}
    assert campaign["MessageConfiguration"] == {"EmailMessage": {"FromAddress": FROM}}


# ------------------------------------------------------------------ the message archive (#15)
def test_each_person_sent_to_is_archived_with_the_template_their_data_and_ses_message_id(sesv2, fakes):
    sqs = RecordingArchiveSqs()
    value = "<https://example.com/unsubscribe>"
    counts = _send(sesv2, _people(60), list_unsubscribe=value, archive=archive_of(sqs))
    assert counts.sent == 60
    assert [len(batch) for batch in sqs.batches] == [10] * 6  # queued after each chunk of calls, 10 a call
    archived = [m for batch in sqs.batches for m in batch]
    assert [(m.recipient, m.message_id) for m in archived] == [(m["To"][0], m["MessageId"])
                                                               for m in fakes.sesv2.sent_bulk]
    first = archived[0]
    assert (first.channel, first.origination, first.template) == ("email", FROM, TEMPLATE)
    assert first.replacement_data == {"email": "person1@example.com", "first_name": "P1"}
    assert first.headers == {"List-Unsubscribe": value, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def test_what_went_before_ses_stopped_the_follow_up_is_archived(sesv2, fakes):
    sqs = RecordingArchiveSqs()
    fakes.sesv2.entry_statuses.extend(["SUCCESS", "ACCOUNT_DAILY_QUOTA_EXCEEDED"])
    with pytest.raises(FollowUpStopped):
        _send(sesv2, _people(60), archive=archive_of(sqs))
    assert [[m.recipient for m in batch] for batch in sqs.batches] == [["person1@example.com"]]


def test_list_managed_sends_are_archived_with_their_list_and_topic(sesv2, fakes):
    sqs = RecordingArchiveSqs()
    sesv2.create_contact_list(ContactListName="customers", Topics=[
        {"TopicName": "news", "DisplayName": "News", "DefaultSubscriptionStatus": "OPT_IN"}])
    _send(sesv2, _people(2), contact_list="customers", topic="news", archive=archive_of(sqs))
    archived = [m for batch in sqs.batches for m in batch]
    assert [(m.recipient, m.message_id) for m in archived] == [(m["To"][0], m["MessageId"])
                                                               for m in fakes.sesv2.sent_templated]
    assert archived[0].headers == {"Contact-List": "customers", "Topic": "news"}


def test_without_the_archive_or_with_a_failing_one_the_follow_up_sends_the_same(sesv2, fakes):
    assert _send(sesv2, _people(3)).sent == 3
    assert _send(sesv2, _people(3), archive=archive_of(RecordingArchiveSqs(fail=True))).sent == 3
    assert len(fakes.sesv2.sent_bulk) == 6


def test_the_archive_holds_the_templates_content_as_it_was_when_sent(sesv2, fakes):
    """SES v2 templates have no versions: the name alone would say nothing once the template is changed."""
    sqs = RecordingArchiveSqs()
    _send(sesv2, _people(2), archive=archive_of(sqs))
    archived = [m for batch in sqs.batches for m in batch]
    assert {(m.template, m.subject, m.text, m.html) for m in archived} == {
        (TEMPLATE, "Welcome {{first_name}}", "Hello {{first_name}}", "")}
    assert len(fakes.sesv2.calls_of("GetEmailTemplate")) == 1  # read once, not per person


def test_a_template_that_cannot_be_read_is_archived_by_name(sesv2, fakes):
    sqs = RecordingArchiveSqs()
    fakes.sesv2.fail_next("GetEmailTemplate", "NotFoundException", status=404)  # deleted since
    assert _send(sesv2, _people(1), archive=archive_of(sqs)).sent == 1
    ((message,),) = sqs.batches
    assert (message.template, message.subject) == (TEMPLATE, "")



class InvocationDied(BaseException):
    """The invocation ends here (a timeout): nothing after it runs, no finally flushes."""


def test_a_follow_up_that_dies_in_a_chunks_second_call_has_archived_the_first_calls_sends(sesv2, fakes):
    """One chunk, two SendBulkEmail calls (the second for an entry SES failed for the moment): the invocation
    dies in the second call, and the sends of the first are queued already."""
    sqs = RecordingArchiveSqs()
    archive = archive_of(sqs)
    died = []
    real_flush = archive.flush
    archive.flush = lambda *args: 0 if died else real_flush(*args)  # a dead invocation runs nothing more
    calls = []

    def second_call_dies(**_):
        calls.append(1)
        if len(calls) == 2:
            died.append(True)
            raise InvocationDied

    fakes.sesv2.entry_statuses.extend(["SUCCESS", "TRANSIENT_FAILURE"])
    sesv2.meta.events.register("before-call.sesv2.SendBulkEmail", second_call_dies)
    with pytest.raises(InvocationDied):
        _send(sesv2, _people(2), archive=archive)
    archived = [m for batch in sqs.batches for m in batch]
    assert [m.recipient for m in archived] == ["person1@example.com"]
    assert archived[0].message_id
