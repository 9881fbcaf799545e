"""SES and Pinpoint event processing, deployed through CloudFormation on the emulator."""

from __future__ import annotations

import json

import pytest

from due.archive import ArchiveQueue, SentMessage
from due_local import iam
from due_local.cfn_response import ResponseCatcher
from due_local.flows import (
    EXAMPLES,
    FLOWS,
    SEGMENT_ATTRIBUTE,
    SEGMENT_DOMAIN,
    example,
    pinpoint_archiver_prepare,
    pinpoint_archiver_run,
)
from scripts.deploy import deploy_local
from tests.integration.test_message_archiver_pinpoint import deliver_a_send_nobody_can_queue

pytestmark = pytest.mark.integration


def deploy(emulator, artifacts, name, **given):
    flow = FLOWS[name]
    return deploy_local(emulator, artifacts, name, {**flow.prepare(emulator), **given})


def messages_in(emulator, queue_url) -> list[dict]:
    sqs = emulator.client("sqs")
    found = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       AttributeNames=["All"]).get("Messages", []):
        found.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_sample_flow(emulator, artifacts, name):
    stack = deploy(emulator, artifacts, name)
    result = FLOWS[name].run(emulator, stack)
    assert result.passed, result.line()


def test_bad_notifications_land_in_the_dead_letter_queue_after_five_receives(emulator, artifacts):
    stack = deploy(emulator, artifacts, "SES_Event_Processing")
    sqs = emulator.client("sqs")
    queue = stack.outputs["FeedbackQueueUrl"]
    bad = ["not json", json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t"}),
           json.dumps({"hello": "world"}), json.dumps({"eventType": "Teleport", "mail": {"messageId": "m"}}),
           json.dumps({"eventType": "Bounce", "mail": {"messageId": "m"},
                       "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}})]
    for body in [example("ses_event_processing", "permanent_bounce.json"), *bad,
                 example("ses_event_processing", "complaint.json")]:
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    stats = emulator.pump(stack)[stack.physical("ProcessorFunction")]

    dead = messages_in(emulator, stack.outputs["DeadLetterQueueUrl"])
    assert sorted(m["Body"] for m in dead) == sorted(bad)
    assert messages_in(emulator, queue) == []
    assert stats.failed_records == 5 * len(bad)  # each bad message was tried maxReceiveCount times
    assert set(emulator.fakes.sesv2.suppressed) == {"no-such-user@example.com", "annoyed.reader@example.net"}


def test_poison_stream_record_is_reported_and_the_rest_applied(emulator, artifacts):
    stack = deploy(emulator, artifacts, "Pinpoint_Event_Processing")
    kinesis = emulator.client("kinesis")
    stream = stack.outputs["EventStreamName"]
    sequence_numbers = [
        kinesis.put_record(StreamName=stream, Data=data.encode(), PartitionKey="one-shard-key")["SequenceNumber"]
        for data in (example("pinpoint_event_processing", "hardbounce.json"), "{not json",
                     example("pinpoint_event_processing", "complaint.json"))
    ]

    stats = emulator.pump(stack)[stack.physical("ProcessorFunction")]

    # Lambda retries from the failed record (checkpoint) and, once retries are spent, reports
    # that range (the poison record and what followed it in the batch) and moves on.
    failed = messages_in(emulator, stack.outputs["FailedBatchesQueueUrl"])
    assert len(failed) == 1
    batch_info = json.loads(failed[0]["Body"])["KinesisBatchInfo"]
    assert batch_info["startSequenceNumber"] == sequence_numbers[1]
    assert batch_info["batchSize"] == 2
    assert stats.invocations == 1 + 5  # first try plus MaximumRetryAttempts
    assert set(emulator.fakes.sesv2.suppressed) == {"gone.away@example.com", "not.interested@example.net"}


def test_identity_wiring_is_undone_on_delete(emulator, artifacts):
    ses = emulator.client("ses")
    ses.verify_domain_identity(Domain="example.com")
    ses.create_configuration_set(ConfigurationSet={"Name": "marketing"})
    previous = emulator.client("sns").create_topic(Name="previous")["TopicArn"]
    ses.set_identity_notification_topic(Identity="example.com", NotificationType="Bounce", SnsTopic=previous)
    stack = deploy(emulator, artifacts, "SES_Event_Processing", OverwriteExistingTopics="true")
    ours = stack.outputs["FeedbackTopicArn"]
    assert ses.get_identity_notification_attributes(Identities=["example.com"])["NotificationAttributes"][
        "example.com"]["BounceTopic"] == ours

    catcher = ResponseCatcher()
    try:
        # moto's CloudFormation never sends custom resources their Delete: send it as CloudFormation would.
        event = catcher.event("Delete", {"TopicArn": ours, "Overwrite": "true"},
                              physical_id=stack.physical("IdentityWiring"))
        emulator.runtime.invoke(emulator.function_spec(stack, "WiringFunction"), event)
    finally:
        catcher.close()
    assert catcher.responses[0]["Status"] == "SUCCESS"
    # news@example.org and example.org (the flow's) and example.com, two notification types each
    assert catcher.responses[0]["Data"]["Restored"] == "6"
    attributes = ses.get_identity_notification_attributes(Identities=["example.com", "example.org"])[
        "NotificationAttributes"]
    assert attributes["example.com"]["BounceTopic"] == previous
    assert "ComplaintTopic" not in attributes["example.com"]
    assert "BounceTopic" not in attributes["example.org"]


def test_each_role_allows_exactly_what_its_code_calls(emulator, artifacts, cloudformation_creates_rule_sets):
    """Run every flow and each function's other paths, then compare its calls with its role."""
    stacks = {name: deploy(emulator, artifacts, name) for name in sorted(FLOWS)}
    for name, stack in stacks.items():
        assert FLOWS[name].run(emulator, stack).passed
    # The default Auto Reply stack: it also creates and activates a rule set.
    stacks["default auto reply"] = deploy_local(emulator, artifacts, "SES_Auto_Reply",
                                                {"TemplateName": "auto-reply"}, stack_prefix="default")
    # The message archiver in Mode Pinpoint: its stream's transformation, its renderer, its stream's custom
    # resource (Delete below) and its writer, which archives what senders queue in this mode too.
    pinpoint_archiver = stacks["pinpoint archiver"] = deploy_local(
        emulator, artifacts, "Message_Archiver", pinpoint_archiver_prepare(emulator), stack_prefix="pinpoint")
    assert pinpoint_archiver_run(emulator, pinpoint_archiver).passed
    ArchiveQueue(emulator.client("sqs"), pinpoint_archiver.outputs["ArchiveQueueUrl"]).submit([SentMessage(
        channel="sms", recipient="+14255550150", message_id="m-1", sent_at="2026-11-28T09:00:00Z", text="hi")])
    emulator.pump(pinpoint_archiver)
    project = pinpoint_archiver.parameters["PinpointApplicationId"]
    # A send the render queue does not take is kept under unqueued/ (the transformation's s3:PutObject).
    assert deliver_a_send_nobody_can_queue(emulator, pinpoint_archiver, project).results == {"Ok": 1}
    stream = emulator.client("pinpoint").get_event_stream(ApplicationId=project)["EventStream"]
    _send_delete(emulator, pinpoint_archiver, {"ApplicationId": project, "RoleArn": stream["RoleArn"],
                                               "DestinationStreamArn": stream["DestinationStreamArn"]})

    ses_stack = stacks["SES_Event_Processing"]
    catcher = ResponseCatcher()
    try:  # the wiring custom resource's Delete
        event = catcher.event("Delete", {"TopicArn": ses_stack.outputs["FeedbackTopicArn"]},
                              physical_id=ses_stack.physical("IdentityWiring"))
        emulator.runtime.invoke(emulator.function_spec(ses_stack, "WiringFunction"), event)
    finally:
        catcher.close()
    drop_stack = stacks["SMS_S3_drop"]  # a row End User Messaging refuses is set aside in the dead-letter queue
    emulator.fakes.sms.fail_next("SendTextMessage", "ValidationException", message="destination is not reachable")
    emulator.client("s3").put_object(Bucket=drop_stack.outputs["DropBucketName"], Key="incoming/refused.csv",
                                     Body=(EXAMPLES / "sms_s3_drop" / "sample.csv").read_bytes())
    emulator.pump(drop_stack)
    pinpoint_stack = stacks["Pinpoint_Event_Processing"]  # the event stream custom resource's Delete
    _send_delete(emulator, pinpoint_stack, {"ApplicationId": pinpoint_stack.parameters["PinpointApplicationId"],
                                            "DestinationStreamArn": pinpoint_stack.outputs["EventStreamArn"],
                                            "RoleArn": pinpoint_stack.outputs["PinpointStreamRoleArn"]})
    for stack in (stacks["SES_Auto_Reply"], stacks["default auto reply"]):  # a reply SES refuses: claim released
        unverified = json.loads(example("ses_auto_reply", "inbound.json"))
        unverified["Records"][0]["ses"]["receipt"]["recipients"] = ["no-reply@unverified.example.net"]
        mail = unverified["Records"][0]["ses"]["mail"]
        mail["source"] = "someone.else@example.net"  # another person (the window counts the From header's)
        mail["commonHeaders"]["from"] = ["Someone Else <someone.else@example.net>"]
        mail["headers"] = [h for h in mail["headers"] if h["name"].lower() != "from"] + [
            {"name": "From", "value": "Someone Else <someone.else@example.net>"}]
        emulator.async_invoker(stack, "ResponderFunction").invoke(emulator.runtime, unverified)
    segment_stack = stacks["Advanced_Segmentation_S3"]  # the segment definition custom resource's Delete
    catcher = ResponseCatcher()
    try:
        event = catcher.event("Delete", {}, physical_id=f"{SEGMENT_DOMAIN}/{SEGMENT_ATTRIBUTE}")
        emulator.runtime.invoke(emulator.function_spec(segment_stack, "SegmentDefinitionFunction"), event)
    finally:
        catcher.close()

    checked = []
    for stack in stacks.values():
        for function in stack.of_type("AWS::Lambda::Function"):
            calls = emulator.runtime.api_calls.get(function.physical_id, set())
            allowed = iam.allowed_actions(stack.template, function.logical_id, stack.conditions)
            by_service = iam.service_actions(stack.template, function.logical_id)
            not_allowed = {c for c in calls if not iam.is_allowed(c, allowed)}
            unused = {a for a in allowed - by_service if not any(iam.is_allowed(c, {a}) for c in calls)}
            assert not_allowed == set(), f"{stack.name} {function.logical_id} calls what its role does not allow"
            assert unused == set(), f"{stack.name} {function.logical_id}'s role allows what its code never calls"
            checked.append(function.logical_id)
    assert sorted(checked) == sorted(["ProcessorFunction", "WiringFunction", "ProcessorFunction",
                                      "ResponderFunction", "ResponderFunction", "ActivationFunction",
                                      "ProcessorFunction", "PhoneNumberSetupFunction",
                                      "ReaderFunction", "SenderFunction", "TransformFunction", "ViewsFunction",
                                      "PinpointEventStreamFunction", "StarterFunction", "StepsFunction",
                                      "ForwarderFunction", "ApplierFunction", "RulesCheckFunction",
                                      "StepsFunction", "SegmentDefinitionFunction",
                                      "ReaderFunction", "SenderFunction", "ReaderFunction", "SenderFunction",
                                      "ReaderFunction", "SenderFunction", "ContactEventsFunction",
                                      "WriterFunction", "WriterFunction", "PinpointTransformFunction",
                                      "PinpointRenderFunction", "PinpointEventStreamFunction"])


def _send_delete(emulator, stack, properties: dict) -> dict:
    """moto's CloudFormation does not send custom resources their Delete: send it as CloudFormation would."""
    catcher = ResponseCatcher()
    try:
        event = catcher.event("Delete", properties, physical_id=f"{properties['ApplicationId']}/event-stream")
        emulator.runtime.invoke(emulator.function_spec(stack, "PinpointEventStreamFunction"), event)
    finally:
        catcher.close()
    (response,) = catcher.responses
    return response


def test_pinpoint_stream_is_set_though_pinpoint_first_refuses_the_new_role_and_removed_with_the_stack(
        emulator, artifacts):
    # What Pinpoint answers while the stack's new role is not yet visible to it.
    emulator.fakes.pinpoint.fail_next("PutEventStream", "BadRequestException",
                                      message="Make sure the IAM Role is configured correctly")
    stack = deploy(emulator, artifacts, "Pinpoint_Event_Processing")
    project = stack.parameters["PinpointApplicationId"]
    pinpoint = emulator.client("pinpoint")

    stream = pinpoint.get_event_stream(ApplicationId=project)["EventStream"]
    assert (stream["DestinationStreamArn"], stream["RoleArn"]) == (
        stack.outputs["EventStreamArn"], stack.outputs["PinpointStreamRoleArn"])
    assert len(emulator.fakes.pinpoint.calls_of("PutEventStream")) == 2

    deleted = _send_delete(emulator, stack, {"ApplicationId": project,
                                             "DestinationStreamArn": stack.outputs["EventStreamArn"],
                                             "RoleArn": stack.outputs["PinpointStreamRoleArn"]})
    assert (deleted["Status"], deleted["Data"]) == ("SUCCESS", {"Removed": "true"})
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_event_stream(ApplicationId=project)


def test_deleting_the_pinpoint_stack_leaves_a_project_pointed_elsewhere_since_alone(emulator, artifacts):
    stack = deploy(emulator, artifacts, "Pinpoint_Event_Processing")
    project = stack.parameters["PinpointApplicationId"]
    pinpoint = emulator.client("pinpoint")
    elsewhere = {"DestinationStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/another-consumer",
                 "RoleArn": stack.outputs["PinpointStreamRoleArn"]}
    pinpoint.put_event_stream(ApplicationId=project, WriteEventStream=elsewhere)

    deleted = _send_delete(emulator, stack, {"ApplicationId": project,
                                             "DestinationStreamArn": stack.outputs["EventStreamArn"],
                                             "RoleArn": stack.outputs["PinpointStreamRoleArn"]})

    assert (deleted["Status"], deleted["Data"]) == ("SUCCESS", {"Removed": "false"})
    assert pinpoint.get_event_stream(ApplicationId=project)["EventStream"]["DestinationStreamArn"] == elsewhere[
        "DestinationStreamArn"]
