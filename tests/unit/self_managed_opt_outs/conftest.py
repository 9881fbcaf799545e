from __future__ import annotations

import json
from pathlib import Path

import pytest

from due import aws as due_aws
from due import sms_events
from due.self_managed_opt_outs.keywords import KeywordRules
from due.self_managed_opt_outs.opt_out_store import PinpointEndpoints, SmsOptOutList
from due.self_managed_opt_outs.processor import OptOutProcessor, ProcessedSteps, Texts
from due.sms_sending import EndUserMessagingSms, PinpointSms
from due_local.flows import listen
from due_local.tables import create_table

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "self_managed_opt_outs"
TEXTS = Texts("You are opted out. Reply START to opt back in.", "You are opted in again.", "Help: example.com/sms",
              "You stay opted out for now. Reply START again later.")


def inbound(name: str, **changes) -> dict:
    return {**json.loads((EXAMPLES / f"inbound_{name}.json").read_text()), **changes}


def sms(name: str, **changes) -> sms_events.InboundSms:
    return sms_events.parse(inbound(name, **changes))


@pytest.fixture
def notifications(aws):
    """The notifications topic, with a queue subscribed to read what it published."""
    topic = aws.client("sns").create_topic(Name="opt-out-notifications")["TopicArn"]
    return topic, listen(aws.client("sns"), aws.client("sqs"), topic)


@pytest.fixture
def steps(aws):
    create_table(aws.client("dynamodb"), "processed", "inbound_message_id")
    return ProcessedSteps(due_aws.client("dynamodb"), "processed")


def processor(mode: str, topic: str, steps: ProcessedSteps) -> OptOutProcessor:
    if mode == "Pinpoint":
        store = PinpointEndpoints(due_aws.client("pinpoint"), "app")
        replies = PinpointSms(due_aws.client("pinpoint"), "app")
    else:
        store = SmsOptOutList(due_aws.client("pinpoint-sms-voice-v2"), "promotional")
        replies = EndUserMessagingSms(due_aws.client("pinpoint-sms-voice-v2"))
    return OptOutProcessor(KeywordRules(), store, replies, due_aws.client("sns"), topic, steps, TEXTS)
