"""External_Attributes deployed on the emulator: both modes, each missing-data policy, a slow store, SES's answers
per destination, redelivery without double sends, the campaign hook set, refused and restored."""

from __future__ import annotations

import ast
import json
import time

import pytest

from due.send_time import hook_setting
from due_local.cfn_response import ResponseCatcher
from due_local.flows import EXAMPLES, FLOWS, example
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration

NAME = "External_Attributes"


def deploy(emulator, artifacts, **given):
    return deploy_local(emulator, artifacts, NAME, {**FLOWS[NAME].prepare(emulator), **given})


@pytest.fixture
def stack(emulator, artifacts):
    return ready(emulator, deploy(emulator, artifacts))


def ready(emulator, stack):
    emulator.complete_wiring(stack)
    for item in json.loads(example("external_attributes", "offers.json")):
        emulator.client("dynamodb").put_item(TableName=stack.outputs["TableName"], Item=item)
    return stack


def audience(rows: int, offset: int = 1) -> bytes:
    lines = ["id,email,first_name"] + [f"c-{1000 + i},person{i}@example.com,P{i}" for i in range(offset, offset + rows)]
    return ("\n".join(lines) + "\n").encode()


def drop(emulator, stack, body: bytes, key: str = "incoming/list.csv") -> None:
    emulator.client("s3").put_object(Bucket=stack.outputs["AudienceBucketName"], Key=key, Body=body)


def results(emulator, stack, key: str = "incoming/list.csv") -> list[dict]:
    s3, bucket = emulator.client("s3"), stack.outputs["AudienceBucketName"]
    return [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{key}.results/").get("Contents", [])]


def sent_to(emulator) -> list[str]:
    return [a for m in emulator.fakes.sesv2.sent_bulk for a in m["To"]]


def test_a_redelivered_notification_sends_nobody_twice(emulator, stack):
    sqs = emulator.client("sqs")
    drop_queue = sqs.get_queue_url(QueueName=stack.physical("DropQueue").rsplit("/", 1)[1])["QueueUrl"]
    drop(emulator, stack, audience(7))
    notification = sqs.receive_message(QueueUrl=drop_queue)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=drop_queue, ReceiptHandle=notification["ReceiptHandle"],
                                  VisibilityTimeout=0)
    emulator.pump(stack)
    sqs.send_message(QueueUrl=drop_queue, MessageBody=notification["Body"])  # S3 delivers at least once
    emulator.pump(stack)
    assert sorted(sent_to(emulator)) == sorted(f"person{i}@example.com" for i in range(1, 8))


@pytest.mark.parametrize(("policy", "sent", "offer_of_3"), [
    ("Skip", ["person1@example.com", "person2@example.com"], None),
    ("SendWithout", ["person1@example.com", "person2@example.com", "person3@example.com"], ""),
    ("UseDefault", ["person1@example.com", "person2@example.com", "person3@example.com"], "A welcome gift"),
])
def test_a_recipient_without_an_item_follows_the_policy(emulator, artifacts, policy, sent, offer_of_3):
    stack = ready(emulator, deploy(emulator, artifacts, MissingDataPolicy=policy))
    body = (b"id,email,first_name\nc-1001,person1@example.com,A\nc-1002,person2@example.com,B\n"
            b"c-9999,person3@example.com,C\n")
    drop(emulator, stack, body)
    emulator.pump(stack)
    assert sorted(sent_to(emulator)) == sent
    offers = {m["To"][0]: m["Rendered"]["Text"] for m in emulator.fakes.sesv2.sent_bulk}
    assert offers["person1@example.com"].endswith("20% off walking boots")
    assert (offers["person3@example.com"].rsplit(": ", 1)[1] if "person3@example.com" in offers else None) == \
        offer_of_3
    skipped = [s for r in results(emulator, stack) for s in r["skipped"]]
    assert skipped == ([{"row": 3, "reason": "the store has no data for this recipient (policy Skip)"}]
                       if policy == "Skip" else [])


