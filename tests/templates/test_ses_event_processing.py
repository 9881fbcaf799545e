"""SES_Event_Processing: what a real account needs that the emulator does not check."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.cfn import load_template

# The longest stack name CloudFormation accepts, and the id it would get.
STACK_NAME = "stack-" + "n" * 122  # 128 characters
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK_NAME}/0f8e3a70-3b8f-11ef-9b3a-0a1b2c3d4e5f"
PSEUDO = {"AWS::StackName": STACK_NAME, "AWS::StackId": STACK_ID, "AWS::Region": "us-east-1",
          "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
# SES event destination names: ASCII letters, numbers, underscores and dashes, at most 64 characters
# (SES API Reference, EventDestination.Name).
EVENT_DESTINATION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def evaluate(value: Any) -> Any:
    """The intrinsic functions a name is built with, over the pseudo parameters."""
    if not isinstance(value, dict):
        return value
    (function, argument), = value.items()
    if function == "Ref":
        return PSEUDO[argument]
    if function == "Fn::Sub":
        return re.sub(r"\$\{([^}]+)\}", lambda m: PSEUDO[m.group(1)], argument)
    if function == "Fn::Join":
        return argument[0].join(evaluate(v) for v in argument[1])
    if function == "Fn::Split":
        return evaluate(argument[1]).split(argument[0])
    if function == "Fn::Select":
        return evaluate(argument[1])[int(argument[0])]
    raise AssertionError(f"no evaluation for {function}")


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template("SES_Event_Processing")


def test_the_longest_stack_name_gives_a_valid_event_destination_name(template):
    assert len(STACK_NAME) == 128
    name = evaluate(template["Resources"]["ConfigurationSetDestination"]["Properties"]["EventDestination"]["Name"])
    assert EVENT_DESTINATION_NAME.match(name), name


def test_identities_verified_later_are_wired_by_a_schedule_of_the_same_function(template):
    resources = template["Resources"]
    rule = resources["WiringSchedule"]
    target, = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["WiringFunction", "Arn"]}
    # The custom resource's properties, by the same names and values.
    assert json.loads(target["Input"]["Fn::Sub"]) == {"TopicArn": "${FeedbackTopic}",
                                                       "Overwrite": "${OverwriteExistingTopics}"}
    assert resources["IdentityWiring"]["Properties"]["TopicArn"] == {"Ref": "FeedbackTopic"}
    assert resources["IdentityWiring"]["Properties"]["Overwrite"] == {"Ref": "OverwriteExistingTopics"}
    # The schedule starts after the first wiring and stops before the Delete restores the old topics.
    assert rule["DependsOn"] == "IdentityWiring"
    permission = resources["WiringSchedulePermission"]["Properties"]
    assert permission["SourceArn"] == {"Fn::GetAtt": ["WiringSchedule", "Arn"]}
    assert permission["Principal"] == "events.amazonaws.com"


def test_a_failed_scheduled_run_is_kept_where_a_person_sees_it(template):
    resources = template["Resources"]
    invoke_config = resources["WiringInvokeConfig"]["Properties"]
    assert invoke_config["FunctionName"] == {"Ref": "WiringFunction"}
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["WiringFailuresQueue", "Arn"]}
    alarm = resources["WiringFailuresAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["WiringFailuresQueue", "QueueName"]}
