"""What a function's role allows, read from a template, against what its code called.

The Lambda service itself uses the role for some actions (writing logs, polling
its event source, reporting to an on-failure destination, decrypting with KMS
on behalf of SQS, Kinesis, DynamoDB and environment variables), and Athena uses
its caller's permissions for the catalog and the results bucket; our code never
makes those calls, so they are derived from the template and set apart.
"""

from __future__ import annotations

import fnmatch
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

# Actions that take no resource-level permissions, so "*" is the only possible Resource.
NO_RESOURCE_LEVEL = {"ses:PutSuppressedDestination", "ses:ListIdentities", "ses:DescribeActiveReceiptRuleSet",
                     "ses:SetActiveReceiptRuleSet"}


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
