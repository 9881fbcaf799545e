"""A local AWS: moto's server in this process, with our handlers and fakes wired in.

    with Emulator() as emulator:
        boto3.client("sqs")  # talks to the emulator (AWS_ENDPOINT_URL is set)
        stack = emulator.stack("my-stack")

Inside, ``emulator.runtime`` runs Lambda code in-process (for moto's own
invocations too: custom resources, S3 and SNS deliveries), ``emulator.fakes``
answer the APIs moto lacks, and ``emulator.pump(stack)`` delivers what the
stack's queues and streams hold to their functions.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.request
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3

from due_local import moto_gaps
from due_local.event_sources import AsyncInvoker, KinesisSource, SqsSource
from due_local.fakes import Fakes
from due_local.lambda_runtime import FunctionSpec, LambdaRuntime, install_into_moto
from scripts.cfn import evaluate_conditions, parameter_values, resolve_conditionals

REGION = "us-east-1"

# For skipped types whose Ref is a name the template sets: the property holding it.
NAME_PROPERTY_OF_SKIPPED = {"AWS::SES::ReceiptRuleSet": "RuleSetName", "AWS::SMSVOICE::OptOutList": "OptOutListName",
                            "AWS::CustomerProfiles::Domain": "DomainName"}


@dataclass
class StackResource:
    logical_id: str
    type: str
    physical_id: str


@dataclass
class Stack:
    name: str
    resources: dict[str, StackResource]
    outputs: dict[str, str]
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def conditions(self) -> dict[str, bool]:
        return evaluate_conditions(self.template, parameter_values(self.template, self.parameters))

    def resolved(self, logical_id: str) -> dict[str, Any]:
        """A resource of the template with its Fn::If decided for this stack's parameters."""
        return resolve_conditionals(self.template["Resources"][logical_id], self.conditions)

    def physical(self, logical_id: str) -> str:
        return self.resources[logical_id].physical_id

    def of_type(self, resource_type: str) -> list[StackResource]:
        return [r for r in self.resources.values() if r.type == resource_type]


