"""Every Allow statement of every template grants what it says, per the Service Authorization Reference.

An action must accept one of its statement's resources (an ARN of one of its resource types), or, if the action
takes no resource-level permission, the statement's resource must be "*". A statement that names ARNs for a
"*"-only action grants nothing on a real account (moto and the fakes do not check this), and "*" for an action
that has resource types is broader than it needs to be. An action the reference does not know fails too.
Statements are read for every combination of the parameters the template's conditions depend on.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from due_local import iam
from scripts.cfn import as_list, evaluate_conditions, parameter_values, resolve_conditionals

PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
          "AWS::StackName": "stack", "AWS::URLSuffix": "amazonaws.com",
          "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/stack/"
                          "51af3dc0-da77-11e4-872e-1234567db123"}
ARN_PREFIX = "arn:aws:{service}:us-east-1:123456789012:"

# What !GetAtt X.Arn returns, per resource type (CloudFormation's "Return values" of each type).
ARN_OF_TYPE = {
    "AWS::SQS::Queue": ARN_PREFIX.format(service="sqs") + "{id}",
    "AWS::SNS::Topic": ARN_PREFIX.format(service="sns") + "{id}",
    "AWS::KMS::Key": ARN_PREFIX.format(service="kms") + "key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "AWS::Logs::LogGroup": ARN_PREFIX.format(service="logs") + "log-group:{id}:*",
    "AWS::DynamoDB::Table": ARN_PREFIX.format(service="dynamodb") + "table/{id}",
    "AWS::S3::Bucket": "arn:aws:s3:::{id}",
    "AWS::Kinesis::Stream": ARN_PREFIX.format(service="kinesis") + "stream/{id}",
    "AWS::KinesisFirehose::DeliveryStream": ARN_PREFIX.format(service="firehose") + "deliverystream/{id}",
    "AWS::Lambda::Function": ARN_PREFIX.format(service="lambda") + "function:{id}",
    "AWS::IAM::Role": "arn:aws:iam::123456789012:role/{id}",
    "AWS::StepFunctions::StateMachine": ARN_PREFIX.format(service="states") + "stateMachine:{id}",
    "AWS::SecretsManager::Secret": ARN_PREFIX.format(service="secretsmanager") + "secret:{id}-AbCdEf",
}
# Types whose Ref is their ARN; others' Ref is a name (a bucket, a table) or a URL (a queue).
REF_IS_ARN = {"AWS::SNS::Topic", "AWS::StepFunctions::StateMachine", "AWS::SecretsManager::Secret"}
# A value for a parameter whose AllowedPattern "example" does not match, for the scenario where it is given.
EXAMPLE_VALUES = {"ArchiveQueueArn": ARN_PREFIX.format(service="sqs") + "archive",
                  "ArchiveKeyArn": ARN_OF_TYPE["AWS::KMS::Key"]}


def scenarios(template: dict[str, Any]):
    """Parameter values covering every way the template's conditions can come out, one per distinct outcome."""
    used = sorted({ref for ref in re.findall(r"'Ref': '([^']+)'", str(template.get("Conditions", {})))
                   if ref in template.get("Parameters", {})})
    choices = []
    for name in used:
        spec = template["Parameters"][name]
        choices.append([str(v) for v in spec["AllowedValues"]] if "AllowedValues" in spec
                       else sorted({str(spec.get("Default", "")), EXAMPLE_VALUES.get(name, "example")}))
    seen = set()
    for combination in itertools.product(*choices):
        given = {name: "example" for name, spec in template.get("Parameters", {}).items() if "Default" not in spec}
        given.update(zip(used, combination, strict=True))
        values = parameter_values(template, given)
        conditions = evaluate_conditions(template, values)
        key = tuple(sorted(conditions.items()))
        if key not in seen:
            seen.add(key)
            yield values, conditions


