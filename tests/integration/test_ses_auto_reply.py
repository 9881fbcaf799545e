"""SES Auto Reply deployed on the emulator: failures reach the on-failure destination; activation works."""

from __future__ import annotations

import json

import pytest

from due_local.flows import FLOWS, example, sent_mail
from scripts.deploy import deploy_local

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


def test_default_parameters_create_and_activate_the_rule_set(emulator, artifacts):
    ses = emulator.client("ses")
    ses.create_receipt_rule_set(RuleSetName="previously-active")
    ses.set_active_receipt_rule_set(RuleSetName="previously-active")
    # moto's CloudFormation skips AWS::SES::ReceiptRuleSet: create the one the stack would.
    ses.create_receipt_rule_set(RuleSetName="default-ses-auto-reply-auto-reply")
    FLOWS["SES_Auto_Reply"].prepare(emulator)
    stack = deploy_local(emulator, artifacts, "SES_Auto_Reply", {"TemplateName": "auto-reply"},
                         stack_prefix="default")
    assert ses.describe_active_receipt_rule_set()["Metadata"]["Name"] == "default-ses-auto-reply-auto-reply"
    assert stack.outputs["ReceiptRuleSetName"] == "default-ses-auto-reply-auto-reply"
    emulator.complete_wiring(stack)
    (rule,) = ses.describe_receipt_rule_set(RuleSetName="default-ses-auto-reply-auto-reply")["Rules"]
    assert "Recipients" not in rule or rule["Recipients"] == []  # every recipient
    assert rule["ScanEnabled"] is True
    assert [list(action) for action in rule["Actions"]] == [["LambdaAction"]]  # StopAfterReply defaults to false
