"""The rules of the house that can be read off a template."""

from __future__ import annotations

from scripts.cfn import references
from tests.templates.conftest import resources_of

CURRENT_RUNTIMES = {"python3.12", "python3.13"}


def _refs(value) -> set[str]:
    return set(references(value))


def _dead_letter_targets(template) -> set[str]:
    targets = set()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        targets |= _refs(properties.get("RedrivePolicy", {}).get("deadLetterTargetArn"))
        targets |= _refs(properties.get("DestinationConfig", {}).get("OnFailure"))
    return targets


def _terminal_queues(template) -> set[str]:
    """Dead-letter queues, on-failure destinations, and queues no function consumes (a function sets messages
    aside there with their reason): nobody receives them again and again, so they need no dead-letter queue of
    their own, but someone must notice what lands there."""
    consumed = set()
    for mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").values():
        consumed |= _refs(mapping["Properties"].get("EventSourceArn"))
    queues = set(resources_of(template, "AWS::SQS::Queue"))
    return _dead_letter_targets(template) | (queues - consumed - _notified_queues(template))


def _notified_queues(template) -> set[str]:
    """Queues S3 or SNS deliver to (consumed by a function or a state machine's poller, never terminal)."""
    delivered = set()
    for subscription in resources_of(template, "AWS::SNS::Subscription").values():
        delivered |= _refs(subscription["Properties"].get("Endpoint"))
    for bucket in resources_of(template, "AWS::S3::Bucket").values():
        delivered |= _refs(bucket.get("Properties", {}).get("NotificationConfiguration"))
    return delivered


def test_every_queue_has_a_dead_letter_queue(template):
    terminal = _terminal_queues(template)
    for logical_id, queue in resources_of(template, "AWS::SQS::Queue").items():
        if logical_id not in terminal:
            assert "RedrivePolicy" in queue.get("Properties", {}), f"{logical_id} has no dead-letter queue"


def test_dead_letter_queues_keep_messages_14_days_and_raise_an_alarm(template):
    alarmed = set()
    for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values():
        alarmed |= _refs(alarm["Properties"].get("Dimensions")) | _refs(alarm["Properties"].get("Metrics"))
    for logical_id in _terminal_queues(template):
        assert template["Resources"][logical_id]["Properties"]["MessageRetentionPeriod"] == 1209600
        assert logical_id in alarmed, f"nobody would notice messages in {logical_id}"


def test_everything_that_stores_data_is_encrypted(template):
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
            assert properties.get("KmsMasterKeyId") or properties.get("SqsManagedSseEnabled"), logical_id
        elif kind == "AWS::Kinesis::Stream":
            assert properties["StreamEncryption"]["EncryptionType"] == "KMS", logical_id
        elif kind == "AWS::DynamoDB::Table":
            assert properties["SSESpecification"]["SSEEnabled"] is True, logical_id
        elif kind == "AWS::S3::Bucket":
            assert properties["BucketEncryption"], logical_id
        elif kind == "AWS::Logs::LogGroup":
            assert properties.get("KmsKeyId"), logical_id


def test_a_key_outlives_the_stack_when_data_it_encrypts_does(template):
    """Data kept on stack delete, encrypted with a key deleted with it, could never be read again."""
    keys = set(resources_of(template, "AWS::KMS::Key"))
    for logical_id, resource in template["Resources"].items():
        if resource.get("DeletionPolicy") != "Retain":
            continue
        for key in _refs(resource.get("Properties", {})) & keys:
            assert template["Resources"][key].get("DeletionPolicy") == "Retain", f"{logical_id} outlives {key}"


def test_every_function_logs_to_its_own_group_with_retention(template):
    groups = resources_of(template, "AWS::Logs::LogGroup")
    used = []
    for logical_id, function in resources_of(template, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        assert properties["Runtime"] in CURRENT_RUNTIMES, logical_id
        (group,) = _refs(properties["LoggingConfig"]["LogGroup"])
        assert "RetentionInDays" in groups[group]["Properties"], group
        used.append(group)
    assert len(used) == len(set(used)), "functions share a log group"


def test_stream_and_queue_consumers_report_partial_batch_failures(template):
    for logical_id, mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").items():
        properties = mapping["Properties"]
        assert "ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []), logical_id
        (source,) = _refs(properties["EventSourceArn"])
        if template["Resources"][source]["Type"] == "AWS::Kinesis::Stream":
            assert properties["DestinationConfig"]["OnFailure"], f"{logical_id}: failed batches must land somewhere"
            assert 0 <= properties["MaximumRetryAttempts"] <= 10, logical_id
            assert properties["BisectBatchOnFunctionError"] is True, logical_id


def test_no_function_reserves_concurrency_and_fifo_consumers_cap_theirs(template):
    """Reserved concurrency cannot take an account's unreserved concurrency below its floor (new accounts
    have 10 in all), so such a stack fails to deploy there; and it throttles SQS pollers, whose throttled
    receives count towards maxReceiveCount. A FIFO consumer caps itself with the mapping's MaximumConcurrency
    instead (Lambda developer guide, "Configuring scaling behavior for SQS event source mappings")."""
    for logical_id, function in resources_of(template, "AWS::Lambda::Function").items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], logical_id
    queues = resources_of(template, "AWS::SQS::Queue")
    for logical_id, mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").items():
        (source,) = _refs(mapping["Properties"]["EventSourceArn"]) or {None}
        if source in queues and queues[source]["Properties"].get("FifoQueue"):
            assert "MaximumConcurrency" in mapping["Properties"].get("ScalingConfig", {}), logical_id


def test_sqs_visibility_timeout_covers_six_function_timeouts(template):
    for mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").values():
        (source,) = _refs(mapping["Properties"]["EventSourceArn"])
        if template["Resources"][source]["Type"] != "AWS::SQS::Queue":
            continue
        (function,) = _refs(mapping["Properties"]["FunctionName"])
        timeout = template["Resources"][function]["Properties"]["Timeout"]
        assert template["Resources"][source]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_no_policy_allows_everyone(template):
    def statements(value):
        if isinstance(value, dict):
            if "Effect" in value and "Principal" in value:
                yield value
            for inner in value.values():
                yield from statements(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from statements(inner)

    for statement in statements(template["Resources"]):
        if statement["Effect"] == "Allow":
            assert statement["Principal"] not in ("*", {"AWS": "*"}), statement


def test_short_form_condition_is_not_used(template_text):
    # moto's CloudFormation evaluates "!Condition X" inside !Not/!And/!Or wrongly (shared/TOOLING.md).
    assert "!Condition" not in template_text


def test_description_says_what_depends_on_pinpoint(template):
    uses_pinpoint = any(r["Type"].startswith("AWS::Pinpoint::") for r in template["Resources"].values()) or any(
        "Pinpoint" in name for name in template["Parameters"])
    description = " ".join(template["Description"].split())
    if uses_pinpoint:
        assert "DEPENDS ON AMAZON PINPOINT" in description
        assert "2026-10-30" in description
    else:
        assert "Does not depend on Amazon Pinpoint" in description


def test_checkov_skips_and_lint_ignores_carry_reasons(template, template_text):
    for logical_id, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, f"{logical_id} skips {skip['id']} without a reason"
    ignored = {rule for r in template["Resources"].values()
               for rule in r.get("Metadata", {}).get("cfn-lint", {}).get("config", {}).get("ignore_checks", [])}
    lines = template_text.splitlines()
    for number, line in enumerate(lines):
        if line.strip().lstrip("- ") in ignored:
            assert lines[number - 1].strip().startswith("#"), f"line {number + 1}: ignored rule without a reason"
