"""S3_Data_Lake.yaml read as data: its schema, storage choices, sources and queries against athena/."""

import base64
import json
import re

import pytest

from due.data_lake import transform_handler
from due_local.athena_local import glue_type, partition_columns, query_files, table_columns
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


def test_partitions_are_projected_from_the_prefix_firehose_writes_to():
    table = TEMPLATE["Resources"]["EventsTable"]["Properties"]["TableInput"]
    parameters = table["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert (parameters["projection.dt.type"], parameters["projection.dt.format"]) == ("date", "yyyy-MM-dd")
    template_path = parameters["storage.location.template"]["Fn::Sub"].split("}", 1)[1]
    prefix = resolved("DeliveryStream")["ExtendedS3DestinationConfiguration"]["Prefix"]
    assert template_path == "/" + prefix.replace("!{partitionKeyFromLambda:dt}", "${!dt}")


def test_the_prefix_names_the_partition_key_the_transformation_returns():
    prefix = resolved("DeliveryStream")["ExtendedS3DestinationConfiguration"]["Prefix"]
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
    watched = {(a["Namespace"], a["MetricName"], a["Dimensions"][0]["Value"]["Ref"]) for a in alarms.values()}
    assert watched == {("AWS/Lambda", "Errors", "TransformFunction"),
                       ("AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStream")}


def test_the_events_and_the_key_that_reads_them_outlive_the_stack():
    for resource in ("DataBucket", "Key"):
        policies = TEMPLATE["Resources"][resource]
        assert (policies["DeletionPolicy"], policies["UpdateReplacePolicy"]) == ("Retain", "Retain"), resource
