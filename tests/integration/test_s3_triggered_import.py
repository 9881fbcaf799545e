"""The S3 triggered import deployed on the emulator, its state machine really executed by Step Functions."""

from __future__ import annotations

import json

import pytest

from due_local.flows import EXAMPLES, FLOWS, import_file
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration

CONTACTS = (EXAMPLES / "s3_triggered_import" / "contacts.csv").read_bytes()


def deploy(emulator, artifacts, **parameters):
    emulator.client("sesv2").create_email_template(TemplateName="welcome", TemplateContent={
        "Subject": "Welcome, {{first_name}}", "Text": "Hello {{first_name}}"})
    stack = deploy_local(emulator, artifacts, "S3_triggered_import",
                         {**FLOWS["S3_triggered_import"].prepare(emulator), **parameters})
    emulator.complete_wiring(stack)
    return stack


def report(emulator, stack, key: str) -> dict:
    body = emulator.client("s3").get_object(Bucket=stack.outputs["ImportBucketName"], Key=f"{key}.report.json")
    return json.loads(body["Body"].read())


def profiles(emulator) -> dict[str, dict]:
    return {p["Attributes"]["customer_id"]: p for p in emulator.fakes.profiles.profiles.values()}


def test_json_lines_without_validation_write_profiles_as_written_and_announce_counts(emulator, artifacts):
    stack = deploy(emulator, artifacts, ValidatePhoneNumbers="false")
    lines = "\n".join(json.dumps(row) for row in [
        {"id": "j-1", "email": "ana@example.com", "phone": "+14255550101", "vip": True, "visits": 3},
        {"id": "j-2", "email": "bo@example.com", "tags": ["a", "b"]},
        {"id": "j-3", "phone": "(425) 555-0103", "city": "Tacoma"},
        "not an object",
    ]).encode()
    execution, notifications = import_file(emulator, stack, "incoming/people.jsonl", lines)

    assert execution["status"] == "SUCCEEDED"
    assert [n["outcome"] for n in notifications] == ["started", "succeeded"]
    assert notifications[-1]["counts"] == {"imported": 2, "failed": 0, "rows": 4, "bad_rows": 2}
    assert notifications[-1]["report"].endswith("incoming/people.jsonl.report.json")
    found = profiles(emulator)
    assert set(found) == {"j-1", "j-3"}
    assert found["j-1"]["Attributes"]["vip"] == "true" and found["j-1"]["Attributes"]["visits"] == "3"
    assert found["j-3"]["PhoneNumber"] == "(425) 555-0103"  # no validation: kept as written, nothing looked up
    assert "sms_messageable" not in found["j-3"]["Attributes"]
    assert emulator.fakes.sms.calls_of("CarrierLookup") == []
    assert [(r["row"], r["reason"]) for r in report(emulator, stack, "incoming/people.jsonl")["bad_rows"]] == [
        (2, "the field 'tags' holds a list, not a single value"), (4, "a JSON str, not an object")]


def test_the_same_object_notified_twice_imports_once_and_a_new_version_again(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    sqs = emulator.client("sqs")
    queue = sqs.get_queue_url(QueueName=stack.physical("ImportQueue").rsplit("/", 1)[1])["QueueUrl"]
    first, _ = import_file(emulator, stack, "incoming/contacts.csv", CONTACTS)
    # S3 delivers at least once: the notification of the same version arrives again.
    notification = {"Records": [{"eventSource": "aws:s3", "s3": {
        "bucket": {"name": stack.outputs["ImportBucketName"]},
        "object": {"key": "incoming/contacts.csv", "versionId": first["input"] and json.loads(first["input"])[
            "file"]["version_id"]}}}]}
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(notification))
    emulator.pump(stack)
    assert len(emulator.wait_for_executions(stack)) == 1
    lookups = len(emulator.fakes.sms.calls_of("CarrierLookup"))

    second, notifications = import_file(emulator, stack, "incoming/contacts.csv", CONTACTS)  # a new version

    assert second["status"] == "SUCCEEDED" and len(emulator.wait_for_executions(stack)) == 2
    assert notifications[-1]["counts"]["lookups"] == 0  # every number came from the cache table
    assert len(emulator.fakes.sms.calls_of("CarrierLookup")) == lookups
    assert len(profiles(emulator)) == 5  # re-importing the same people updated their profiles


