"""S3_Data_Lake.yaml read as data: its schema, storage choices, sources and queries against athena/."""

import base64
import json
import re

import pytest

from due.data_lake import rows, transform_handler
from due_local.athena_local import events_prefix, glue_type, partition_columns, query_files, table_columns
from due_local.firehose import openx_json_keys, resolve_sub
from scripts.cfn import evaluate_conditions, load_template, parameter_values, resolve_conditionals

TEMPLATE = load_template("S3_Data_Lake")
REQUIRED = {"CodeBucket": "code", "CodeKey": "code.zip"}


def resolved(resource: str, **parameters: str) -> dict:
    conditions = evaluate_conditions(TEMPLATE, parameter_values(TEMPLATE, {**REQUIRED, **parameters}))
    return resolve_conditionals(TEMPLATE["Resources"][resource], conditions)["Properties"]


def conditions_for(**parameters: str) -> dict[str, bool]:
    return evaluate_conditions(TEMPLATE, parameter_values(TEMPLATE, {**REQUIRED, **parameters}))


def test_glue_columns_are_the_athena_ddls_columns_with_the_same_types():
    table = TEMPLATE["Resources"]["EventsTable"]["Properties"]["TableInput"]
    in_template = [(c["Name"], glue_type(c["Type"])) for c in table["StorageDescriptor"]["Columns"]]
    assert in_template == table_columns()
    assert [k["Name"] for k in table["PartitionKeys"]] == partition_columns() == ["dt"]


def firehose_prefix(storage_format: str) -> str:
    return resolve_sub(resolved("DeliveryStream", StorageFormat=storage_format)[
        "ExtendedS3DestinationConfiguration"]["Prefix"])


@pytest.mark.parametrize("storage_format", ["PARQUET", "JSON"])
def test_partitions_are_projected_from_the_prefix_firehose_writes_to_for_each_format(storage_format):
    table = resolved("EventsTable", StorageFormat=storage_format)["TableInput"]
    parameters = table["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert (parameters["projection.dt.type"], parameters["projection.dt.format"]) == ("date", "yyyy-MM-dd")
    bucket = {"DataBucket": "bucket"}
    prefix = firehose_prefix(storage_format)
    assert prefix == events_prefix(storage_format) + "dt=!{partitionKeyFromLambda:dt}/"
    assert resolve_sub(table["StorageDescriptor"]["Location"], bucket) == f"s3://bucket/{events_prefix(storage_format)}"
    assert resolve_sub(parameters["storage.location.template"], bucket) == "s3://bucket/" + prefix.replace(
        "!{partitionKeyFromLambda:dt}", "${dt}")


def test_changing_the_storage_format_never_mixes_formats_under_the_tables_location():
    parquet, json_lines = firehose_prefix("PARQUET"), firehose_prefix("JSON")
    assert not parquet.startswith(json_lines.split("dt=")[0]) and not json_lines.startswith(parquet.split("dt=")[0])


def test_the_projected_range_is_what_the_transformation_accepts():
    parameters = TEMPLATE["Resources"]["EventsTable"]["Properties"]["TableInput"]["Parameters"]
    # rows.to_row refuses events before the start or after the day following their arrival.
    assert parameters["projection.dt.range"] == f"{rows.PARTITION_RANGE_START},NOW+1DAYS"
    assert parameters["projection.dt.interval.unit"] == "DAYS"


def test_parquet_conversion_keeps_the_case_of_every_key():
    conversion = resolved("DeliveryStream", StorageFormat="PARQUET")["ExtendedS3DestinationConfiguration"][
        "DataFormatConversionConfiguration"]
    serde = conversion["InputFormatConfiguration"]["Deserializer"]["OpenXJsonSerDe"]
    row = {"recipients": ["Jose.Muller@example.com"],
           "recipient_details": {"Jose.Muller@example.com": {"status": "5.1.1"}},
           "attributes": {"campaignName": "Nov", "campaignname": "other"}}
    line = json.dumps(row).encode() + b"\n"
    assert json.loads(openx_json_keys(line, serde)) == row


def test_the_prefix_names_the_partition_key_the_transformation_returns():
    prefix = firehose_prefix("PARQUET")
    named = set(re.findall(r"!\{partitionKeyFromLambda:(\w+)\}", prefix))
    event = {"eventType": "TEXT_DELIVERED", "destinationPhoneNumber": "+14255550100",
             "eventTimestamp": 1_795_000_000_000}
    record = {"recordId": "1", "data": base64.b64encode(json.dumps(event).encode()).decode()}
    assert named == set(transform_handler.transform(record)["metadata"]["partitionKeys"])


def test_parquet_is_converted_against_the_glue_table():
    destination = resolved("DeliveryStream", StorageFormat="PARQUET")["ExtendedS3DestinationConfiguration"]
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]
    schema = conversion["SchemaConfiguration"]
    assert (schema["DatabaseName"], schema["TableName"]) == ({"Ref": "DatabaseName"}, "events")
    assert destination["CompressionFormat"] == "UNCOMPRESSED"  # Parquet compresses its own pages
    serde = resolved("EventsTable", StorageFormat="PARQUET")["TableInput"]["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"].endswith("ParquetHiveSerDe")


