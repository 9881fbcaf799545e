"""Advanced segmentation deployed on the emulator, its state machine really executed by Step Functions."""

from __future__ import annotations

import pytest

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

    emulator.fakes.athena.query_endings.append(("FAILED", "SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved"))
    execution, notifications = refresh_segment(emulator, stack)
    assert execution["status"] == "FAILED"
    assert [n["outcome"] for n in notifications] == ["failed"]
    assert "Column 'x' cannot be resolved" in notifications[0]["error"]
