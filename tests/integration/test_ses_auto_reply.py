"""SES Auto Reply deployed on the emulator: failures reach the on-failure destination; activation works."""

from __future__ import annotations

import json

import pytest

from due_local.flows import FLOWS, example, sent_mail
from scripts.deploy import deploy_local, stack_name_for

pytestmark = pytest.mark.integration


def failed_events(emulator, queue_url) -> list[dict]:
    messages = emulator.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def deploy(emulator, artifacts, **overrides):
    given = {**FLOWS["SES_Auto_Reply"].prepare(emulator), **overrides}
    stack = deploy_local(emulator, artifacts, "SES_Auto_Reply", given)
    emulator.complete_wiring(stack)
    return stack


def test_missing_template_is_retried_then_reported_with_the_event(emulator, artifacts):
    stack = deploy(emulator, artifacts, TemplateName="no-such-template")
    invoker = emulator.async_invoker(stack, "ResponderFunction")
    inbound = json.loads(example("ses_auto_reply", "inbound.json"))

    assert invoker.invoke(emulator.runtime, inbound) is None
    assert invoker.stats.invocations == 3  # the first try and MaximumRetryAttempts 2
    (failure,) = failed_events(emulator, stack.outputs["FailedRepliesQueueUrl"])
    assert failure["requestPayload"] == inbound
    assert failure["responsePayload"]["errorType"] == "TemplateMissing"
    assert "SES email template 'no-such-template' does not exist" in failure["responsePayload"]["errorMessage"]
    assert sent_mail() == []


def test_unverified_sender_identity_is_retried_then_reported(emulator, artifacts):
    stack = deploy(emulator, artifacts, DefaultResponseAddress="help@unverified.example.net")
    invoker = emulator.async_invoker(stack, "ResponderFunction")
    assert invoker.invoke(emulator.runtime, json.loads(example("ses_auto_reply", "inbound.json"))) is None
    (failure,) = failed_events(emulator, stack.outputs["FailedRepliesQueueUrl"])
    assert failure["responsePayload"]["errorType"] == "SendRefused"
    assert "help@unverified.example.net" in failure["responsePayload"]["errorMessage"]


def test_a_128_character_stack_name_creates_and_activates_the_rule_set(emulator, artifacts,
                                                                        cloudformation_creates_rule_sets):
    ses = emulator.client("ses")
    ses.create_receipt_rule_set(RuleSetName="previously-active")
    ses.set_active_receipt_rule_set(RuleSetName="previously-active")
    FLOWS["SES_Auto_Reply"].prepare(emulator)
    prefix = "a" * (128 - len(stack_name_for("", "SES_Auto_Reply")))  # the longest stack name CloudFormation takes
    stack = deploy_local(emulator, artifacts, "SES_Auto_Reply", {"TemplateName": "auto-reply"}, stack_prefix=prefix)
    assert len(stack.name) == 128
    stack_uuid = emulator.client("cloudformation").describe_stacks(StackName=stack.name)["Stacks"][0][
        "StackId"].rsplit("/", 1)[1]
    name = f"auto-reply-{stack_uuid}"
    assert stack.outputs["ReceiptRuleSetName"] == stack.outputs["ReceiptRuleName"] == name
    assert ses.describe_active_receipt_rule_set()["Metadata"]["Name"] == name
    emulator.complete_wiring(stack)  # creates the rule through SES's API, which checks the rule name's rules
    (rule,) = ses.describe_receipt_rule_set(RuleSetName=name)["Rules"]
    assert rule["Name"] == name
    assert "Recipients" not in rule or rule["Recipients"] == []  # every recipient
    assert rule["ScanEnabled"] is True
    assert [list(action) for action in rule["Actions"]] == [["LambdaAction"]]  # StopAfterReply defaults to false