def test_json_is_gzipped_and_read_with_the_json_serde():
    destination = resolved("DeliveryStream", StorageFormat="JSON")["ExtendedS3DestinationConfiguration"]
    assert "DataFormatConversionConfiguration" not in destination
    assert destination["CompressionFormat"] == "GZIP"
    serde = resolved("EventsTable", StorageFormat="JSON")["TableInput"]["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_records_the_transformation_rejects_go_to_an_error_prefix_outside_the_table():
    destination = resolved("DeliveryStream")["ExtendedS3DestinationConfiguration"]
    assert destination["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert destination["ProcessingConfiguration"]["Enabled"] is True


def test_the_workgroup_caps_scans_and_encrypts_results_and_users_cannot_override_it():
    configuration = resolved("WorkGroup")["WorkGroupConfiguration"]
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "BytesScannedCutoffPerQuery"}
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"


@pytest.mark.parametrize("resource", ["CampaignEngagementQuery", "EmailsReceivedByAddressQuery"])
def test_named_queries_are_the_athena_query_files(resource):
    properties = TEMPLATE["Resources"][resource]["Properties"]
    by_text = {path.read_text().strip(): name for name, path in query_files().items()}
    assert properties["QueryString"].strip() in by_text
    assert properties["WorkGroup"] == {"Ref": "WorkGroup"}


def test_views_wait_for_the_table_and_the_workgroup_and_rerun_for_new_code():
    views = TEMPLATE["Resources"]["Views"]
    assert {"EventsTable", "WorkGroup"} <= set(views["DependsOn"])
    assert views["Properties"]["CodeKey"] == {"Ref": "CodeKey"}


def test_ses_publishes_every_email_event_type():
    destination = resolved("SesEventDestination")["EventDestination"]
    assert set(destination["MatchingEventTypes"]) == {
        "send", "reject", "bounce", "complaint", "delivery", "open", "click", "renderingFailure", "deliveryDelay",
        "subscription"}


@pytest.mark.parametrize(("parameters", "ses", "sms", "pinpoint"), [
    ({}, ("CreateSesSet", "PublishSesEvents"), ("CreateSmsSet",), ()),
    ({"SesEvents": "existing-configuration-set", "SesConfigurationSetName": "mine"}, ("PublishSesEvents",),
     ("CreateSmsSet",), ()),
    ({"SesEvents": "none", "SmsEvents": "none"}, (), (), ()),
    ({"PinpointApplicationId": "7f0b5a3e1c2d4e6f8a9b0c1d2e3f4a5b"}, ("CreateSesSet", "PublishSesEvents"),
     ("CreateSmsSet",), ("StreamPinpointEvents",)),
])
def test_each_source_is_switched_by_its_parameter(parameters, ses, sms, pinpoint):
    conditions = conditions_for(**parameters)
    source_conditions = ("CreateSesSet", "PublishSesEvents", "CreateSmsSet", "StreamPinpointEvents")
    assert {c for c in source_conditions if conditions[c]} == set(ses + sms + pinpoint)


def test_an_existing_ses_set_must_be_named():
    rule = TEMPLATE["Rules"]["ExistingSesSetIsNamed"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "SesEvents"}, "existing-configuration-set"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SesConfigurationSetName"}, ""]}]}


def test_a_person_hears_when_batches_fail_or_delivery_stalls():
    alarms = {k: v["Properties"] for k, v in TEMPLATE["Resources"].items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    watched = {(a["Namespace"], a["MetricName"], a["Dimensions"][0]["Value"]["Ref"]) for a in alarms.values()
               if "Dimensions" in a}
    assert watched == {("AWS/Lambda", "Errors", "TransformFunction"),
                       ("AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStream")}


def test_a_person_hears_when_records_are_refused():
    metric = TEMPLATE["Resources"]["RefusedRecordsMetric"]["Properties"]
    alarm = TEMPLATE["Resources"]["RefusedRecordsAlarm"]["Properties"]
    assert metric["LogGroupName"] == {"Ref": "TransformLogGroup"}
    assert metric["FilterPattern"] == f'{{ $.message = "{transform_handler.REFUSED}" }}'
    (counted,) = metric["MetricTransformations"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (counted["MetricNamespace"], counted["MetricName"])
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


@pytest.mark.parametrize(("source", "role", "policy"), [
    ("SesEventDestination", "SesDeliveryRole", "PublishEventsPolicy"),
    ("SmsConfigurationSet", "SmsDeliveryRole", "PublishEventsPolicy"),
])
def test_sources_are_created_after_their_roles_permission_had_time_to_propagate(source, role, policy):
    resources = TEMPLATE["Resources"]
    assert {policy, "Views"} <= set(resources[source]["DependsOn"])
    # Trust only: the role exists from the start of the stack, not once the stream does.
    assert "Policies" not in resources[role]["Properties"]
    assert {"Ref": role} in resources[policy]["Properties"]["Roles"]
    # The views (tens of seconds of Athena statements) run after the policy, and the source after the views.
    assert policy in TEMPLATE["Resources"]["Views"]["DependsOn"]


def test_the_pinpoint_stream_is_set_after_its_policy_by_the_retrying_custom_resource():
    # Pinpoint checks the role's permission on the stream when the stream is set; the custom resource
    # (tests/unit/test_pinpoint_event_stream.py) retries while that permission propagates.
    resources = TEMPLATE["Resources"]
    stream = resources["PinpointProjectEventStream"]
    assert stream["Type"] == "Custom::PinpointEventStream"
    assert stream["DependsOn"] == "PinpointStreamPolicy"
    assert "Policies" not in resources["PinpointStreamRole"]["Properties"]
    assert {"Ref": "PinpointStreamRole"} in resources["PinpointStreamPolicy"]["Properties"]["Roles"]
    assert [k for k, v in resources.items() if v["Type"].startswith("AWS::Pinpoint::")] == []


LONGEST_STACK_NAME = "s" + "-x" * 63 + "y"  # 128 characters, the most CloudFormation allows
STACK_ID = f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{LONGEST_STACK_NAME}/" \
           "6f9f7e10-cd2b-11f0-8de9-0242ac120002"


def _evaluate(value):
    """The few intrinsic functions the names use, for a stack with the longest name."""
    if isinstance(value, str):
        return value
    (function, argument), = value.items()
    if function == "Ref":
        return {"AWS::StackName": LONGEST_STACK_NAME, "AWS::StackId": STACK_ID}[argument]
    if function == "Fn::Split":
        return _evaluate(argument[1]).split(argument[0])
    if function == "Fn::Select":
        return _evaluate(argument[1])[int(argument[0])]
    if function == "Fn::Join":
        return argument[0].join(_evaluate(v) for v in argument[1])
    if function == "Fn::Sub":
        template, variables = argument if isinstance(argument, list) else (argument, {})
        known = {"AWS::StackName": LONGEST_STACK_NAME, "AWS::Partition": "aws", "AWS::Region": "eu-west-1",
                 "AWS::AccountId": "123456789012", **{k: _evaluate(v) for k, v in variables.items()}}
        return re.sub(r"\$\{([\w:]+)\}", lambda m: known[m.group(1)], template)
    raise AssertionError(f"unexpected {function}")


def test_names_built_for_the_stack_fit_their_services_limits_for_the_longest_stack_name():
    import botocore.session

    athena = botocore.session.get_session().get_service_model("athena")
    pattern = athena.shape_for("WorkGroupName").metadata["pattern"]  # [a-zA-Z0-9._-]{1,128}
    resources = TEMPLATE["Resources"]
    workgroup = _evaluate(resources["WorkGroup"]["Properties"]["Name"])
    assert re.fullmatch(pattern, workgroup), workgroup
    # Everywhere the workgroup is named, it is the same name.
    assert _evaluate(resources["Views"]["Properties"]["WorkGroup"]) == workgroup
    assert _evaluate(TEMPLATE["Outputs"]["WorkGroupName"]["Value"]) == workgroup
    statements = resources["ViewsRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    (run,) = [s for s in statements if s["Sid"] == "RunViewStatements"]
    assert run["Resource"]["Fn::Sub"].endswith(":workgroup/${WorkGroup}")  # Ref of a workgroup is its name
    # SES event destination names: 1-64 of [A-Za-z0-9_-] (SES API Reference, EventDestination Name).
    destination = _evaluate(resources["SesEventDestination"]["Properties"]["EventDestination"]["Name"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", destination), destination
    # No other property is built from the stack name.
    assert "AWS::StackName" not in json.dumps(resources)


def test_the_events_and_the_key_that_reads_them_outlive_the_stack():
    for resource in ("DataBucket", "Key"):
        policies = TEMPLATE["Resources"][resource]
        assert (policies["DeletionPolicy"], policies["UpdateReplacePolicy"]) == ("Retain", "Retain"), resource
