"""Message archiver, Mode Pinpoint, deployed through CloudFormation on the emulator: sends in, MIME files out."""

from __future__ import annotations

import json

from due_local.cfn_response import ResponseCatcher
from due_local.flows import pinpoint_archiver_prepare, pinpoint_archiver_run
from scripts.deploy import deploy_local


def deploy(emulator, artifacts, **given):
    return deploy_local(emulator, artifacts, "Message_Archiver", {**pinpoint_archiver_prepare(emulator), **given},
                        stack_prefix="pinpoint")


def deliver_a_send_nobody_can_queue(emulator, stack, project: str):
    """A campaign send through the stack's stream after its render queue is deleted (SQS takes nothing)."""
    from due_local.firehose import FirehoseDelivery

    emulator.client("sqs").delete_queue(QueueUrl=stack.physical("PinpointRenderQueue"))
    event = {"event_type": "_campaign.send", "event_timestamp": 1764321300000, "application": {"app_id": project},
             "client": {"client_id": "ana@example.com"},
             "attributes": {"campaign_id": "c1", "treatment_id": "0", "campaign_activity_id": "a1",
                            "campaign_send_status": "SUCCESS"}}
    return FirehoseDelivery(emulator, stack, "PinpointEventsStream").put_record_batch(
        [(json.dumps(event) + "\n").encode()])


def test_campaign_and_journey_sends_are_archived_as_rendered(emulator, artifacts):
    stack = deploy(emulator, artifacts)

    result = pinpoint_archiver_run(emulator, stack)

    assert result.problems == []
    stream = emulator.client("pinpoint").get_event_stream(ApplicationId=stack.parameters["PinpointApplicationId"])
    assert stream["EventStream"]["DestinationStreamArn"].endswith(stack.outputs["PinpointEventsStreamName"])


def test_a_send_whose_template_is_gone_reaches_the_dead_letter_queue(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    emulator.complete_wiring(stack)
    project = stack.parameters["PinpointApplicationId"]
    pinpoint = emulator.client("pinpoint")
    emulator.fakes.pinpoint.segments[(project, "everyone")] = {"Id": "everyone"}
    pinpoint.update_endpoint(ApplicationId=project, EndpointId="e1", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "gone@example.com"})
    campaign_id = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
        "Name": "c", "SegmentId": "everyone", "Schedule": {"StartTime": "IMMEDIATE"},
        "TemplateConfiguration": {"EmailTemplate": {"Name": "deleted-template"}}})["CampaignResponse"]["Id"]
    event = {"event_type": "_campaign.send", "event_timestamp": 1764321300000, "application": {"app_id": project},
             "client": {"client_id": "e1"}, "attributes": {"campaign_id": campaign_id, "treatment_id": "0",
                                                           "campaign_activity_id": "a1",
                                                           "campaign_send_status": "SUCCESS"}}
    sqs = emulator.client("sqs")
    sqs.send_message(QueueUrl=stack.physical("PinpointRenderQueue"), MessageBody=json.dumps(event))  # its URL

    emulator.pump(stack)

    dead = sqs.receive_message(QueueUrl=stack.outputs["PinpointRenderDeadLetterQueueUrl"]).get("Messages", [])
    assert [json.loads(m["Body"])["attributes"]["campaign_id"] for m in dead] == [campaign_id]


def test_the_project_stream_is_removed_with_the_stack(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    project = stack.parameters["PinpointApplicationId"]
    catcher = ResponseCatcher()
    try:  # moto's CloudFormation does not send custom resources their Delete: sent as CloudFormation would
        stream = emulator.client("pinpoint").get_event_stream(ApplicationId=project)["EventStream"]
        event = catcher.event("Delete", {"ApplicationId": project,
                                         "DestinationStreamArn": stream["DestinationStreamArn"],
                                         "RoleArn": stream["RoleArn"]}, physical_id=f"{project}/event-stream")
        emulator.runtime.invoke(emulator.function_spec(stack, "PinpointEventStreamFunction"), event)
    finally:
        catcher.close()
    assert catcher.responses[0]["Status"] == "SUCCESS"
    assert emulator.fakes.pinpoint.event_streams == {}


def test_a_send_the_render_queue_does_not_take_is_delivered_ok_and_kept_in_the_bucket(emulator, artifacts):
    """Review A finding 1: no ProcessingFailed for the stream's own output; the send kept, under the stack's role."""
    stack = deploy(emulator, artifacts)
    emulator.complete_wiring(stack)
    project = stack.parameters["PinpointApplicationId"]
    delivered = deliver_a_send_nobody_can_queue(emulator, stack, project)

    assert delivered.results == {"Ok": 1}
    assert [key for key in delivered.objects if "/processing-failed/" in key] == []
    s3, bucket = emulator.client("s3"), stack.outputs["ArchiveBucketName"]
    (kept,) = s3.list_objects_v2(Bucket=bucket, Prefix="unqueued/")["Contents"]
    (line,) = s3.get_object(Bucket=bucket, Key=kept["Key"])["Body"].read().decode().splitlines()
    assert json.loads(line)["attributes"]["campaign_id"] == "c1"
    assert "ana@example.com" not in kept["Key"]
