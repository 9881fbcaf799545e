"""Mermaid diagrams generated from the templates, kept in each architecture's page between markers.

docs/SES_Event_Processing.md holds:

    <!-- diagram:SES_Event_Processing -->
    ```mermaid
    ...
    ```
    <!-- /diagram -->

`python -m scripts.diagrams --write` regenerates every block; a test fails when
a block differs from what its template generates, so a diagram cannot drift.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.cfn import (  # noqa: E402
    as_list,
    available_templates,
    evaluate_conditions,
    load_template,
    parameter_values,
    references,
    resolve_conditionals,
)

NODE_LABELS = {
    "AWS::SNS::Topic": "SNS topic",
    "AWS::SQS::Queue": "SQS queue",
    "AWS::Lambda::Function": "Lambda",
    "AWS::DynamoDB::Table": "DynamoDB table",
    "AWS::Kinesis::Stream": "Kinesis stream",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::StepFunctions::StateMachine": "Step Functions",
    "AWS::KinesisFirehose::DeliveryStream": "Firehose stream",
    "AWS::Glue::Table": "Glue table",
    "AWS::Athena::WorkGroup": "Athena workgroup",
}
# Services outside the stack that a role's action reaches, drawn as their own nodes.
EXTERNAL_BY_ACTION = {
    "ses:PutSuppressedDestination": ("ses_suppression", "SES account suppression list"),
    "ses:SetIdentityNotificationTopic": ("ses_identities", "SES identities"),
    "ses:SendEmail": ("ses_sending", "SES sending (the reply)"),
    "ses:GetEmailTemplate": ("ses_templates", "SES email template"),
    "mobiletargeting:GetEmailTemplate": ("pinpoint_templates", "Pinpoint email template"),
    "ses:SetActiveReceiptRuleSet": ("ses_active_rule_set", "the region's active receipt rule set"),
    "sms-voice:PutOptedOutNumber": ("sms_opt_out_list", "promotional opt-out list"),
    "sms-voice:SendTextMessage": ("sms_sending", "SMS to the customer"),
    "sms-voice:UpdatePhoneNumber": ("sms_number", "your phone number's two-way settings"),
    "athena:StartQueryExecution": ("athena_views", "Athena views (CREATE OR REPLACE VIEW)"),
    "sms-voice:CarrierLookup": ("carrier_lookup", "End User Messaging carrier lookup"),
    "profile:PutProfileObject": ("customer_profiles", "Customer Profiles domain"),
    "profile:UpdateProfile": ("customer_profiles", "Customer Profiles domain"),
    "mobiletargeting:UpdateEndpointsBatch": ("pinpoint_endpoints", "Pinpoint endpoints"),
}
# Services that publish to a topic its policy lets them publish to.
PUBLISHERS = {
    "ses.amazonaws.com": ("ses", "Amazon SES", "bounce and complaint notifications"),
    "sms-voice.amazonaws.com": ("two_way_sms", "Two-way SMS (End User Messaging)", "inbound SMS"),
}
VERB_BY_TARGET = {"AWS::SNS::Topic": "publishes", "AWS::SQS::Queue": "sends", "AWS::DynamoDB::Table": "updates",
                  "AWS::StepFunctions::StateMachine": "starts executions", "AWS::Kinesis::Stream": "puts records"}
BLOCK = re.compile(r"(<!-- diagram:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /diagram -->)", re.S)


def _text(value: Any) -> str:
    """The string of a plain value or of a Fn::Sub, in either form (``!Sub "..."`` or ``!Sub ["...", {vars}]``)."""
    sub = value.get("Fn::Sub") if isinstance(value, dict) else value
    return sub[0] if isinstance(sub, list) else sub if isinstance(sub, str) else ""


def _targets(resources: dict[str, Any], value: Any) -> list[str]:
    """Resources ``value`` names by Ref/GetAtt, or inside a Fn::Sub string (``s3://${Bucket}/...``)."""
    named = re.findall(r"\$\{(\w+)(?:\.\w+)?\}", _text(value))
    return references(value) + [name for name in named if name in resources]


def _configuration_set_topics(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(publishing service, topic) for each topic a configuration-set event destination names."""
    properties = resource.get("Properties", {})
    if resource["Type"] == "AWS::SES::ConfigurationSetEventDestination":
        return [("ses.amazonaws.com", topic) for topic in references(properties["EventDestination"].get(
            "SnsDestination"))]
    if resource["Type"] == "AWS::SMSVOICE::ConfigurationSet":
        return [("sms-voice.amazonaws.com", topic) for d in properties.get("EventDestinations", [])
                for topic in references(d.get("SnsDestination", {}).get("TopicArn"))]
    return []


def mermaid(template: dict[str, Any]) -> str:
    """The template's flow, drawn for its default parameters (optional parts marked)."""
    required = {name: "x" for name, spec in template.get("Parameters", {}).items() if "Default" not in spec}
    conditions = evaluate_conditions(template, parameter_values(template, required))
    resources = {logical_id: {**resource, **resolve_conditionals({"Properties": resource.get("Properties", {})},
                                                                 conditions)}
                 for logical_id, resource in template["Resources"].items()}
    nodes: dict[str, str] = {}
    edges: list[str] = []
    # A service's topic that a configuration set of the template feeds: the set's edge says what comes, not the
    # topic policy's (SES's policy also serves identity notifications where a function sets those up).
    fed_by_sets = {(service, topic) for resource in resources.values()
                   for service, topic in _configuration_set_topics(resource)}
    if "ses:SetIdentityNotificationTopic" in repr(template["Resources"]):
        fed_by_sets = {(service, topic) for service, topic in fed_by_sets if service != "ses.amazonaws.com"}

    def node(logical_id: str) -> str:
        resource = resources[logical_id]
        optional = " (optional)" if "Condition" in resource else ""
        if resource["Type"] == "AWS::Lambda::Function":
            handler = resource["Properties"]["Handler"].rpartition(".")[0]
            nodes[logical_id] = f'{logical_id}["Lambda {logical_id}{optional}<br/>{handler}"]'
        else:
            label = NODE_LABELS.get(resource["Type"], resource["Type"])
            nodes[logical_id] = f'{logical_id}["{label} {logical_id}{optional}"]'
        return logical_id

    def external(key: str, label: str) -> str:
        nodes[key] = f'{key}(["{label}"])'
        return key

    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::SNS::Subscription":
            (topic,), (endpoint,) = references(properties["TopicArn"]), references(properties["Endpoint"])
            edges.append(f"{node(topic)} -->|{properties['Protocol']} subscription| {node(endpoint)}")
        elif kind == "AWS::SNS::TopicPolicy":
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                for service in as_list(statement.get("Principal", {}).get("Service", [])):
                    if service in PUBLISHERS:
                        key, label, what = PUBLISHERS[service]
                        for topic in references(properties["Topics"]):
                            if (service, topic) in fed_by_sets:
                                continue
                            edges.append(f"{external(key, label)} -->|{what}| {node(topic)}")
        elif kind == "AWS::Lambda::EventSourceMapping":
            (source,), (function,) = references(properties["EventSourceArn"]), references(properties["FunctionName"])
            edges.append(f"{node(source)} -->|batches| {node(function)}")
            for target in references(properties.get("DestinationConfig", {}).get("OnFailure", {})):
                edges.append(f"{node(function)} -.->|failed batches| {node(target)}")
        elif kind == "AWS::SQS::Queue" and "RedrivePolicy" in properties:
            (target,) = references(properties["RedrivePolicy"]["deadLetterTargetArn"])
            count = properties["RedrivePolicy"]["maxReceiveCount"]
            edges.append(f"{node(logical_id)} -.->|after {count} receives| {node(target)}")
        elif kind == "AWS::Lambda::Function":
            for variable in properties.get("Environment", {}).get("Variables", {}).values():
                for target in references(variable):
                    target_type = resources.get(target, {}).get("Type")
                    if target_type in NODE_LABELS:
                        edges.append(f"{node(logical_id)} -->|{VERB_BY_TARGET.get(target_type, 'uses')}| "
                                     f"{node(target)}")
            role = resources[references(properties["Role"])[0]]
            for policy in role["Properties"].get("Policies", []):
                for statement in as_list(policy["PolicyDocument"]["Statement"]):
                    for action in as_list(statement["Action"]):
                        if action in EXTERNAL_BY_ACTION:
                            edges.append(f"{node(logical_id)} -->|{action.split(':')[1]}| "
                                         f"{external(*EXTERNAL_BY_ACTION[action])}")
        elif kind.startswith("Custom::"):
            (function,) = references(properties["ServiceToken"])
            nodes[logical_id] = f'{logical_id}{{{{"CloudFormation custom resource {logical_id}"}}}}'
            edges.append(f"{logical_id} -->|Create/Update/Delete| {node(function)}")
            if kind == "Custom::PinpointEventStream":  # sets the project's event stream (due.pinpoint_event_stream)
                (stream,) = _targets(resources, properties["DestinationStreamArn"])
                label = "Pinpoint project (existing" + (", optional)" if "Condition" in resource else ")")
                edges.append(f"{external('pinpoint', label)} -->|event stream| {node(stream)}")
        elif kind == "AWS::SES::ReceiptRule":
            for action in properties["Rule"]["Actions"]:
                for function in references(action.get("LambdaAction", {}).get("FunctionArn")):
                    edges.append(f"{external('ses_receiving', 'Mail to your addresses (SES receiving)')} "
                                 f"-->|receipt rule, asynchronous| {node(function)}")
        elif kind == "AWS::S3::Bucket":
            for notification in properties.get("NotificationConfiguration", {}).get("QueueConfigurations", []):
                rules = notification.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                filtered = " ".join(f"{r['Name']} {r['Value']}" for r in rules)
                for queue in references(notification["Queue"]):
                    edges.append(f"{node(logical_id)} -->|{notification['Event']} {filtered}| {node(queue)}")
        elif kind == "AWS::Lambda::EventInvokeConfig":
            (function,) = references(properties["FunctionName"])
            for target in references(properties.get("DestinationConfig", {}).get("OnFailure", {})):
                edges.append(f"{node(function)} -.->|failed after {properties['MaximumRetryAttempts']} retries| "
                             f"{node(target)}")
        elif kind == "AWS::SES::ConfigurationSetEventDestination":
            destination = properties["EventDestination"]
            if "SnsDestination" in destination:
                types = destination.get("MatchingEventTypes", [])
                target = references(destination["SnsDestination"])[0]
                what = "every email event" if len(types) > 3 else f"{', '.join(types)} events"
            else:
                target = _targets(resources, destination["KinesisFirehoseDestination"]["DeliveryStreamARN"])[0]
                what = "every email event"
            edges.append(f"{external('configuration_set', 'SES configuration set (optional)')} "
                         f"-->|{what}| {node(target)}")
        elif kind == "AWS::SMSVOICE::ConfigurationSet":
            for destination in properties.get("EventDestinations", []):
                for stream in _targets(resources, destination.get("KinesisFirehoseDestination", {}).get(
                        "DeliveryStreamArn", {})):
                    edges.append(f"{external('sms_configuration_set', 'SMS configuration set (optional)')} "
                                 f"-->|text message events| {node(stream)}")
                for topic in references(destination.get("SnsDestination", {}).get("TopicArn")):
                    edges.append(f"{external('sms_configuration_set', 'SMS configuration set (optional)')} "
                                 f"-->|text message events| {node(topic)}")
        elif kind == "AWS::KinesisFirehose::DeliveryStream":
            destination = properties["ExtendedS3DestinationConfiguration"]
            for processor in destination.get("ProcessingConfiguration", {}).get("Processors", []):
                for parameter in processor["Parameters"]:
                    for function in references(parameter["ParameterValue"]):
                        edges.append(f"{node(logical_id)} -->|transforms batches| {node(function)}")
            top_folder = _text(destination["Prefix"]).split("/")[0]
            for bucket in references(destination["BucketARN"]):
                edges.append(f"{node(logical_id)} -->|writes {top_folder}/ by event date| {node(bucket)}")
            conversion = destination.get("DataFormatConversionConfiguration", {})
            if conversion.get("Enabled") is True:
                for table_id, table in resources.items():
                    if table["Type"] == "AWS::Glue::Table" and table["Properties"]["TableInput"]["Name"] == conversion[
                            "SchemaConfiguration"]["TableName"]:
                        edges.append(f"{node(table_id)} -.->|schema for Parquet| {node(logical_id)}")
        elif kind == "AWS::Glue::Table":
            for bucket in _targets(resources, properties["TableInput"]["StorageDescriptor"]["Location"]):
                edges.append(f"{node(logical_id)} -->|reads, partitions projected| {node(bucket)}")
        elif kind == "AWS::StepFunctions::StateMachine":
            # Each function the definition names through a substitution, labelled with the task states that invoke it.
            states = properties.get("Definition", {}).get("States", {})
            for name, value in properties.get("DefinitionSubstitutions", {}).items():
                for function in references(value):
                    if resources.get(function, {}).get("Type") == "AWS::Lambda::Function":
                        tasks = [state for state, spec in states.items()
                                 if spec.get("Type") == "Task" and f"${{{name}}}" in repr(spec.get("Parameters"))]
                        edges.append(f"{node(logical_id)} -->|{', '.join(tasks) or 'invokes'}| {node(function)}")
        elif kind == "AWS::Athena::WorkGroup":
            location = properties["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"]
            for bucket in _targets(resources, location):
                edges.append(f"{node(logical_id)} -->|encrypted results| {node(bucket)}")

    lines = ["flowchart LR", *(f"  {text}" for text in nodes.values()), *(f"  {edge}" for edge in edges)]
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"


def render(page: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + mermaid(load_template(m.group("name"))) + m.group(4), page)


def page_path(template_name: str) -> Path:
    """An architecture's page is named exactly like its template: templates/X.yaml, docs/X.md."""
    return DOCS / f"{template_name}.md"


def problems(write: bool) -> list[str]:
    """What is wrong with the pages' diagrams (after rewriting them, with ``write``)."""
    found = []
    for name in available_templates():
        page = page_path(name)
        if not page.exists():
            found.append(f"{page.relative_to(REPO)} does not exist")
            continue
        text = page.read_text()
        rendered = render(text)
        if write and rendered != text:
            page.write_text(rendered)
        elif rendered != text:
            found.append(f"{page.relative_to(REPO)}: diagrams differ from the templates: "
                         "run python -m scripts.diagrams --write")
        if name not in {m.group("name") for m in BLOCK.finditer(text)}:
            found.append(f"{page.relative_to(REPO)} has no diagram block for {name}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the diagram blocks of docs/*.md")
    args = parser.parse_args()
    found = problems(args.write)
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
