"""Message_Archiver.yaml and its page read as data: the review's findings on the template, kept fixed."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.cfn import evaluate_conditions, load_template, parameter_values

TEMPLATE = load_template("Message_Archiver")
PAGE = (Path(__file__).resolve().parents[3] / "docs" / "Message_Archiver.md").read_text()
REQUIRED = {"CodeBucket": "code", "CodeKey": "code.zip"}
PINPOINT = {"Mode": "Pinpoint", "PinpointApplicationId": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"}


def created(**parameters: str) -> set[str]:
    conditions = evaluate_conditions(TEMPLATE, parameter_values(TEMPLATE, {**REQUIRED, **parameters}))
    return {name for name, resource in TEMPLATE["Resources"].items()
            if conditions.get(resource.get("Condition", ""), "Condition" not in resource)}


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_mail_manager_is_created_in_pinpoint_mode_too():
    assert {"EmailArchive", "EmailConfigurationSet"} <= created(**PINPOINT, MailManagerArchive="Enabled")
    assert not {"EmailArchive", "EmailConfigurationSet"} & created(**PINPOINT)


def test_pinpoint_mode_alarms_on_transformation_errors_and_failed_invocations():
    resources = TEMPLATE["Resources"]
    names = created(**PINPOINT, ExistingEventStreamRoleName="existing-stream-role")
    alarms = {name for name in names if resources[name]["Type"] == "AWS::CloudWatch::Alarm"}
    errors = resources["PinpointTransformErrorsMetric"]["Properties"]
    assert errors["LogGroupName"] == {"Ref": "PinpointTransformLogGroup"}
    assert errors["FilterPattern"] == '{ $.level = "ERROR" }'
    assert {"PinpointTransformErrorsAlarm", "PinpointTransformFailuresAlarm"} <= alarms
    failures = resources["PinpointTransformFailuresAlarm"]["Properties"]
    assert (failures["Namespace"], failures["MetricName"]) == ("AWS/Lambda", "Errors")
    assert failures["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "PinpointTransformFunction"}}]


def test_the_transformation_may_keep_unqueued_sends_in_the_bucket_and_they_expire():
    statements = TEMPLATE["Resources"]["PinpointTransformRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"]
    keep = next(s for s in statements if s["Sid"] == "KeepUnqueuedSends")
    assert keep["Action"] == "s3:PutObject"
    assert keep["Resource"] == {"Fn::Sub": "${ArchiveBucket.Arn}/unqueued/*"}
    rules = TEMPLATE["Resources"]["ArchiveBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [r["ExpirationInDays"] for r in rules if r["Prefix"] == "unqueued/"] == [{"Ref": "RetentionDays"}]


def test_the_renderers_concurrency_is_bounded():
    mapping = TEMPLATE["Resources"]["PinpointRenderEventSource"]["Properties"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "RenderMaximumConcurrency"}}
    parameter = TEMPLATE["Parameters"]["RenderMaximumConcurrency"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (2, 1000)  # ScalingConfig's own range


def test_object_lock_is_described_as_possible_later_and_irreversible():
    texts = [flat(PAGE), flat(TEMPLATE["Parameters"]["ObjectLock"]["Description"])]
    for text in texts:
        assert "creation only" not in text and "at creation" not in text
        assert "never off" in text
    assert "when the bucket is created" not in flat(PAGE)


def test_the_page_warns_that_the_transformation_replaces_an_existing_streams_processor():
    text = flat(PAGE)
    assert "replaces any processor the stream has" in text
    assert "S3_Data_Lake's stream" in text
    assert "The transformation never returns `ProcessingFailed`" in text
    assert "comes back `ProcessingFailed`" not in text


def test_the_page_keeps_the_senders_event_configuration_set_with_mail_manager():
    text = flat(PAGE)
    assert "Give it to the email senders' `ConfigurationSetName` parameter." not in text
    assert "SesConfigurationSetName" in text
