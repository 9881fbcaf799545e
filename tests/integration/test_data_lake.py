"""S3 Data Lake deployed through CloudFormation on the emulator, events through its own transformation."""

from __future__ import annotations

import base64
import json
import time

import pytest

from due_local import engagement_events as ev
from due_local.athena_local import query_files, view_files
from due_local.cfn_response import ResponseCatcher
from due_local.firehose import FirehoseDelivery
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration


def views_in(emulator) -> set[str]:
    found = emulator.fakes.athena.local.query(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW' AND table_name <> 'events'")
    return {r["table_name"] for r in found}


@pytest.mark.parametrize("storage_format", ["JSON", "PARQUET"])
def test_every_source_and_type_lands_in_its_view_and_the_example_queries_answer(emulator, artifacts, tmp_path,
                                                                                  storage_format):
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {"StorageFormat": storage_format})
    assert views_in(emulator) == set(view_files())
    firehose = FirehoseDelivery(emulator, stack)
    assert firehose.storage_format == storage_format
    now_ms = int(time.time() * 1000)
    generated = ev.catalogue(now_ms) + ev.outside_the_last_30_days(now_ms)
    delivered = firehose.put_record_batch([g.data() for g in generated] + ev.stream_test_events(now_ms)
                                          + ev.malformed())
    assert delivered.results == {"Ok": len(generated), "Dropped": 1, "ProcessingFailed": len(ev.malformed())}

    athena = emulator.fakes.athena.local.load(firehose.download(tmp_path), storage_format)
    for view in view_files():
        expected = sum(g.rows_in_view for g in generated if g.view == view)
        assert athena.query(f"SELECT count(*) AS n FROM {view}") == [{"n": expected}], view
    received = athena.query(query_files()["emails_received_by_address"].read_text())
    assert [(r["message_id"], r["opened"]) for r in received] == [("pp-6", False), ("pp-1", True), ("ses-1", True)]
    engagement = athena.query(query_files()["campaign_engagement"].read_text())
    # Opened: pp-1, ses-1, and pp-old (sent 40 days ago, opened 3 days ago).
    assert engagement[0] == {"campaign_id": "campaign-a", "sends": 2, "opened": 3, "clicked": 2, "bounced": 4,
                             "unsubscribed": 2}
    # A recipient written in mixed case keeps its diagnosis: the stream's SerDe does not fold map keys.
    bounced = athena.query("SELECT status FROM email_hardbounce WHERE recipient = 'Gone.Person@example.net'")
    assert bounced == [{"status": "5.1.1"}]


def test_events_dated_outside_the_projected_partitions_go_to_the_error_prefix(emulator, artifacts):
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {})
    firehose = FirehoseDelivery(emulator, stack)
    now_ms = int(time.time() * 1000)
    too_late = ev.sms_v2("TEXT_DELIVERED", now_ms + 3 * ev.DAY_MS, "m-future", "DELIVERED")
    too_early = ev.sms_v2("TEXT_DELIVERED", 1_570_000_000_000, "m-2019", "DELIVERED")
    delivered = firehose.put_record_batch([json.dumps(too_late).encode(), json.dumps(too_early).encode()])
    assert delivered.results == {"ProcessingFailed": 2}
    assert [key.split("/")[1] for key in delivered.objects] == ["processing-failed"]


def test_each_storage_format_keeps_to_its_own_prefix_in_the_same_bucket(emulator, artifacts, tmp_path):
    """A stack switched from JSON to Parquet: the table reads the Parquet files only, never a JSON one."""
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {"StorageFormat": "JSON"})
    as_json = FirehoseDelivery(emulator, stack)
    now_ms = int(time.time() * 1000)
    generated = ev.catalogue(now_ms)
    as_json.put_record_batch([g.data() for g in generated[:5]])
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {"StorageFormat": "PARQUET"})
    as_parquet = FirehoseDelivery(emulator, stack)
    assert as_parquet.bucket == as_json.bucket
    as_parquet.put_record_batch([g.data() for g in generated[5:]])
    athena = emulator.fakes.athena.local.load(as_parquet.download(tmp_path), "PARQUET")
    assert athena.query("SELECT count(*) AS n FROM events") == [{"n": len(generated) - 5}]


def test_a_stack_with_the_longest_name_deploys_and_names_its_workgroup_within_limits(emulator, artifacts):
    stack_prefix = "d" * (128 - len("-S3_Data_Lake"))
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {}, stack_prefix=stack_prefix)
    assert len(stack.name) == 128
    workgroup = stack.outputs["WorkGroupName"]
    assert len(workgroup) <= 128 and workgroup.startswith("data-lake-")
    assert views_in(emulator) == set(view_files())


def test_records_the_transformation_refuses_are_kept_whole_under_the_error_prefix(emulator, artifacts):
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {})
    firehose = FirehoseDelivery(emulator, stack)
    bad = ev.malformed()
    delivered = firehose.put_record_batch(bad)
    (key,) = delivered.objects
    assert key.startswith("errors/processing-failed/dt=")
    body = emulator.client("s3").get_object(Bucket=firehose.bucket, Key=key)["Body"].read()
    kept = [json.loads(line) for line in body.splitlines()]
    assert [base64.b64decode(k["rawData"]) for k in kept] == bad


def test_deleting_the_stack_drops_the_views(emulator, artifacts):
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {})
    assert views_in(emulator) == set(view_files())
    catcher = ResponseCatcher()
    try:  # moto's CloudFormation does not send custom resources their Delete: send it as CloudFormation would
        properties = {"DatabaseName": stack.outputs["DatabaseName"], "WorkGroup": stack.outputs["WorkGroupName"]}
        # The id the function answered on Create (moto records one of its own instead).
        event = catcher.event("Delete", properties, physical_id=f"{stack.outputs['DatabaseName']}/views")
        emulator.runtime.invoke(emulator.function_spec(stack, "ViewsFunction"), event)
    finally:
        catcher.close()
    assert catcher.responses[0]["Status"] == "SUCCESS"
    assert views_in(emulator) == set()


def test_a_pinpoint_project_streams_to_the_lake_though_pinpoint_first_refuses_the_new_role(emulator, artifacts):
    project = emulator.client("pinpoint").create_app(CreateApplicationRequest={"Name": "p"})["ApplicationResponse"]
    # What Pinpoint answers while the stack's new role is not yet visible to it.
    emulator.fakes.pinpoint.fail_next("PutEventStream", "BadRequestException",
                                      message="Make sure the IAM Role is configured correctly")
    stack = deploy_local(emulator, artifacts, "S3_Data_Lake", {"PinpointApplicationId": project["Id"]})

    stream = emulator.client("pinpoint").get_event_stream(ApplicationId=project["Id"])["EventStream"]
    assert (stream["DestinationStreamArn"], stream["RoleArn"]) == (
        stack.outputs["DeliveryStreamArn"], stack.outputs["PinpointStreamRoleArn"])
    assert len(emulator.fakes.pinpoint.calls_of("PutEventStream")) == 2
