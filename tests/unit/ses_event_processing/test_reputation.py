"""The reputation rules, against moto DynamoDB and the SES v2 fake."""

import threading

import pytest
from botocore.exceptions import ClientError

from due import aws as due_aws
from due.email_feedback import EmailFeedback, FeedbackKind
from due.ses_event_processing.reputation import AddressBook, Outcome, Policy, Reputation, SuppressionList
from due_local.tables import create_table

TABLE = "addresses"


@pytest.fixture
def dynamodb(aws):
    client = aws.client("dynamodb")
    create_table(client, TABLE, "email")
    return client


def reputation(aws, dynamodb, threshold=0) -> Reputation:
    # The project's client factory, so its retry configuration is what gets tested.
    return Reputation(SuppressionList(due_aws.client("sesv2")), AddressBook(dynamodb, TABLE), Policy(threshold))


def feedback(kind, address="a@example.com", event_id="e1", at="2026-11-20T10:00:00.000Z") -> EmailFeedback:
    return EmailFeedback(kind=kind, addresses=(address,), event_id=event_id, occurred_at=at, message_id="m-" + event_id,
                         detail="test")


def item(dynamodb, address="a@example.com") -> dict:
    return dynamodb.get_item(TableName=TABLE, Key={"email": {"S": address}}, ConsistentRead=True)["Item"]


@pytest.mark.parametrize(("kind", "reason", "counter"), [
    (FeedbackKind.HARD_BOUNCE, "BOUNCE", "hard_bounce_count"),
    (FeedbackKind.COMPLAINT, "COMPLAINT", "complaint_count"),
])
def test_hard_bounce_and_complaint_suppress(aws, dynamodb, fakes, kind, reason, counter):
    outcomes = reputation(aws, dynamodb).apply(feedback(kind))
    assert outcomes == {"a@example.com": Outcome.SUPPRESSED}
    assert fakes.sesv2.suppressed["a@example.com"]["Reason"] == reason
    stored = item(dynamodb)
    assert stored["status"]["S"] == "suppressed"
    assert stored["ses_suppressed"]["BOOL"] is True
    assert stored[counter]["N"] == "1"
    assert stored["last_event_id"]["S"] == "e1"
    assert stored["last_message_id"]["S"] == "m-e1"


def test_soft_bounce_is_counted_not_suppressed(aws, dynamodb, fakes):
    outcomes = reputation(aws, dynamodb).apply(feedback(FeedbackKind.SOFT_BOUNCE))
    assert outcomes == {"a@example.com": Outcome.COUNTED}
    assert fakes.sesv2.suppressed == {}
    assert item(dynamodb)["status"]["S"] == "active"
    assert item(dynamodb)["soft_bounce_count"]["N"] == "1"


def test_soft_bounce_threshold_suppresses_on_the_nth(aws, dynamodb, fakes):
    rep = reputation(aws, dynamodb, threshold=3)
    results = [rep.apply(feedback(FeedbackKind.SOFT_BOUNCE, event_id=f"e{i}"))["a@example.com"] for i in range(4)]
    assert results == [Outcome.COUNTED, Outcome.COUNTED, Outcome.SUPPRESSED, Outcome.ALREADY_SUPPRESSED]
    assert fakes.sesv2.suppressed["a@example.com"]["Reason"] == "BOUNCE"
    assert len(fakes.sesv2.calls_of("PutSuppressedDestination")) == 1


def test_duplicate_delivery_changes_nothing_and_calls_ses_once(aws, dynamodb, fakes):
    rep = reputation(aws, dynamodb)
    first = rep.apply(feedback(FeedbackKind.HARD_BOUNCE))
    before = item(dynamodb)
    second = rep.apply(feedback(FeedbackKind.HARD_BOUNCE))
    assert first == {"a@example.com": Outcome.SUPPRESSED}
    assert second == {"a@example.com": Outcome.DUPLICATE}
    assert item(dynamodb) == before
    assert len(fakes.sesv2.calls_of("PutSuppressedDestination")) == 1


def test_second_suppressing_event_does_not_call_ses_again(aws, dynamodb, fakes):
    rep = reputation(aws, dynamodb)
    rep.apply(feedback(FeedbackKind.HARD_BOUNCE, event_id="e1"))
    assert rep.apply(feedback(FeedbackKind.COMPLAINT, event_id="e2")) == {"a@example.com": Outcome.ALREADY_SUPPRESSED}
    assert len(fakes.sesv2.calls_of("PutSuppressedDestination")) == 1
    assert item(dynamodb)["complaint_count"]["N"] == "1"


def test_older_event_arriving_late_is_counted_but_keeps_the_newest_as_last(aws, dynamodb, fakes):
    rep = reputation(aws, dynamodb)
    rep.apply(feedback(FeedbackKind.SOFT_BOUNCE, event_id="new", at="2026-11-20T12:00:00.000Z"))
    assert rep.apply(feedback(FeedbackKind.SOFT_BOUNCE, event_id="old", at="2026-11-20T08:00:00.000Z")) == {
        "a@example.com": Outcome.COUNTED}
    stored = item(dynamodb)
    assert stored["soft_bounce_count"]["N"] == "2"
    assert stored["last_event_id"]["S"] == "new"
    assert set(stored["processed_event_ids"]["SS"]) == {"new", "old"}


