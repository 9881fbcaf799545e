"""Connect as a Channel deployed on the emulator: the voice drop, redelivery, contact events, the Pinpoint hook."""

from __future__ import annotations

import json
import time

import pytest

from due.connect_channel.call_slots import CallSlots
from due_local.flows import CONNECT_INSTANCE, FLOWS, connect_outcomes, drop_for_calls, end_calls, example
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration


def deploy(emulator, artifacts, **given):
    stack = deploy_local(emulator, artifacts, "Connect_as_a_Channel",
                         {**FLOWS["Connect_as_a_Channel"].prepare(emulator), **given})
    emulator.complete_wiring(stack)
    return stack


def csv_of(numbers: list[str]) -> bytes:
    return ("phone,message,external_id\n" + "".join(f"{n},Hello {i},p-{i}\n" for i, n in enumerate(numbers))).encode()


@pytest.fixture
def stack(emulator, artifacts):
    return deploy(emulator, artifacts)


def test_the_sample_flow_passes(emulator, stack):
    result = FLOWS["Connect_as_a_Channel"].run(emulator, stack)
    assert result.passed, result.line()


def test_a_redelivered_notification_and_a_redelivered_call_dial_nobody_twice(emulator, stack):
    numbers = [f"+1425555{i:04d}" for i in range(8)]  # fewer than the instance's 10 calls at once
    sqs = emulator.client("sqs")
    drop_queue = sqs.get_queue_url(QueueName=stack.physical("DropQueue").rsplit("/", 1)[1])["QueueUrl"]
    emulator.client("s3").put_object(Bucket=stack.outputs["BucketName"], Key="incoming/f.csv", Body=csv_of(numbers))
    notification = sqs.receive_message(QueueUrl=drop_queue)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=drop_queue, ReceiptHandle=notification["ReceiptHandle"],
                                  VisibilityTimeout=0)
    emulator.pump(stack)
    end_calls(emulator, stack)  # the calls are over: Connect's client token alone would now dial again
    sqs.send_message(QueueUrl=drop_queue, MessageBody=notification["Body"])  # S3 delivers at least once
    emulator.pump(stack)
    dialled = [c["DestinationPhoneNumber"] for c in emulator.fakes.connect.contacts]
    assert sorted(dialled) == sorted(numbers)
    assert [o["outcome"] for o in connect_outcomes(emulator, stack)] == ["called"] * 8


def test_no_more_calls_at_once_than_the_limit_and_contact_events_free_the_slots(emulator, artifacts, monkeypatch):
    # The sender waits for a slot no time at all and holds the message back one second, so the test is quick.
    monkeypatch.setattr("due.connect_channel.sender_handler.SLOT_WAIT_SECONDS", 0)
    monkeypatch.setattr("due.connect_channel.sender_handler.SLOT_HOLD_SECONDS", 1)
    stack = deploy(emulator, artifacts, MaxConcurrentCalls="3")
    emulator.client("s3").put_object(Bucket=stack.outputs["BucketName"], Key="incoming/f.csv",
                                     Body=csv_of([f"+1425555{i:04d}" for i in range(7)]))
    slots = CallSlots(emulator.client("dynamodb"), stack.physical("PacingTable"),
                      f"calls-in-progress:{CONNECT_INSTANCE}")
    rounds = []
    for _ in range(3):
        emulator.pump(stack)
        rounds.append((len(emulator.fakes.connect.active), slots.in_progress()))
        end_calls(emulator, stack)
        time.sleep(1.1)  # the held messages' one second of invisibility
    assert rounds == [(3, 3), (3, 3), (1, 1)]
    assert emulator.fakes.connect.fast_busy == []  # never over the instance's limit
    assert len(emulator.fakes.connect.contacts) == 7
    assert slots.in_progress() == 0
    dead = emulator.client("sqs").receive_message(QueueUrl=stack.outputs["SendDeadLetterQueueUrl"])
    assert "Messages" not in dead


def test_the_rule_takes_this_instances_ended_calls_off_the_default_bus(emulator, stack):
    drop_for_calls(emulator, stack, "incoming/f.csv", csv_of(["+14255550001", "+14255550002"]))
    slots = CallSlots(emulator.client("dynamodb"), stack.physical("PacingTable"),
                      f"calls-in-progress:{CONNECT_INSTANCE}")
    assert slots.in_progress() == 2
    documented = json.loads(example("connect_as_a_channel", "contact_event_disconnected.json"))
    one_of_ours = next(iter(emulator.fakes.connect.active))
    for instance, event_type in (("another-instance", "DISCONNECTED"), (CONNECT_INSTANCE, "CONNECTED_TO_SYSTEM")):
        detail = {**documented["detail"], "contactId": one_of_ours, "eventType": event_type,
                  "instanceArn": f"arn:aws:connect:us-east-1:123456789012:instance/{instance}"}
        emulator.client("events").put_events(Entries=[{"Source": "aws.connect", "DetailType": documented[
            "detail-type"], "Resources": [], "Detail": json.dumps(detail)}])
    emulator.pump(stack)
    assert slots.in_progress() == 2  # another instance's call, or a call that is not over: not ours to free
    assert end_calls(emulator, stack, through_event_bridge=True) == 2
    assert slots.in_progress() == 0