def test_a_slow_store_applies_the_policy_instead_of_failing_the_send(emulator, artifacts, monkeypatch):
    from due.send_time import attribute_store

    stack = ready(emulator, deploy(emulator, artifacts, MissingDataPolicy="UseDefault", LookupBudgetMilliseconds="50"))
    original = attribute_store.AttributeStore._read
    monkeypatch.setattr(attribute_store.AttributeStore, "_read",
                        lambda self, keys, progress: (time.sleep(0.5), original(self, keys, progress)))
    drop(emulator, stack, audience(2))
    stats = emulator.pump(stack)
    assert stats[stack.physical("SenderFunction")].failed_records == 0
    assert {m["Rendered"]["Text"].rsplit(": ", 1)[1] for m in emulator.fakes.sesv2.sent_bulk} == {"A welcome gift"}


def test_throttled_destinations_are_sent_again_and_rejected_ones_reported(emulator, stack):
    emulator.fakes.sesv2.entry_statuses = ["SUCCESS", "ACCOUNT_THROTTLED", "MESSAGE_REJECTED"]
    drop(emulator, stack, audience(3))
    emulator.pump(stack)
    assert sorted(sent_to(emulator)) == ["person1@example.com", "person2@example.com"]
    (result,) = results(emulator, stack)
    assert result["rejected"] == [{"row": 3, "status": "MESSAGE_REJECTED"}] and result["sent"] == 2


def test_each_destination_carries_its_own_unsubscribe_headers(emulator, stack):
    drop(emulator, stack, audience(2))
    emulator.pump(stack)
    for message in emulator.fakes.sesv2.sent_bulk:
        headers = {h["Name"]: h["Value"] for h in message["Headers"]}
        who = message["To"][0].replace("@", "%40")
        assert headers["List-Unsubscribe"] == f"<https://example.com/unsubscribe?who={who}>"
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_file_for_a_missing_template_is_refused_and_nothing_is_sent(emulator, artifacts):
    stack = ready(emulator, deploy(emulator, artifacts, TemplateName="no-such-template"))
    drop(emulator, stack, audience(2))
    emulator.pump(stack)
    assert sent_to(emulator) == []
    report = json.loads(emulator.client("s3").get_object(Bucket=stack.outputs["AudienceBucketName"],
                                                          Key="incoming/list.csv.report.json")["Body"].read())
    assert report["bad_rows"][0]["row"] == 0 and "no-such-template does not exist" in report["bad_rows"][0]["reason"]


# ------------------------------------------------------------------------------------------------ Pinpoint mode
def pinpoint_project(emulator, hook: str | None = None) -> str:
    pinpoint = emulator.client("pinpoint")
    project = pinpoint.create_app(CreateApplicationRequest={"Name": "campaigns"})["ApplicationResponse"]["Id"]
    if hook:
        pinpoint.update_application_settings(ApplicationId=project, WriteApplicationSettingsRequest={
            "CampaignHook": {"LambdaFunctionName": hook, "Mode": "FILTER"}})
    return project


def hook_of(emulator, project) -> dict:
    return emulator.client("pinpoint").get_application_settings(ApplicationId=project)[
        "ApplicationSettingsResource"]["CampaignHook"]


def deploy_pinpoint(emulator, artifacts, project, stack_prefix="due", **given):
    return deploy_local(emulator, artifacts, NAME, {"Mode": "Pinpoint", "PinpointApplicationId": project,
                                                    "MissingDataPolicy": "UseDefault", "DefaultOffer": "A welcome gift",
                                                    **given}, stack_prefix=stack_prefix)


def send_delete(emulator, stack, previous: dict) -> dict:
    """moto's CloudFormation does not send custom resources their Delete, and keeps an id of its own rather than
    the physical id the function answered (which holds the hook it replaced): send the Delete as CloudFormation
    would, with the id the function answers for ``previous``."""
    project = stack.parameters["PinpointApplicationId"]
    catcher = ResponseCatcher()
    try:
        event = catcher.event("Delete", {"ApplicationId": project, "FunctionArn": stack.outputs["HookFunctionArn"]},
                              physical_id=hook_setting.physical_id(project, previous))
        emulator.runtime.invoke(emulator.function_spec(stack, "HookSettingFunction"), event)
    finally:
        catcher.close()
    (response,) = catcher.responses
    return response