def test_concurrent_events_for_one_address_all_count(aws, dynamodb, fakes):
    rep = reputation(aws, dynamodb)
    events = [feedback(FeedbackKind.SOFT_BOUNCE, event_id=f"e{i}", at=f"2026-11-20T10:00:{i:02d}.000Z")
              for i in range(20)]
    threads = [threading.Thread(target=rep.apply, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = item(dynamodb)
    assert stored["soft_bounce_count"]["N"] == "20"
    assert len(stored["processed_event_ids"]["SS"]) == 20
    assert stored["last_event_id"]["S"] == "e19"  # the newest, whatever order the threads ran in


def test_several_addresses_in_one_notification(aws, dynamodb, fakes):
    event = EmailFeedback(FeedbackKind.HARD_BOUNCE, ("a@example.com", "b@example.com", "a@example.com"), "e1",
                          "2026-11-20T10:00:00.000Z", "m1")
    assert reputation(aws, dynamodb).apply(event) == {"a@example.com": Outcome.SUPPRESSED,
                                                      "b@example.com": Outcome.SUPPRESSED}


def test_throttled_suppression_is_retried_by_the_client(aws, dynamodb, fakes, no_backoff):
    fakes.sesv2.fail_next("PutSuppressedDestination", "TooManyRequestsException", times=3, status=429)
    assert reputation(aws, dynamodb).apply(feedback(FeedbackKind.HARD_BOUNCE)) == {"a@example.com": Outcome.SUPPRESSED}
    assert len(fakes.sesv2.calls_of("PutSuppressedDestination")) == 4


def test_client_gives_up_after_five_attempts(aws, dynamodb, fakes, no_backoff):
    fakes.sesv2.fail_next("PutSuppressedDestination", "TooManyRequestsException", times=5, status=429)
    with pytest.raises(ClientError, match="TooManyRequestsException"):
        reputation(aws, dynamodb).apply(feedback(FeedbackKind.HARD_BOUNCE))
    assert len(fakes.sesv2.calls_of("PutSuppressedDestination")) == 5


def test_failed_suppression_is_finished_by_the_retry(aws, dynamodb, fakes, no_backoff):
    """The event is recorded first; a retry after a failed SES call completes the suppression."""
    rep = reputation(aws, dynamodb)
    fakes.sesv2.fail_next("PutSuppressedDestination", "TooManyRequestsException", times=5, status=429)
    with pytest.raises(ClientError, match="TooManyRequestsException"):
        rep.apply(feedback(FeedbackKind.HARD_BOUNCE))
    assert item(dynamodb)["status"]["S"] == "active"  # not marked before SES accepted it
    assert rep.apply(feedback(FeedbackKind.HARD_BOUNCE)) == {"a@example.com": Outcome.SUPPRESSED}
    assert item(dynamodb)["status"]["S"] == "suppressed"
    assert item(dynamodb)["hard_bounce_count"]["N"] == "1"  # the retry did not count twice


def test_existing_table_with_its_own_key_attribute(aws, fakes):
    dynamodb = aws.client("dynamodb")
    create_table(dynamodb, "crm", "EmailAddress")
    dynamodb.put_item(TableName="crm", Item={"EmailAddress": {"S": "a@example.com"}, "first_name": {"S": "Ana"}})
    rep = Reputation(SuppressionList(due_aws.client("sesv2")), AddressBook(dynamodb, "crm", "EmailAddress"), Policy())
    rep.apply(feedback(FeedbackKind.COMPLAINT))
    stored = dynamodb.get_item(TableName="crm", Key={"EmailAddress": {"S": "a@example.com"}})["Item"]
    assert stored["first_name"]["S"] == "Ana"
    assert stored["status"]["S"] == "suppressed"



@pytest.mark.parametrize(("kind", "counter"), [
    (FeedbackKind.NOT_SPAM, "not_spam_count"),
    (FeedbackKind.AUTH_FAILURE_REPORT, "auth_failure_report_count"),
])
def test_reports_that_are_not_the_recipients_complaint_never_suppress(aws, dynamodb, fakes, kind, counter):
    outcomes = reputation(aws, dynamodb).apply(feedback(kind))
    assert outcomes == {"a@example.com": Outcome.COUNTED}
    assert fakes.sesv2.suppressed == {}
    assert item(dynamodb)["status"]["S"] == "active"
    assert item(dynamodb)[counter]["N"] == "1"


def test_a_not_spam_report_does_not_lift_an_earlier_suppression(aws, dynamodb, fakes):
    rep = reputation(aws, dynamodb)
    rep.apply(feedback(FeedbackKind.COMPLAINT, event_id="e1"))
    rep.apply(feedback(FeedbackKind.NOT_SPAM, event_id="e2", at="2026-11-21T10:00:00.000Z"))
    assert item(dynamodb)["status"]["S"] == "suppressed"
    assert "a@example.com" in fakes.sesv2.suppressed


def test_mail_ses_did_not_send_for_the_suppression_list_is_recorded_without_a_new_suppression(aws, dynamodb, fakes):
    calls = []
    fakes_client = due_aws.client("sesv2")
    fakes_client.meta.events.register("provide-client-params.sesv2.PutSuppressedDestination",
                                      lambda params, **_: calls.append(params))
    outcomes = reputation(aws, dynamodb).apply(feedback(FeedbackKind.ON_SUPPRESSION_LIST))
    assert outcomes == {"a@example.com": Outcome.ALREADY_SUPPRESSED}
    assert calls == []
    stored = item(dynamodb)
    assert (stored["status"]["S"], stored["ses_suppressed"]["BOOL"]) == ("suppressed", True)
    assert stored["on_suppression_list_count"]["N"] == "1"
    assert "complaint_count" not in stored
