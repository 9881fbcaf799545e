"""The SQS handler: partial batch failures, bad records, throttling of one record."""

import io
import json
import logging
from pathlib import Path

import pytest

from due.ses_event_processing import handler

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "ses_event_processing"


@pytest.fixture
def environment(address_table, fakes):
    return fakes


def sqs_event(*bodies: str) -> dict:
    return {"Records": [{
        "messageId": f"msg-{i}", "receiptHandle": f"rh-{i}", "body": body, "attributes": {
            "ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "x",
            "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
    } for i, body in enumerate(bodies)]}


def sample(name: str) -> str:
    return (EXAMPLES / name).read_text()


BAD_BODIES = {
    "not JSON": "this is not json",
    "envelope without Message": json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t"}),
    "not an SES event": json.dumps({"hello": "world"}),
    "unknown type": json.dumps({"eventType": "Teleport", "mail": {"messageId": "m"}}),
    "bounce without recipients": json.dumps({"eventType": "Bounce", "mail": {"messageId": "m"},
                                             "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}}),
}


@pytest.mark.parametrize("what", sorted(BAD_BODIES))
def test_bad_record_fails_alone_and_is_logged_with_its_id(environment, lambda_context, caplog, what):
    event = sqs_event(sample("permanent_bounce.json"), BAD_BODIES[what], sample("complaint.json"))
    with caplog.at_level(logging.ERROR):
        response = handler.lambda_handler(event, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert set(environment.sesv2.suppressed) == {"no-such-user@example.com", "annoyed.reader@example.net"}
    failures = [r for r in caplog.records if r.getMessage() == "record failed"]
    assert [r.record_id for r in failures] == ["msg-1"]
    assert failures[0].error_type == "BadEvent"


def test_throttling_that_outlasts_retries_fails_only_that_record(environment, lambda_context, no_backoff):
    environment.sesv2.fail_next("PutSuppressedDestination", "TooManyRequestsException", times=5, status=429)
    event = sqs_event(sample("permanent_bounce.json"), sample("complaint.json"), sample("delivery.json"))
    response = handler.lambda_handler(event, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert set(environment.sesv2.suppressed) == {"annoyed.reader@example.net"}
    # The redelivered message finishes the job.
    assert handler.lambda_handler(sqs_event(sample("permanent_bounce.json")), lambda_context) == {
        "batchItemFailures": []}
    assert "no-such-user@example.com" in environment.sesv2.suppressed


def test_ignored_types_make_no_aws_calls(environment, lambda_context, aws):
    calls = []
    aws.events.register("before-call", lambda model, **_: calls.append(model.name))
    response = handler.lambda_handler(sqs_event(sample("delivery.json")), lambda_context)
    assert response == {"batchItemFailures": []}
    assert calls == []


def test_log_lines_carry_no_address(environment, lambda_context, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", stream)
    handler.lambda_handler(sqs_event(sample("permanent_bounce.json")), lambda_context)
    output = stream.getvalue()
    assert "feedback applied" in output
    assert "no-such-user@example.com" not in output
    assert "n***@example.com" in output
