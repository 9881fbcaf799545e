from __future__ import annotations

import functools
import json

import pytest

from due.s3_triggered_import import ses_contact_list
from due.s3_triggered_import.rows import ImportRow, RowFailure
from tests.unit.s3_triggered_import.conftest import BUCKET, read_lines

LIST = "customers"


def _nobody(address):
    return None


def _rows():
    return [
        ImportRow(1, {"id": "c1", "email": "ana@example.com", "first_name": "Ana", "city": ""}),
        ImportRow(2, {"id": "c2", "email": "", "first_name": "Bo"}),
        ImportRow(3, {"id": "c3", "email": "ché@example.com", "first_name": "Ché"}),
        ImportRow(4, {"id": "c4", "email": " dan@example.com ", "first_name": "Dan", "email_opt_out": "TRUE"}),
    ]


def test_rows_become_ses_contacts_and_rows_without_a_usable_address_are_reported(s3):
    written, failures = ses_contact_list.write_import_file(_rows(), s3, BUCKET, "ses/contacts.json", "email",
                                                           topic_name="news", existing_contact=_nobody)

    assert written == 2
    assert failures == [RowFailure(2, "no email address (column 'email')"),
                        RowFailure(3, "email address has non-ASCII characters before the @ (SES does not support "
                                      "SMTPUTF8) (column 'email')")]
    ana, dan = read_lines(s3, "ses/contacts.json")
    assert ana == {"emailAddress": "ana@example.com",
                   "attributesData": json.dumps({"id": "c1", "first_name": "Ana"})}
    assert dan["emailAddress"] == "dan@example.com"
    assert dan["unsubscribeAll"] is True
    assert dan["topicPreferences"] == [{"topicName": "news", "subscriptionStatus": "OPT_OUT"}]


def test_an_import_never_subscribes_anyone(s3):
    ses_contact_list.write_import_file(_rows(), s3, BUCKET, "ses/contacts.json", "email", topic_name="news",
                                      existing_contact=_nobody)

    body = s3.get_object(Bucket=BUCKET, Key="ses/contacts.json")["Body"].read().decode()
    assert "OPT_IN" not in body
    assert all(line.get("unsubscribeAll", True) is True for line in read_lines(s3, "ses/contacts.json"))


def test_an_opt_out_column_counts_however_the_file_spells_it(s3):
    rows = [ImportRow(1, {"email": "eve@example.com", "Email Opt Out": "yes"})]

    ses_contact_list.write_import_file(rows, s3, BUCKET, "ses/contacts.json", "email", topic_name="news",
                                       existing_contact=_nobody)

    (eve,) = read_lines(s3, "ses/contacts.json")
    assert eve["unsubscribeAll"] is True
    assert eve["topicPreferences"] == [{"topicName": "news", "subscriptionStatus": "OPT_OUT"}]


def test_a_contact_on_the_list_keeps_its_preferences_and_a_file_opt_out_is_added_to_them(s3):
    on_the_list = {"EmailAddress": "dan@example.com", "UnsubscribeAll": False, "TopicPreferences": [
        {"TopicName": "offers", "SubscriptionStatus": "OPT_IN"}, {"TopicName": "news", "SubscriptionStatus": "OPT_IN"}]}

    ses_contact_list.write_import_file(_rows(), s3, BUCKET, "ses/contacts.json", "email", topic_name="news",
                                       existing_contact=lambda a: on_the_list if a == "dan@example.com" else None)

    _, dan = read_lines(s3, "ses/contacts.json")
    assert dan["unsubscribeAll"] is True
    assert dan["topicPreferences"] == [{"topicName": "offers", "subscriptionStatus": "OPT_IN"},
                                       {"topicName": "news", "subscriptionStatus": "OPT_OUT"}]


def _poll(sesv2, job_id):
    states = [ses_contact_list.job_state(sesv2, job_id)]
    while not states[-1].done:
        states.append(ses_contact_list.job_state(sesv2, job_id))
    return states


