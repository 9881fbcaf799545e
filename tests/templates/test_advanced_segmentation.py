"""What the advanced segmentation template must say that a real account would otherwise refuse or regret."""

from __future__ import annotations

import re

from due.advanced_segmentation import steps_handler
from scripts.cfn import load_template

TEMPLATE = load_template("Advanced_Segmentation_S3")
STATES = TEMPLATE["Resources"]["RefreshStateMachine"]["Properties"]["Definition"]["States"]
HISTORY_EVENTS_PER_POLL = 9  # Wait entered and exited, the check task's 5 events, the Choice's 2
MAXIMUM_HISTORY_EVENTS = 25_000  # a standard workflow's history (Step Functions service quotas)


def test_every_task_retries_throttling_and_catches_into_the_failure_notice():
    tasks = {name: state for name, state in STATES.items() if state["Type"] == "Task"}
    assert set(tasks) == {"StartQuery", "CheckQuery", "ApplyMembership", "WriteAudience", "Finish", "NotifyFailure"}
    for name, state in tasks.items():
        (retry,) = state["Retry"]
        assert "TransientError" in retry["ErrorEquals"] and "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
        (catch,) = state["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["Next"] == ("RefreshFailed" if name == "NotifyFailure" else "NotifyFailure"), name
    assert STATES["RefreshFailed"]["Type"] == "Fail"
    assert steps_handler.TransientError.__name__ == "TransientError"


def test_every_chunked_step_loops_until_done_and_the_query_is_polled_with_a_bound():
    loops = {"QueryEnded": "WaitForQuery", "MembershipApplied": "ApplyMembership", "AudienceWritten": "WriteAudience"}
    for choice, again in loops.items():
        assert STATES[choice]["Choices"] == [{"Variable": "$.step.done", "BooleanEquals": False, "Next": again}]
    polls = TEMPLATE["Parameters"]["MaximumPolls"]["MaxValue"]
    assert polls * HISTORY_EVENTS_PER_POLL < MAXIMUM_HISTORY_EVENTS


def test_the_workgroup_caps_scans_enforces_its_settings_and_encrypts_results_in_the_stacks_bucket():
    configuration = TEMPLATE["Resources"]["WorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "BytesScannedCutoffPerQuery"}
    assert TEMPLATE["Parameters"]["BytesScannedCutoffPerQuery"]["MinValue"] == 10_000_000  # Athena's minimum
    results = configuration["ResultConfiguration"]
    assert results["OutputLocation"] == {"Fn::Sub": "s3://${Bucket}/athena-results/"}
    assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"


def test_the_schedule_starts_the_state_machine_and_dead_letters_what_it_cannot_start():
    schedule = TEMPLATE["Resources"]["Schedule"]["Properties"]
    assert schedule["Target"]["Arn"] == {"Ref": "RefreshStateMachine"}
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}
    assert TEMPLATE["Parameters"]["ScheduleExpression"]["Default"] == "cron(0 4 * * ? *)"  # daily


def test_a_token_always_makes_a_valid_attribute_definition_name_and_pinpoint_value():
    pattern = TEMPLATE["Parameters"]["SegmentToken"]["AllowedPattern"]
    longest = "t" * int(re.search(r"\{1,(\d+)\}", pattern).group(1))
    attribute = f"segment_{longest}"
    assert len(attribute) <= 64  # the contract's attribute names; SegmentDefinitionName's 64
    assert re.fullmatch(r"[a-zA-Z_0-9-]+", attribute)
    assert len(longest) <= 100  # a Pinpoint attribute value


def test_the_custom_resource_defines_the_segment_only_with_profiles_and_after_a_created_domain():
    resource = TEMPLATE["Resources"]["SegmentDefinition"]
    assert resource["Condition"] == "ToProfiles"
    assert resource["Properties"]["DomainName"] == {"Fn::If": ["CreateDomain", {"Ref": "ProfilesDomain"},
                                                               {"Ref": "DomainName"}]}