def test_outcomes_are_published_on_the_topic(emulator, stack):
    sqs, sns = emulator.client("sqs"), emulator.client("sns")
    listener = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=listener, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.outputs["OutcomeTopicArn"], Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    drop_for_calls(emulator, stack, "incoming/f.csv", csv_of(["+14255550001", "+1425", "+33142685300"]))
    published = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=listener, MaxNumberOfMessages=10)[
        "Messages"]]
    assert sorted((o["number"], o["outcome"]) for o in published) == [
        ("+1425", "invalid number"), ("+14255550001", "called"), ("+33142685300", "refused")]


def test_pinpoint_mode_calls_each_phone_endpoint_once_per_campaign_run(emulator, artifacts):
    stack = deploy(emulator, artifacts, Mode="Pinpoint", PinpointApplicationId="3a9b1f4e6c764ba7b031e7183example")
    event = json.loads(example("connect_as_a_channel", "pinpoint_hook_event.json"))
    invoker = emulator.async_invoker(stack, "HookFunction")
    invoker.invoke(emulator.runtime, event)
    invoker.invoke(emulator.runtime, event)  # Pinpoint retries a hook: the same run
    emulator.pump(stack)
    contacts = emulator.fakes.connect.contacts
    assert sorted(c["DestinationPhoneNumber"] for c in contacts) == ["+14255550111", "+14255550112"]
    assert {c["Attributes"]["message"] for c in contacts} == {"Your table is ready."}
    skipped = [o for o in connect_outcomes(emulator, stack) if o["outcome"] == "skipped"]
    assert {o["recipient"] for o in skipped} == {"endpoint-email-3"}
    event["ActivityId"] = "next-run"
    end_calls(emulator, stack)
    invoker.invoke(emulator.runtime, event)
    emulator.pump(stack)
    assert len(emulator.fakes.connect.contacts) == 4  # the next run calls again


def test_end_user_messaging_voice_speaks_with_send_voice_message(emulator, artifacts):
    stack = deploy(emulator, artifacts, Channel="EndUserMessagingVoice", VoiceOriginationIdentity="pool-voice")
    drop_for_calls(emulator, stack, "incoming/f.csv", csv_of(["+14255550001", "+14255550002"]))
    sent = emulator.fakes.sms.voice_messages
    assert sorted(m["DestinationPhoneNumber"] for m in sent) == ["+14255550001", "+14255550002"]
    assert {m["OriginationIdentity"] for m in sent} == {"pool-voice"}
    assert emulator.fakes.connect.contacts == []


def test_outside_the_calling_window_rows_wait_on_the_queue_and_are_not_dropped(emulator, artifacts):
    hour = time.gmtime().tm_hour
    start = 13 if hour < 12 else 1  # a window that is closed now, whatever the hour the test runs at
    stack = deploy(emulator, artifacts, CallingWindowStartHour=str(start), CallingWindowEndHour=str(start + 1))
    # Rows with their zone: without one, a one-hour window is never open in every US zone at once (refused).
    drop_for_calls(emulator, stack, "incoming/f.csv",
                   b"phone,message,timezone\n+14255550001,Hello,UTC\n+14255550002,Hello,UTC\n")
    assert emulator.fakes.connect.contacts == [] and connect_outcomes(emulator, stack) == []
    attributes = emulator.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs["SendQueueUrl"], AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "2"  # held until the window opens
    assert "Messages" not in emulator.client("sqs").receive_message(QueueUrl=stack.outputs["SendDeadLetterQueueUrl"])


def test_a_refusal_or_error_that_quotes_the_number_logs_it_masked(emulator, stack, monkeypatch):
    from due import batch
    from due.connect_channel import sender_handler

    lines: list[str] = []
    for logger in (batch.logger, sender_handler.logger):
        for level in ("info", "warning", "error"):
            monkeypatch.setattr(logger, level,
                                lambda message, *_a, extra=None, **_k: lines.append(f"{message} {extra}"))
    emulator.fakes.connect.fail_next("StartOutboundVoiceContact", "DestinationNotAllowedException",
                                     message="Calls to +1 425-555-0001 are not allowed")
    emulator.fakes.connect.fail_next("StartOutboundVoiceContact", "AccessDeniedException",
                                     message="not authorized to call +14255550002")
    drop_for_calls(emulator, stack, "incoming/f.csv", csv_of(["+14255550001", "+14255550002"]))
    logged = "\n".join(lines)
    assert "DestinationNotAllowedException: Calls to <number> are not allowed" in logged
    assert "AccessDeniedException" in logged and "<number>" in logged
    assert "555-0001" not in logged and "4255550002" not in logged
    refused = [o for o in connect_outcomes(emulator, stack) if o["outcome"] == "refused"]
    assert refused[0]["reason"] == "DestinationNotAllowedException: Calls to +1 425-555-0001 are not allowed"