def test_nothing_the_pipeline_writes_starts_another_import(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    import_file(emulator, stack, "incoming/contacts.csv", CONTACTS)
    s3 = emulator.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=stack.outputs["ImportBucketName"])["Contents"]]
    assert sorted(keys) == ["incoming/contacts.csv", "incoming/contacts.csv.report.json"]
    assert len(emulator.wait_for_executions(stack)) == 1
    # A key S3 sends URL-encoded is read decoded.
    execution, _ = import_file(emulator, stack, "incoming/new contacts+más.csv", CONTACTS)
    assert json.loads(execution["input"])["file"]["key"] == "incoming/new contacts+más.csv"
    assert execution["status"] == "SUCCEEDED"


def test_a_file_that_is_not_utf8_fails_announced_with_the_reason_and_reported(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    execution, notifications = import_file(emulator, stack, "incoming/legacy.csv",
                                           "id,email,first_name\nx-1,jose@example.com,José\n".encode("cp1252"))
    assert execution["status"] == "FAILED"
    assert [n["outcome"] for n in notifications] == ["started", "failed"]
    assert "not UTF-8 at byte" in notifications[-1]["error"]
    assert report(emulator, stack, "incoming/legacy.csv")["bad_rows"][0]["row"] == 0
    assert profiles(emulator) == {}


def test_throttled_profile_writes_and_lookups_are_retried_and_nothing_is_lost(emulator, artifacts, no_backoff):
    stack = deploy(emulator, artifacts)
    emulator.fakes.profiles.fail_next("BatchPutProfileObject", "ThrottlingException", times=2, status=429)
    emulator.fakes.sms.fail_next("CarrierLookup", "ThrottlingException", times=2, status=429)
    execution, notifications = import_file(emulator, stack, "incoming/contacts.csv", CONTACTS)
    assert execution["status"] == "SUCCEEDED"
    assert notifications[-1]["counts"]["imported"] == 5 and len(profiles(emulator)) == 5


def test_contact_list_import_job_then_follow_up_to_those_not_opted_out(emulator, artifacts):
    stack = deploy(emulator, artifacts, Destination="SESContactList", FollowUpTemplateName="welcome",
                   FollowUpFromAddress="news@example.com", ValidatePhoneNumbers="false")
    emulator.client("ses").verify_domain_identity(Domain="example.com")
    body = (b"id,email,first_name,email_opt_out\n"
            b"s-1,ana@example.com,Ana,\ns-2,bo@example.com,Bo,true\ns-3,not-an-address,Cy,\n")
    execution, notifications = import_file(emulator, stack, "incoming/list.csv", body)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    counts = notifications[-1]["counts"]
    assert (counts["staged"], counts["imported"], counts["failed"]) == (2, 2, 1)
    contacts = emulator.fakes.sesv2.contact_lists[stack.outputs["ContactListName"]]["contacts"]
    assert contacts["bo@example.com"]["UnsubscribeAll"] is True
    sent_to = [m["To"] for m in emulator.fakes.sesv2.sent_templated]
    assert sent_to == [["ana@example.com"]]  # Bo unsubscribed; the bad address was never imported
    assert counts["follow_up_sent"] == 1


@pytest.mark.parametrize(("destination", "ending"), [("SESContactList", ("FAILED", "the file could not be read")),
                                                     ("Pinpoint", ("FAILED", ["line 1: bad endpoint"]))])
def test_an_import_job_that_fails_fails_the_import_with_the_services_reason(emulator, artifacts, destination,
                                                                             ending):
    application = emulator.client("pinpoint").create_app(CreateApplicationRequest={"Name": "p"})
    stack = deploy(emulator, artifacts, Destination=destination,
                   PinpointApplicationId=application["ApplicationResponse"]["Id"])
    fake = emulator.fakes.sesv2 if destination == "SESContactList" else emulator.fakes.pinpoint
    fake.import_job_endings.append(ending)
    execution, notifications = import_file(emulator, stack, "incoming/contacts.csv", CONTACTS)

    assert execution["status"] == "FAILED"
    assert [n["outcome"] for n in notifications] == ["started", "failed"]
    assert notifications[-1]["error"].startswith("ImportJobFailed: import job ")


def test_an_import_job_still_running_after_its_looks_fails_the_import(emulator, artifacts):
    stack = deploy(emulator, artifacts, Destination="SESContactList", MaximumPolls="1")
    execution, notifications = import_file(emulator, stack, "incoming/contacts.csv", CONTACTS)
    assert execution["status"] == "FAILED"
    assert "ImportJobTimedOut" in notifications[-1]["error"]


def test_pinpoint_mode_imports_endpoints_marks_landlines_and_runs_the_campaign(emulator, artifacts):
    application = emulator.client("pinpoint").create_app(CreateApplicationRequest={"Name": "p"})["ApplicationResponse"]
    stack = deploy(emulator, artifacts, Destination="Pinpoint", PinpointApplicationId=application["Id"],
                   FollowUpTemplateName="welcome-email")
    execution, notifications = import_file(emulator, stack, "incoming/contacts.csv", CONTACTS)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    pinpoint = emulator.fakes.pinpoint
    assert len(pinpoint.calls_of("PhoneNumberValidate")) == 3 and not emulator.fakes.sms.calls_of("CarrierLookup")
    endpoints = {endpoint_id: e for (app, endpoint_id), e in pinpoint.endpoints.items() if app == application["Id"]}
    assert endpoints["c-1003-sms"]["OptOut"] == "ALL"  # a landline
    assert endpoints["c-1002-sms"]["Address"] == "+14255550102"
    (campaign,) = pinpoint.calls_of("CreateCampaign")
    assert campaign.params["WriteCampaignRequest"]["TemplateConfiguration"]["EmailTemplate"]["Name"] == "welcome-email"
    assert notifications[-1]["outcome"] == "succeeded"


def test_profiles_follow_up_reaches_only_imported_people_who_did_not_opt_out_anywhere(emulator, artifacts):
    stack = deploy(emulator, artifacts, FollowUpTemplateName="welcome", FollowUpFromAddress="news@example.com",
                   FollowUpListUnsubscribe="mailto:unsubscribe@example.com", ValidatePhoneNumbers="false")
    emulator.client("ses").verify_domain_identity(Domain="example.com")
    # An earlier file recorded Bo's opt-out; this file does not repeat it.
    import_file(emulator, stack, "incoming/earlier.csv", b"id,email,email_opt_out\nb-1,bo@example.com,yes\n")
    emulator.fakes.sesv2.sent_bulk.clear()
    body = (b"id,email,first_name,note\n"
            b"a-1,ana@example.com,Ana,\nb-1,bo@example.com,Bo,\nc-1,cy@example.com,Cy," + b"x" * 300 + b"\n")
    execution, notifications = import_file(emulator, stack, "incoming/welcome.csv", body)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    sent = emulator.fakes.sesv2.sent_bulk
    assert [m["To"] for m in sent] == [["ana@example.com"]]  # Bo opted out earlier; Cy's row was refused
    assert {"Name": "List-Unsubscribe", "Value": "<mailto:unsubscribe@example.com>"} in sent[0]["Headers"]
    counts = notifications[-1]["counts"]
    assert (counts["follow_up_sent"], counts["follow_up_opted_out"], counts["imported"]) == (1, 2, 2)
