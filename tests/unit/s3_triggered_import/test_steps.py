"""The import's steps as the state machine runs them, on moto (S3, SNS, DynamoDB) and the fakes."""

from __future__ import annotations

import dataclasses
import json

import pytest

from due.csv_stream import S3Object
from due.s3_triggered_import import starter
from due.s3_triggered_import.steps import Clients, Settings, Steps, _import_row
from due_local.tables import create_table
from tests.unit.s3_triggered_import.conftest import BUCKET

DOMAIN = "people"


@pytest.fixture
def settings(aws, fakes, s3) -> Settings:
    aws.client("customer-profiles").create_domain(DomainName=DOMAIN, DefaultExpirationDays=30)
    dynamodb = aws.client("dynamodb")
    create_table(dynamodb, "lookups", "number")
    create_table(dynamodb, "rates", "key")
    topic = aws.client("sns").create_topic(Name="imports")["TopicArn"]
    return Settings(destination="CustomerProfiles", id_column="id", email_column="email", phone_column="phone",
                    domain_name=DOMAIN, profile_writes_per_second=1000, lookup_cache_table_name="lookups",
                    rate_table_name="rates", notifications_topic_arn=topic)


@pytest.fixture
def heard(aws, settings):
    sqs, sns = aws.client("sqs"), aws.client("sns")
    queue = sqs.create_queue(QueueName="heard")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=settings.notifications_topic_arn, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})

    def read() -> list[dict]:
        found = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            found += [json.loads(m["Body"]) for m in messages]
            for m in messages:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return found
    return read


def state_for(s3, key: str, body: bytes, validate: str = "true") -> dict:
    version = s3.put_object(Bucket=BUCKET, Key=key, Body=body).get("VersionId")
    return {"file": {"bucket": BUCKET, "key": key, "version_id": version, "kind": key.rsplit(".", 1)[1]},
            "config": {"destination": "CustomerProfiles", "validate": validate, "follow_up": "false",
                       "poll_seconds": "1", "maximum_polls": "3"}}


def run(steps: Steps, state: dict, *actions: str) -> dict:
    for action in actions:
        state = json.loads(json.dumps(steps.run(action, state)))  # what Step Functions carries is JSON
        while not state["step"]["done"]:
            state = json.loads(json.dumps(steps.run(action, state)))
    return state


def csv_of(rows: int) -> bytes:
    lines = ["id,email,phone,first_name"] + [f"p-{i},p{i}@example.com,+1425555{i % 10000:04d},P{i}"
                                             for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("raw", "problem"), [
    (["a-1", "ana@example.com", ""], None),
    (["", "ana@example.com", ""], "no value in the id column 'id'"),
    (["a-1", "", ""], "no email address or phone number (columns 'email', 'phone')"),
    (["a-1", "ana@example.com"], "the row has 2 fields; the header has 3"),
    (["", " ", ""], "the row is empty"),
    ({"id": "a-1", "email": "a@example.com", "nested": {"x": 1}},
     "the field 'nested' holds a dict, not a single value"),
    ("not JSON (Expecting value at column 1)", "not JSON (Expecting value at column 1)"),
])
def test_which_rows_can_be_imported(raw, problem):
    settings = Settings(destination="CustomerProfiles", id_column="id", email_column="email", phone_column="phone")
    row, found = _import_row(7, raw, ["id", "email", "phone"], settings)
    assert (row is None) == (problem is not None)
    assert found == (problem or "")


def test_json_values_become_the_strings_a_profile_holds():
    settings = Settings(destination="CustomerProfiles", id_column="id", email_column="email", phone_column="phone")
    row, _ = _import_row(1, {"id": 5, "email": "a@example.com", "vip": False, "score": 1.5, "gone": None},
                         None, settings)
    assert row.fields == {"id": "5", "email": "a@example.com", "vip": "false", "score": "1.5", "gone": ""}


def test_a_long_file_is_written_over_several_invocations_with_progress_and_nothing_twice(aws, fakes, s3, settings,
                                                                                         heard):
    reads = {"n": 0}

    def time_is_short() -> bool:  # every invocation has time for 120 rows
        reads["n"] += 1
        return reads["n"] % 120 == 0

    steps = Steps(settings, Clients(aws.client, settings), time_is_short)
    state = state_for(s3, "incoming/big.csv", csv_of(300))
    state = steps.run("start", state)
    invocations = 0
    while True:
        state = json.loads(json.dumps(steps.run("write_profiles", state)))
        invocations += 1
        if state["step"]["done"]:
            break
        assert 0 < state["step"]["progress"]["percent"] < 100
    state = steps.run("report", state)

    assert invocations == 3
    assert state["counts"]["imported"] == 300 and len(fakes.profiles.profiles) == 300
    written = fakes.profiles.calls_of("BatchPutProfileObject")
    assert sum(len(c.params["Items"]) for c in written) == 300  # no row written twice
    assert [n["outcome"] for n in heard()] == ["started", "progress", "progress", "succeeded"]


