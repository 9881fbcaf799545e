"""Advanced segmentation deployed on the emulator, its state machine really executed by Step Functions."""

from __future__ import annotations

import json
import time

import pytest

from due_local import engagement_events as ev
from due_local import iam
from due_local.cfn_response import ResponseCatcher
from due_local.flows import (
    ADVANCED_SEGMENTATION,
    FLOWS,
    SEGMENT_ATTRIBUTE,
    SEGMENT_DOMAIN,
    load_data_lake_table,
    refresh_segment,
)
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration


def deploy(emulator, artifacts, **parameters):
    stack = deploy_local(emulator, artifacts, "Advanced_Segmentation_S3",
                         {**FLOWS["Advanced_Segmentation_S3"].prepare(emulator), **parameters})
    emulator.complete_wiring(stack)
    return stack


def test_the_sample_flow_passes(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    result = FLOWS["Advanced_Segmentation_S3"].run(emulator, stack)
    assert result.passed, result.problems


def test_two_runs_with_a_changed_result_write_exactly_the_difference_and_a_failed_query_notifies(emulator,
                                                                                                  artifacts):
    stack = deploy(emulator, artifacts)
    profiles = emulator.client("customer-profiles")
    ids = {email: profiles.create_profile(DomainName=SEGMENT_DOMAIN, EmailAddress=email)["ProfileId"]
           for email in ("ana@example.com", "bo@example.com", "cy@example.com")}
    load_data_lake_table(emulator, (ADVANCED_SEGMENTATION / "opens_first.jsonl").read_bytes().splitlines())
    execution, notifications = refresh_segment(emulator, stack)
    assert execution["status"] == "SUCCEEDED" and notifications[-1]["counts"]["entered"] == 3
    before = len(emulator.fakes.profiles.calls_of("UpdateProfile"))

    load_data_lake_table(emulator, (ADVANCED_SEGMENTATION / "opens_later.jsonl").read_bytes().splitlines())
    execution, notifications = refresh_segment(emulator, stack)
    assert execution["status"] == "SUCCEEDED"
    written = [(c.params["ProfileId"], c.params["Attributes"]) for c in
               emulator.fakes.profiles.calls_of("UpdateProfile")[before:]]
    assert sorted(written) == sorted([(ids["bo@example.com"], {SEGMENT_ATTRIBUTE: ""}),
                                      (ids["cy@example.com"], {SEGMENT_ATTRIBUTE: "true"})])

    emulator.fakes.athena.query_endings.append(("FAILED", "INVALID_CAST_ARGUMENT: cannot cast 'ana@example.com'"))
    execution, notifications = refresh_segment(emulator, stack)
    assert execution["status"] == "FAILED"
    assert [n["outcome"] for n in notifications] == ["failed"]
    # The notification names the query, never Athena's reason (it can quote data), nor does the execution's cause.
    assert notifications[0]["error"].startswith(f"QueryFailed: query {notifications[0]['query']} FAILED")
    assert "ana@example.com" not in json.dumps(notifications) + json.dumps(execution, default=str)


def _check_roles(emulator, stack) -> list[str]:
    """Each function's AWS calls against its role: nothing called that the role does not allow, nothing allowed
    that the code never called (what AWS services do with the role set apart: due_local.iam)."""
    checked = []
    for function in stack.of_type("AWS::Lambda::Function"):
        calls = emulator.runtime.api_calls.get(function.physical_id, set())
        allowed = iam.allowed_actions(stack.template, function.logical_id, stack.conditions)
        by_service = iam.service_actions(stack.template, function.logical_id)
        assert {c for c in calls if not iam.is_allowed(c, allowed)} == set(), function.logical_id
        assert {a for a in allowed - by_service if not any(iam.is_allowed(c, {a}) for c in calls)} == set(), \
            function.logical_id
        checked.append(function.logical_id)
    return sorted(checked)


def test_each_role_allows_exactly_what_its_code_calls_in_profiles_mode(emulator, artifacts):
    stack = deploy(emulator, artifacts)
    assert FLOWS["Advanced_Segmentation_S3"].run(emulator, stack).passed
    catcher = ResponseCatcher()
    try:  # moto's CloudFormation never sends custom resources their Delete: send it as CloudFormation would
        event = catcher.event("Delete", {"DomainName": SEGMENT_DOMAIN, "SegmentToken": "frequent_openers",
                                         "QueryName": "email_openers"},
                              physical_id=f"{SEGMENT_DOMAIN}/{SEGMENT_ATTRIBUTE}")
        emulator.runtime.invoke(emulator.function_spec(stack, "SegmentDefinitionFunction"), event)
    finally:
        catcher.close()
    assert catcher.responses[0]["Status"] == "SUCCESS"
    assert (SEGMENT_DOMAIN, SEGMENT_ATTRIBUTE) not in emulator.fakes.profiles.segment_definitions
    assert _check_roles(emulator, stack) == ["SegmentDefinitionFunction", "StepsFunction"]


def test_pinpoint_mode_tags_endpoints_and_its_role_allows_exactly_what_it_calls(emulator, artifacts):
    pinpoint = emulator.client("pinpoint")
    application = pinpoint.create_app(CreateApplicationRequest={"Name": "segments"})["ApplicationResponse"]["Id"]
    stack = deploy(emulator, artifacts, Mode="Pinpoint", PinpointApplicationId=application)
    for endpoint in ("e-1", "e-2"):
        pinpoint.update_endpoint(ApplicationId=application, EndpointId=endpoint, EndpointRequest={
            "ChannelType": "EMAIL", "Address": f"{endpoint}@example.com",
            "Attributes": {"AdvancedSegmentTarget": ["vip"]}})
    now = int(time.time() * 1000)
    records = [json.dumps(ev.pinpoint_email("_email.open", now - day * ev.DAY_MS, f"m-{endpoint}-{day}",
                                            f"{endpoint}@example.com", endpoint=endpoint)).encode()
               for endpoint in ("e-1", "e-2", "e-3") for day in (1, 2)]
    load_data_lake_table(emulator, records)
    execution, notifications = refresh_segment(emulator, stack)
    assert execution["status"] == "SUCCEEDED", notifications
    endpoints = emulator.fakes.pinpoint.endpoints
    assert endpoints[(application, "e-1")]["Attributes"]["AdvancedSegmentTarget"] == ["vip", "frequent_openers"]
    assert (application, "e-3") not in endpoints  # counted, not created
    assert notifications[-1]["counts"]["without_endpoint"] == 1
    assert len(emulator.fakes.pinpoint.calls_of("UpdateEndpointsBatch")) == 1  # both endpoints in one call

    load_data_lake_table(emulator, records[2:])  # e-1's opens gone: it leaves, e-2 stays
    execution, _ = refresh_segment(emulator, stack)
    assert execution["status"] == "SUCCEEDED"
    assert endpoints[(application, "e-1")]["Attributes"]["AdvancedSegmentTarget"] == ["vip"]
    assert endpoints[(application, "e-2")]["Attributes"]["AdvancedSegmentTarget"] == ["vip", "frequent_openers"]
    (last,) = emulator.fakes.pinpoint.calls_of("UpdateEndpointsBatch")[1:]
    assert last.params["EndpointBatchRequest"]["Item"] == [{"Id": "e-1", "Attributes": {
        "AdvancedSegmentTarget": ["vip"]}}]
    assert _check_roles(emulator, stack) == ["StepsFunction"]