def test_the_import_job_puts_the_contacts_on_the_list_and_is_polled_to_its_end(aws, fakes, s3):
    sesv2 = aws.client("sesv2")
    sesv2.create_contact_list(ContactListName=LIST, Topics=[
        {"TopicName": "news", "DisplayName": "News", "DefaultSubscriptionStatus": "OPT_IN"}])
    ses_contact_list.write_import_file(_rows(), s3, BUCKET, "ses/contacts.json", "email", topic_name="news",
                                      existing_contact=_nobody)

    job_id = ses_contact_list.start_import(sesv2, LIST, f"s3://{BUCKET}/ses/contacts.json")
    states = _poll(sesv2, job_id)

    assert [s.status for s in states] == ["running", "succeeded"]
    assert (states[-1].processed, states[-1].failed) == (2, 0)
    dan = sesv2.get_contact(ContactListName=LIST, EmailAddress="dan@example.com")
    assert dan["UnsubscribeAll"] is True
    ana = sesv2.get_contact(ContactListName=LIST, EmailAddress="ana@example.com")
    assert json.loads(ana["AttributesData"]) == {"id": "c1", "first_name": "Ana"}
    (call,) = fakes.sesv2.calls_of("CreateImportJob")
    assert call.params["ImportDataSource"] == {"S3Url": f"s3://{BUCKET}/ses/contacts.json", "DataFormat": "JSON"}
    assert call.params["ImportDestination"]["ContactListDestination"]["ContactListImportAction"] == "PUT"


@pytest.mark.parametrize(("unsubscribed", "expected"), [
    ({"UnsubscribeAll": True}, {"UnsubscribeAll": True, "TopicPreferences": []}),
    ({"TopicPreferences": [{"TopicName": "news", "SubscriptionStatus": "OPT_OUT"}]},
     {"UnsubscribeAll": False, "TopicPreferences": [{"TopicName": "news", "SubscriptionStatus": "OPT_OUT"}]}),
], ids=["from-the-list", "from-the-topic"])
def test_a_reimported_contact_who_unsubscribed_stays_unsubscribed(aws, fakes, s3, unsubscribed, expected):
    sesv2 = aws.client("sesv2")
    sesv2.create_contact_list(ContactListName=LIST, Topics=[
        {"TopicName": "news", "DisplayName": "News", "DefaultSubscriptionStatus": "OPT_IN"}])
    sesv2.create_contact(ContactListName=LIST, EmailAddress="ana@example.com", **unsubscribed)
    existing_contact = functools.partial(ses_contact_list.get_existing_contact, sesv2, LIST)

    ses_contact_list.write_import_file(_rows(), s3, BUCKET, "ses/contacts.json", "email", topic_name="news",
                                       existing_contact=existing_contact)
    _poll(sesv2, ses_contact_list.start_import(sesv2, LIST, f"s3://{BUCKET}/ses/contacts.json"))

    ana = sesv2.get_contact(ContactListName=LIST, EmailAddress="ana@example.com")
    assert {"UnsubscribeAll": ana["UnsubscribeAll"], "TopicPreferences": ana["TopicPreferences"]} == expected
    assert json.loads(ana["AttributesData"]) == {"id": "c1", "first_name": "Ana"}  # the file's data still lands


def test_an_address_not_on_the_list_is_no_existing_contact(aws, fakes):
    sesv2 = aws.client("sesv2")
    sesv2.create_contact_list(ContactListName=LIST)

    assert ses_contact_list.get_existing_contact(sesv2, LIST, "new@example.com") is None


@pytest.mark.parametrize(("ending", "error"), [
    (("FAILED", "Access denied to the S3 object"), "Access denied to the S3 object"),
    (("CANCELLED", ""), "the import job was cancelled"),
    (("PAUSED", ""), "which this code does not know"),
])
def test_every_end_of_the_job_but_completion_is_a_failure_with_the_reason(aws, fakes, s3, ending, error):
    sesv2 = aws.client("sesv2")
    sesv2.create_contact_list(ContactListName=LIST)
    ses_contact_list.write_import_file(_rows(), s3, BUCKET, "ses/contacts.json", "email", existing_contact=_nobody)
    fakes.sesv2.import_job_endings.append(ending)

    job_id = ses_contact_list.start_import(sesv2, LIST, f"s3://{BUCKET}/ses/contacts.json")
    final = _poll(sesv2, job_id)[-1]

    assert final.status == "failed"
    assert error in final.error


def test_the_account_has_one_contact_list(aws, fakes):
    sesv2 = aws.client("sesv2")
    sesv2.create_contact_list(ContactListName=LIST)

    with pytest.raises(sesv2.exceptions.LimitExceededException):
        sesv2.create_contact_list(ContactListName="another")
