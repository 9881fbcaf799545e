"""Every sender of the collection takes the message archive the same way (#15).

The same two optional parameters, the same rule (both or neither), one condition, the same parameter group, the
queue's URL built from its ARN in the sending function's environment, and, under the condition only, the
sending role's sqs:SendMessage on that queue and kms:GenerateDataKey and kms:Decrypt on its key.
"""

from __future__ import annotations

import re

import pytest

from scripts.cfn import evaluate_conditions, load_template, parameter_values, resolve_conditionals
from tests.templates.test_iam_actions import EXAMPLE_VALUES, representative

# template -> the function that sends (and so queues what it sent for the archive)
SENDERS = {"SMS_S3_drop": "SenderFunction", "SES_Auto_Reply": "ResponderFunction",
           "External_Attributes": "SenderFunction", "External_Templates": "SenderFunction",
           "Connect_as_a_Channel": "SenderFunction", "S3_triggered_import": "StepsFunction",
           "Self-managed_Opt_Outs": "ProcessorFunction"}
QUEUE_ARN, KEY_ARN = EXAMPLE_VALUES["ArchiveQueueArn"], EXAMPLE_VALUES["ArchiveKeyArn"]


def _role_statements(template: dict, function: str, given: dict[str, str]) -> list[dict]:
    values = parameter_values(template, {**{n: "x" for n, s in template["Parameters"].items() if "Default" not in s},
                                         **given})
    resources = resolve_conditionals(template["Resources"], evaluate_conditions(template, values))
    role = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("name", sorted(SENDERS))
def test_each_sender_takes_the_archive_queue_and_key_the_same_way(name):
    template, reference = load_template(name), load_template("SMS_S3_drop")
    for parameter in ("ArchiveQueueArn", "ArchiveKeyArn"):
        assert template["Parameters"][parameter] == reference["Parameters"][parameter], parameter
        pattern = template["Parameters"][parameter]["AllowedPattern"]
        assert re.fullmatch(pattern, "") and re.fullmatch(pattern, EXAMPLE_VALUES[parameter])
    assert not re.fullmatch(template["Parameters"]["ArchiveQueueArn"]["AllowedPattern"], QUEUE_ARN + ".fifo")
    assert template["Rules"]["ArchiveQueueAndKeyTogether"] == reference["Rules"]["ArchiveQueueAndKeyTogether"]
    assert template["Conditions"]["Archiving"] == reference["Conditions"]["Archiving"]
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert {"Label": {"default": "Archive (optional)"}, "Parameters": ["ArchiveQueueArn", "ArchiveKeyArn"]} in groups


@pytest.mark.parametrize("name", sorted(SENDERS))
def test_the_sending_function_gets_the_queue_url_and_its_role_the_queue_and_key_only_when_given(name):
    template = load_template(name)
    function = template["Resources"][SENDERS[name]]
    url = function["Properties"]["Environment"]["Variables"]["ARCHIVE_QUEUE_URL"]
    condition, given_url, off = url["Fn::If"]
    assert (condition, off) == ("Archiving", "")
    parameters = {"ArchiveQueueArn": QUEUE_ARN}
    assert representative(given_url, template["Resources"], parameters) == \
        "https://sqs.us-east-1.amazonaws.com/123456789012/archive"

    given = {"ArchiveQueueArn": QUEUE_ARN, "ArchiveKeyArn": KEY_ARN}
    archiving = [s for s in _role_statements(template, SENDERS[name], given) if str(s.get("Sid", "")).startswith(
        ("QueueSentMessagesForTheArchive", "EncryptForTheArchiveQueue"))]
    assert [(s["Action"], s["Resource"]) for s in archiving] == [
        ("sqs:SendMessage", {"Ref": "ArchiveQueueArn"}),
        (["kms:GenerateDataKey", "kms:Decrypt"], {"Ref": "ArchiveKeyArn"})]
    off_statements = _role_statements(template, SENDERS[name], {})
    assert not any("Archive" in str(s) for s in off_statements)


def test_every_template_with_the_archive_parameters_is_a_known_sender():
    from scripts.cfn import available_templates

    wired = {name for name in available_templates() if "ArchiveQueueArn" in load_template(name)["Parameters"]}
    assert wired == set(SENDERS)