def representative(value: Any, resources: dict[str, Any], parameters: dict[str, str]) -> str:
    """A resource expression as one representative ARN (or "*"), with CloudFormation's values filled in."""
    def ref(name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in parameters:
            return parameters[name]
        kind = resources[name]["Type"]
        return ARN_OF_TYPE[kind].format(id=name) if kind in REF_IS_ARN else name

    def get_att(name: str, attribute: str) -> str:
        kind = resources[name]["Type"]
        if attribute != "Arn" or kind not in ARN_OF_TYPE:
            raise AssertionError(f"no representative value for {name}.{attribute} ({kind}): add it to ARN_OF_TYPE")
        return ARN_OF_TYPE[kind].format(id=name)

    if isinstance(value, str):
        return value
    if "Ref" in value:
        return ref(value["Ref"])
    if "Fn::GetAtt" in value:
        return get_att(*value["Fn::GetAtt"])
    if "Fn::Sub" in value:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        local = {k: representative(v, resources, parameters) for k, v in variables.items()}

        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name in local:
                return local[name]
            return get_att(*name.split(".", 1)) if "." in name else ref(name)

        return re.sub(r"\$\{([^}!]+)\}", fill, text)
    if "Fn::Select" in value:
        index, items = value["Fn::Select"]
        if isinstance(items, dict) and "Fn::Split" in items:
            separator, text = items["Fn::Split"]
            items = representative(text, resources, parameters).split(separator)
        return representative(items[int(index)], resources, parameters)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(representative(p, resources, parameters) for p in parts)
    raise AssertionError(f"cannot read the resource expression {value}")


def policy_statements(resources: dict[str, Any]):
    """(resource id, the resource policy's own ARN or None, statement) for every policy in the template.

    A role's trust policy names no resources, so it is left out.
    """
    def walk(value: Any, owner: str):
        if isinstance(value, dict):
            if "Statement" in value:
                yield from ((owner, s) for s in as_list(value["Statement"]))
            for key, inner in value.items():
                if key != "AssumeRolePolicyDocument":
                    yield from walk(inner, owner)
        elif isinstance(value, list):
            for inner in value:
                yield from walk(inner, owner)

    for logical_id, resource in resources.items():
        yield from walk(resource.get("Properties", {}), logical_id)


def problems(template: dict[str, Any]) -> list[str]:
    found = set()
    for parameters, conditions in scenarios(template):
        resources = resolve_conditionals(template["Resources"], conditions)
        for owner, statement in policy_statements(resources):
            if statement.get("Effect") != "Allow":
                continue
            where = f"{owner} statement {statement.get('Sid', as_list(statement.get('Action')))}"
            if "Resource" not in statement:
                found.add(f"{where}: an Allow statement without Resource")
                continue
            arns = [representative(r, resources, parameters) for r in as_list(statement["Resource"])]
            if resources[owner]["Type"] == "AWS::KMS::Key":
                # In a key policy, "*" means the key the policy is attached to (KMS developer guide, "Key policies").
                arns = [ARN_OF_TYPE["AWS::KMS::Key"] if r == "*" else r for r in arns]
            for action in as_list(statement["Action"]):
                try:
                    granted = iam.action_accepts(action, arns)
                except iam.UnknownAction as error:
                    found.add(f"{where}: {error}")
                    continue
                if not granted:
                    found.add(f"{where}: {action}: {_why_not(action, arns)}")
    return sorted(found)


def _why_not(action: str, arns: list[str]) -> str:
    actions = iam.expand_action(action)
    if not actions:
        return "the wildcard matches no action"
    formats = sorted({f for a in actions for f in iam.resource_arn_patterns(a)})
    if not formats:
        return "it takes no resource-level permission: Resource must be '*'"
    return f"none of {arns} is one of its resource types {formats}"


def test_every_allowed_action_accepts_its_statements_resources(template_name, template):
    assert problems(template) == [], template_name


def _role_template(action: Any, resource: Any) -> dict[str, Any]:
    return {"Parameters": {"Mode": {"Type": "String", "Default": "a", "AllowedValues": ["a", "b"]}},
            "Conditions": {"ModeA": {"Fn::Equals": [{"Ref": "Mode"}, "a"]}},
            "Resources": {
                "Queue": {"Type": "AWS::SQS::Queue"},
                "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "x"}, "Action": "kms:*", "Resource": "*"}]}}},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {
                    "AssumeRolePolicyDocument": {"Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                         "Action": "sts:AssumeRole"}]},
                    "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                        {"Effect": "Allow", "Action": action, "Resource": resource}]}}]}}}}


@pytest.mark.parametrize("action, resource", [
    ("sqs:SendMessage", {"Fn::GetAtt": ["Queue", "Arn"]}),
    ("ses:SetIdentityNotificationTopic", "*"),
    ("kms:Decrypt*", {"Fn::GetAtt": ["Key", "Arn"]}),
    ({"Fn::If": ["ModeA", "sqs:SendMessage", "kms:Decrypt"]},
     {"Fn::If": ["ModeA", {"Fn::GetAtt": ["Queue", "Arn"]}, {"Fn::GetAtt": ["Key", "Arn"]}]}),
])
def test_the_check_passes_statements_iam_grants(action, resource):
    assert problems(_role_template(action, resource)) == []


@pytest.mark.parametrize("action, resource, reason", [
    ("ses:SetIdentityNotificationTopic", {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                                                     ":identity/*"}, "no resource-level permission"),
    ("kms:Decrypt", "*", "is one of its resource types"),
    ("sqs:SendMessage", {"Ref": "Queue"}, "is one of its resource types"),  # a queue's Ref is its URL
    ("s3:ListBucket", "arn:aws:s3:::bucket/incoming/*", "is one of its resource types"),
    ("ses:SendEmails", "*", "not in the Service Authorization Reference"),
    ("kms:Nothing*", "*", "matches no action"),
    ({"Fn::If": ["ModeA", "sqs:SendMessage", "kms:Decrypt"]}, {"Fn::GetAtt": ["Queue", "Arn"]},
     "kms:Decrypt: none of"),
])
def test_the_check_refuses_statements_iam_would_not_grant(action, resource, reason):
    found = problems(_role_template(action, resource))
    assert len(found) == 1 and reason in found[0], found