def test_each_distinct_number_is_looked_up_once_and_written_in_e164(aws, fakes, s3, settings):
    steps = Steps(settings, Clients(aws.client, settings), lambda: False)
    body = b"id,email,phone\n" + b"".join(f"r-{i},,(425) 555-01{i % 3:02d}\n".encode() for i in range(60))
    state = run(steps, state_for(s3, "incoming/same.csv", body), "start", "validate", "write_profiles", "report")
    assert state["counts"]["lookups"] == 3 == len(fakes.sms.calls_of("CarrierLookup"))
    assert {p["PhoneNumber"] for p in fakes.profiles.profiles.values()} == {
        "+14255550100", "+14255550101", "+14255550102"}


def test_the_report_lists_each_bad_row_once_though_two_passes_read_the_file(aws, fakes, s3, settings):
    steps = Steps(settings, Clients(aws.client, settings), lambda: False)
    body = b"id,email,phone\n,a@example.com,\nb-1,b@example.com,+14255550100,extra\nc-1,c@example.com,\n"
    run(steps, state_for(s3, "incoming/bad.csv", body), "start", "validate", "write_profiles", "report")
    report = json.loads(s3.get_object(Bucket=BUCKET, Key="incoming/bad.csv.report.json")["Body"].read())
    assert [(r["row"], r["reason"]) for r in report["bad_rows"]] == [
        (1, "no value in the id column 'id'"), (2, "the row has 4 fields; the header has 3")]
    assert (report["rows"], report["imported"], report["bad_row_count"]) == (3, 1, 2)


def test_a_header_without_the_id_column_refuses_the_file(aws, fakes, s3, settings):
    steps = Steps(settings, Clients(aws.client, settings), lambda: False)
    state = steps.run("start", state_for(s3, "incoming/noid.csv", b"email,phone\na@example.com,\n"))
    with pytest.raises(ValueError, match="the header has no id column 'id'"):
        steps.run("validate", state)


def test_an_unknown_step_is_refused(aws, settings):
    with pytest.raises(ValueError, match="unknown step 'run'"):
        Steps(settings, Clients(aws.client, settings), lambda: False).run("run", {})


def test_one_execution_name_per_object_version_within_step_functions_rules():
    names = {starter.execution_name(S3Object("b", "incoming/a.csv", v)) for v in ("v1", "v2", None)}
    assert len(names) == 3
    assert all(len(n) <= 80 and n.replace("-", "").replace("_", "").isalnum() for n in names)
    assert starter.execution_name(S3Object("b", "incoming/a.csv", "v1")) in names


def test_a_second_start_of_the_same_version_starts_nothing(aws):
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name="m", roleArn="arn:aws:iam::123456789012:role/r", definition=json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
    source = S3Object("b", "incoming/a.csv", "v1")
    assert starter.start(sfn, machine, source) is True
    starter.start(sfn, machine, source)  # while the first runs, Step Functions answers with it (idempotent)
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_a_start_refused_as_already_existing_is_not_an_error(aws, fakes):
    sfn = aws.client("stepfunctions")
    fake_refusal = {"Error": {"Code": "ExecutionAlreadyExists", "Message": "Execution Already Exists"}}
    from botocore.stub import Stubber

    with Stubber(sfn) as stub:
        stub.add_client_error("start_execution", service_error_code="ExecutionAlreadyExists",
                              service_message=fake_refusal["Error"]["Message"], http_status_code=400)
        assert starter.start(sfn, "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                             S3Object("b", "incoming/a.csv", "v1")) is False


def test_throttling_that_outlasts_botocore_becomes_a_transient_error_the_state_machine_retries(monkeypatch,
                                                                                              lambda_context):
    from botocore.exceptions import ClientError

    from due.s3_triggered_import import steps_handler

    def throttled(self, action, state):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "CarrierLookup")

    def refused(self, action, state):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "CarrierLookup")

    monkeypatch.setattr(steps_handler, "_clients", lambda: Clients(lambda name: None, Settings("x", "id", "e", "p")))
    event = {"action": "validate", "state": {"file": {"key": "incoming/a.csv"}}}
    monkeypatch.setattr(Steps, "run", throttled)
    with pytest.raises(steps_handler.TransientError, match=r"validate: .*ThrottlingException"):
        steps_handler.lambda_handler(event, lambda_context)
    monkeypatch.setattr(Steps, "run", refused)  # not passing trouble: the import fails at once, announced
    with pytest.raises(ClientError):
        steps_handler.lambda_handler(event, lambda_context)