def test_pinpoint_mode_sets_the_hook_and_the_hook_adds_each_endpoints_offer(emulator, artifacts):
    project = pinpoint_project(emulator)
    stack = deploy_pinpoint(emulator, artifacts, project)
    assert hook_of(emulator, project) == {"LambdaFunctionName": stack.outputs["HookFunctionArn"], "Mode": "FILTER"}
    for item in json.loads(example("external_attributes", "offers.json")):
        emulator.client("dynamodb").put_item(TableName=stack.outputs["TableName"], Item=item)
    event = json.loads((EXAMPLES / "external_attributes" / "hook_event.json").read_text())
    answer = emulator.runtime.invoke(emulator.function_spec(stack, "HookFunction"), event)
    assert answer["c-1001"]["Attributes"] == {"Offer": ["20% off walking boots"]}
    assert answer["c-1002"]["Attributes"] == {"Plan": ["gold"], "Offer": ["Socks &amp; laces &lt;free&gt;"]}
    assert answer["c-1003"]["Attributes"] == {"Offer": ["A welcome gift"]}
    assert send_delete(emulator, stack, {})["Data"] == {"Restored": "true"}
    assert hook_of(emulator, project) == {}


def custom_resource(emulator, stack, request_type: str, project: str, replace: str = "false",
                    previous: dict | None = None) -> dict:
    """The hook setter answering CloudFormation: moto keeps a stack whose custom resource answered FAILED waiting
    rather than failing it, so the deployed function is given CloudFormation's request directly."""
    catcher = ResponseCatcher()
    try:
        event = catcher.event(request_type, {"ApplicationId": project, "FunctionArn": stack.outputs["HookFunctionArn"],
                                             "ReplaceExisting": replace},
                              physical_id=hook_setting.physical_id(project, previous) if previous is not None else None)
        emulator.runtime.invoke(emulator.function_spec(stack, "HookSettingFunction"), event)
    finally:
        catcher.close()
    (response,) = catcher.responses
    return response


def test_a_hook_of_someone_else_is_refused_unless_replacing_is_allowed_and_given_back_on_delete(emulator, artifacts):
    stack = deploy_pinpoint(emulator, artifacts, pinpoint_project(emulator))
    theirs = "arn:aws:lambda:us-east-1:123456789012:function:their-hook"
    project = pinpoint_project(emulator, hook=theirs)

    refused = custom_resource(emulator, stack, "Create", project)
    assert refused["Status"] == "FAILED" and "Set ReplaceExistingHook to true" in refused["Reason"]
    assert hook_of(emulator, project)["LambdaFunctionName"] == theirs

    created = custom_resource(emulator, stack, "Create", project, replace="true")
    previous = {"LambdaFunctionName": theirs, "Mode": "FILTER"}
    assert created["Status"] == "SUCCESS" and hook_setting.previous_of(created["PhysicalResourceId"]) == previous
    assert hook_of(emulator, project)["LambdaFunctionName"] == stack.outputs["HookFunctionArn"]

    deleted = custom_resource(emulator, stack, "Delete", project, previous=previous)
    assert deleted["Data"] == {"Restored": "true"} and hook_of(emulator, project) == previous


def test_the_sender_may_send_only_as_its_from_address_or_its_domain(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    iam = emulator.client("iam")
    role = stack.physical("SenderRole").rsplit("/", 1)[-1]
    documents = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                 for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    # moto hands the document back as the repr of the dict CloudFormation gave it
    statements = [s for d in documents for s in (ast.literal_eval(d) if isinstance(d, str) else d)["Statement"]]
    (send,) = [s for s in statements if s and s.get("Sid") == "Send"]  # None: an !If that gave NoValue
    sender = emulator.client("lambda").get_function_configuration(FunctionName=stack.physical("SenderFunction"))[
        "Environment"]["Variables"]["FROM_ADDRESS"]
    identities = sorted(r.rsplit(":identity/", 1)[1] for r in send["Resource"] if r and ":identity/" in r)
    assert identities == sorted([sender, sender.split("@", 1)[1]])