class Emulator:
    def __init__(self, region: str = REGION, function_log_level: str | None = None):
        """``function_log_level`` overrides the functions' POWERTOOLS_LOG_LEVEL (the local run shows WARNING+)."""
        self.region = region
        self.runtime = LambdaRuntime(log_level=function_log_level)
        self.endpoint = ""
        self.environment: dict[str, str] = {}
        self.fakes: Fakes | None = None
        self._exit = ExitStack()
        self._server = None

    def __enter__(self) -> Emulator:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        # The server's access log and moto's notes on types it skips would bury what matters;
        # the local run reports skipped types itself.
        for name in ("werkzeug", "moto"):
            logging.getLogger(name).setLevel(logging.ERROR)
        # moto's Step Functions interpreter logs every failed execution as an ERROR with its internals; the
        # failure itself reaches the caller through the execution's status and the stack's notifications.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._exit.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message="Tried to parse AWS::")
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.environment = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "MOTO_PORT": str(port),  # with moto_server_host below: where custom resources answer
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
        }
        self._exit.enter_context(mock.patch.dict(os.environ, self.environment))
        for variable in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            self._exit.enter_context(mock.patch.dict(os.environ, {variable: ""}))
            os.environ.pop(variable, None)
        # moto addresses custom resource responses to the host a Docker container would see.
        self._exit.enter_context(mock.patch("moto.settings.moto_server_host", lambda: f"http://{host}"))
        # Step Functions executes state machines (Lambda tasks run our handlers through install_into_moto).
        urllib.request.urlopen(urllib.request.Request(  # noqa: S310 (our own server)
            f"{self.endpoint}/moto-api/config", data=json.dumps({"stepfunctions": {"execute_state_machine": True}})
            .encode(), method="POST"))
        self._exit.enter_context(install_into_moto(self.runtime))
        self._exit.enter_context(moto_gaps.patched())
        boto3.setup_default_session(region_name=self.region)
        self.fakes = Fakes.attached_to(boto3.DEFAULT_SESSION)
        self.runtime.record_api_calls(boto3.DEFAULT_SESSION)
        return self

    def __exit__(self, *exc_info) -> None:
        self._exit.close()
        if self._server:
            self._server.stop()
        boto3.DEFAULT_SESSION = None

    def client(self, service: str):
        return boto3.client(service, region_name=self.region)

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))  # noqa: S310

    # ------------------------------------------------------------ stacks
    def stack(self, name: str, template: dict[str, Any] | None = None) -> Stack:
        cfn = self.client("cloudformation")
        description = cfn.describe_stacks(StackName=name)["Stacks"][0]
        resources = {}
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
            for summary in page["StackResourceSummaries"]:
                resources[summary["LogicalResourceId"]] = StackResource(
                    summary["LogicalResourceId"], summary["ResourceType"], summary.get("PhysicalResourceId", ""))
        outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in description.get("Parameters", [])}
        return Stack(name, resources, outputs, template or {}, parameters)

    def complete_wiring(self, stack: Stack) -> list[str]:
        """Create what moto's CloudFormation skipped but the flow needs: SNS subscriptions, SES receipt rules.

        Creating them through the APIs also has botocore validate their shape. Returns a line per resource."""
        created = self._complete_subscriptions(stack) + self._complete_buckets(stack)
        ses = self.client("ses")
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource["Type"] == "AWS::SMSVOICE::OptOutList" and stack.conditions.get(resource.get("Condition"),
                                                                                         True):
                name = self._resolve(stack, resource["Properties"]["OptOutListName"])
                self.client("pinpoint-sms-voice-v2").create_opt_out_list(OptOutListName=name)
                created.append(f"{logical_id}: opt-out list {name}")
            if resource["Type"] == "AWS::CustomerProfiles::Domain" and stack.conditions.get(
                    resource.get("Condition"), True):
                properties = stack.resolved(logical_id)["Properties"]
                name = self._resolve(stack, properties["DomainName"])
                days = int(self._resolve(stack, properties["DefaultExpirationDays"]))
                self.client("customer-profiles").create_domain(DomainName=name, DefaultExpirationDays=days)
                created.append(f"{logical_id}: Customer Profiles domain {name}")
            if resource["Type"] == "AWS::SES::ContactList" and stack.conditions.get(resource.get("Condition"), True):
                properties = stack.resolved(logical_id)["Properties"]
                name = self._resolve(stack, properties["ContactListName"])
                topics = self._resolve_deep(stack, properties.get("Topics", []))
                self.client("sesv2").create_contact_list(ContactListName=name, Topics=topics)
                created.append(f"{logical_id}: SES contact list {name}")
            if resource["Type"] != "AWS::SES::ReceiptRule":
                continue
            properties = stack.resolved(logical_id)["Properties"]
            rule_set = self._resolve(stack, properties["RuleSetName"])
            rule = self._resolve_deep(stack, properties["Rule"])
            kwargs = {"After": self._resolve(stack, properties["After"])} if "After" in properties else {}
            ses.create_receipt_rule(RuleSetName=rule_set, Rule=rule, **kwargs)
            created.append(f"{logical_id}: receipt rule {rule['Name']} in {rule_set}")
        return created + self._complete_segment_definitions(stack)

    def _complete_segment_definitions(self, stack: Stack) -> list[str]:
        """After the domains: a segment definition names its domain."""
        created = []
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource["Type"] != "AWS::CustomerProfiles::SegmentDefinition" or not stack.conditions.get(
                    resource.get("Condition"), True):
                continue
            properties = self._resolve_deep(stack, stack.resolved(logical_id)["Properties"])
            properties.pop("Tags", None)  # CloudFormation's tag list, not the API's map
            self.client("customer-profiles").create_segment_definition(**properties)
            created.append(f"{logical_id}: segment definition {properties['SegmentDefinitionName']}")
        return created

    def function_spec(self, stack: Stack, function_logical_id: str) -> FunctionSpec:
        """The deployed function as the runtime needs it: handler, environment, timeout."""
        configuration = self.client("lambda").get_function_configuration(
            FunctionName=stack.physical(function_logical_id))
        return FunctionSpec(
            name=configuration["FunctionName"], handler=configuration["Handler"],
            # Lambda hands every variable to the code as a string; moto may keep numbers.
            environment={k: str(v) for k, v in configuration.get("Environment", {}).get("Variables", {}).items()},
            timeout_seconds=configuration.get("Timeout", 30),
        )

    def async_invoker(self, stack: Stack, function_logical_id: str) -> AsyncInvoker:
        """Invokes the function as an asynchronous caller would, with the template's retries and destination."""
        invoker = AsyncInvoker(self.function_spec(stack, function_logical_id))
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource["Type"] == "AWS::Lambda::EventInvokeConfig" and resource["Properties"]["FunctionName"] == {
                    "Ref": function_logical_id}:
                properties = stack.resolved(logical_id)["Properties"]
                invoker.maximum_retry_attempts = int(properties.get("MaximumRetryAttempts", 2))
                destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                if destination:
                    invoker.on_failure = (self.client("sqs"), stack.physical(destination["Fn::GetAtt"][0]))
        return invoker

    def _resolve_deep(self, stack: Stack, value: Any) -> Any:
        if isinstance(value, dict) and any(k in value for k in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Split")):
            return self._resolve(stack, value)
        if isinstance(value, dict):
            return {k: self._resolve_deep(stack, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve_deep(stack, v) for v in value]
        return value

    def _complete_buckets(self, stack: Stack) -> list[str]:
        """moto's CloudFormation creates buckets without their versioning and notification configuration."""
        created = []
        for bucket in stack.of_type("AWS::S3::Bucket"):
            properties = stack.resolved(bucket.logical_id)["Properties"]
            if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
                self.client("s3").put_bucket_versioning(Bucket=bucket.physical_id,
                                                        VersioningConfiguration={"Status": "Enabled"})
                created.append(f"{bucket.logical_id}: versioning")
            configuration = properties.get("NotificationConfiguration", {})
            queues = [{
                "QueueArn": self._resolve(stack, q["Queue"]), "Events": [q["Event"]],
                **({"Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}}} if "Filter" in q else {}),
            } for q in configuration.get("QueueConfigurations", [])]
            if queues:
                self.client("s3").put_bucket_notification_configuration(
                    Bucket=bucket.physical_id, NotificationConfiguration={"QueueConfigurations": queues})
                created.append(f"{bucket.logical_id}: {len(queues)} queue notification(s)")
        return created

    def _complete_subscriptions(self, stack: Stack) -> list[str]:
        sns = self.client("sns")
        created = []
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource["Type"] != "AWS::SNS::Subscription":
                continue
            properties = resource["Properties"]
            try:
                topic_arn = self._resolve(stack, properties["TopicArn"])
                endpoint = self._resolve(stack, properties["Endpoint"])
            except KeyError:  # refers to a resource its conditions left out
                continue
            attributes = {}
            if properties.get("RawMessageDelivery") in (True, "true"):
                attributes["RawMessageDelivery"] = "true"
            if "FilterPolicy" in properties:
                attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
            sns.subscribe(TopicArn=topic_arn, Protocol=properties["Protocol"], Endpoint=endpoint,
                          Attributes=attributes)
            created.append(f"{logical_id}: {properties['Protocol']} subscription")
        return created

    def _resolve(self, stack: Stack, value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            if value["Ref"] in stack.parameters:
                return stack.parameters[value["Ref"]]
            if value["Ref"] == "AWS::StackName":
                return stack.name
            if value["Ref"] == "AWS::StackId":
                return self.client("cloudformation").describe_stacks(StackName=stack.name)["Stacks"][0]["StackId"]
            skipped = stack.template["Resources"].get(value["Ref"], {})
            if value["Ref"] not in stack.resources and skipped.get("Type") in NAME_PROPERTY_OF_SKIPPED:
                # moto skipped it; its Ref is the name the template gives it
                return self._resolve(stack, skipped["Properties"][NAME_PROPERTY_OF_SKIPPED[skipped["Type"]]])
            return stack.physical(value["Ref"])
        if "Fn::Sub" in value:
            text, variables = value["Fn::Sub"] if isinstance(value["Fn::Sub"], list) else (value["Fn::Sub"], {})
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._resolve(
                stack, variables[m.group(1)] if m.group(1) in variables else {"Ref": m.group(1)}), text)
        if "Fn::Select" in value:
            index, values = value["Fn::Select"]
            return self._resolve(stack, values)[int(index)]
        if "Fn::Split" in value:
            delimiter, source = value["Fn::Split"]
            return self._resolve(stack, source).split(delimiter)
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            resource = stack.resources[logical_id]
            if attribute == "Arn" and resource.type == "AWS::SQS::Queue":
                return self.client("sqs").get_queue_attributes(
                    QueueUrl=resource.physical_id, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            if attribute == "Arn" and resource.type == "AWS::Lambda::Function":
                return self.client("lambda").get_function(FunctionName=resource.physical_id)["Configuration"][
                    "FunctionArn"]
        raise ValueError(f"cannot resolve {value!r} in the local emulator")

    # ------------------------------------------------------ event delivery
    def event_sources(self, stack: Stack) -> list[SqsSource | KinesisSource]:
        """A poller per event source mapping of the stack, configured as the template configured it."""
        lam, sqs = self.client("lambda"), self.client("sqs")
        sources: list[SqsSource | KinesisSource] = []
        for function in stack.of_type("AWS::Lambda::Function"):
            spec = self.function_spec(stack, function.logical_id)
            for mapping in lam.list_event_source_mappings(FunctionName=function.physical_id)["EventSourceMappings"]:
                arn = mapping["EventSourceArn"]
                reports = "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])
                if arn.startswith("arn:aws:sqs:"):
                    queue_url = sqs.get_queue_url(QueueName=arn.split(":")[-1])["QueueUrl"]
                    sources.append(SqsSource(sqs, queue_url, spec, batch_size=mapping.get("BatchSize", 10),
                                             report_batch_item_failures=reports))
                elif arn.startswith("arn:aws:kinesis:"):
                    on_failure = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                    failure_queue = None
                    if on_failure:
                        failure_queue = (sqs, sqs.get_queue_url(QueueName=on_failure.split(":")[-1])["QueueUrl"])
                    sources.append(KinesisSource(
                        self.client("kinesis"), arn.split("/")[-1], spec, batch_size=mapping.get("BatchSize", 100),
                        maximum_retry_attempts=mapping.get("MaximumRetryAttempts", 3), on_failure=failure_queue))
        return sources

    def wait_for_executions(self, stack: Stack, timeout_seconds: float = 120) -> list[dict[str, Any]]:
        """Every execution of the stack's state machines, once none is running (moto runs them in threads)."""
        import time

        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout_seconds
        while True:
            executions = [e for machine in stack.of_type("AWS::StepFunctions::StateMachine")
                          for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine.physical_id)
                          for e in page["executions"]]
            if all(e["status"] != "RUNNING" for e in executions):
                return [sfn.describe_execution(executionArn=e["executionArn"]) for e in executions]
            if time.monotonic() > deadline:
                raise AssertionError(f"{stack.name}'s executions still running after {timeout_seconds:.0f}s")
            time.sleep(0.2)

    def pump(self, stack: Stack, max_rounds: int = 100) -> dict[str, Any]:
        """Deliver everything waiting in the stack's queues and streams, until one function's output
        feeding another's input has run its course too; returns stats per function."""
        sources = self.event_sources(stack)
        for _ in range(max_rounds):
            before = sum(source.stats.records for source in sources)
            for source in sources:
                source.drain(self.runtime)
            if sum(source.stats.records for source in sources) == before:
                return {source.function.name: source.stats for source in sources}
        raise AssertionError(f"{stack.name}'s queues still had messages after {max_rounds} rounds")