@pytest.mark.parametrize("header", [["ID", "Email", "Phone"], ["id", "email_address", "mobile"],
                                    ["Customer-Id", "E-Mail", "Phone Number"]])
def test_the_id_email_and_phone_columns_are_found_however_the_file_spells_them(header):
    settings = Settings(destination="CustomerProfiles", id_column="customer_id" if "Customer-Id" in header else "id",
                        email_column="email", phone_column="phone")
    from due.s3_triggered_import.steps import _header_check

    _header_check(settings)(header)  # no refusal
    row, problem = _import_row(1, ["p-1", "ana@example.com", "+14255550101"], header, settings)
    assert problem == ""
    assert (row.fields[settings.id_column], row.fields["email"], row.fields["phone"]) == (
        "p-1", "ana@example.com", "+14255550101")


def test_a_follow_up_paused_by_throttling_goes_on_from_the_last_chunk_sent_and_mails_nobody_twice(
        aws, fakes, s3, settings, no_backoff):
    settings = dataclasses.replace(settings, follow_up_template_name="welcome", follow_up_from_address="n@example.com",
                                   follow_up_list_unsubscribe="mailto:u@example.com", emails_per_second=1000)
    aws.client("sesv2").create_email_template(TemplateName="welcome", TemplateContent={"Subject": "Hi", "Text": "Hi"})
    steps = Steps(settings, Clients(aws.client, settings), lambda: False)
    state = run(steps, state_for(s3, "incoming/many.csv", csv_of(120), validate="false"), "start", "write_profiles")
    # The third chunk's send is throttled past botocore's retries (5 attempts in all).
    calls = {"n": 0}
    original = fakes.sesv2.send_bulk_email

    def throttle_third(*args, **kwargs):
        calls["n"] += 1
        if 3 <= calls["n"] <= 7:  # every one of botocore's 5 attempts of the third call
            from due_local.fakes import FakeError
            raise FakeError("TooManyRequestsException", "slow down", 429)
        return original(*args, **kwargs)

    fakes.sesv2.send_bulk_email = throttle_third
    state = json.loads(json.dumps(steps.run("follow_up", state)))
    assert state["step"]["done"] is False  # paused after two chunks of 50
    assert state["counts"]["follow_up_sent"] == 100
    state = run(steps, state, "follow_up")
    sent = [address for message in fakes.sesv2.sent_bulk for address in message["To"]]
    assert len(sent) == len(set(sent)) == 120


def test_an_existing_contact_list_without_the_topic_fails_the_import_at_once_naming_its_topics(aws, fakes, s3,
                                                                                               settings):
    aws.client("sesv2").create_contact_list(ContactListName="theirs", Topics=[
        {"TopicName": "news", "DisplayName": "News", "DefaultSubscriptionStatus": "OPT_OUT"}])
    settings = dataclasses.replace(settings, destination="SESContactList", contact_list_name="theirs",
                                   topic_name="updates")
    state = state_for(s3, "incoming/a.csv", b"id,email\na-1,a@example.com\n")
    state["config"]["follow_up"] = "true"
    with pytest.raises(ValueError, match="the contact list theirs has no topic 'updates' \\(its topics: news\\)"):
        Steps(settings, Clients(aws.client, settings), lambda: False).run("start", state)


def test_validation_that_needs_more_invocations_announces_how_far_it_got(aws, fakes, s3, settings, heard):
    reads = {"n": 0}

    def time_is_short() -> bool:  # every invocation has time for 100 rows
        reads["n"] += 1
        return reads["n"] % 100 == 0

    steps = Steps(settings, Clients(aws.client, settings), time_is_short)
    run(steps, state_for(s3, "incoming/long.csv", csv_of(250)), "start", "validate")
    progress = [n["progress"] for n in heard() if n["outcome"] == "progress"]
    assert [(p["step"], p["rows_read"]) for p in progress] == [("validate", 100), ("validate", 200)]
