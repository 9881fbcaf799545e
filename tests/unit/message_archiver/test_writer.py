"""The archive queue's writer: one MIME file per message at its key, redeliveries and bad bodies, the secret."""

from __future__ import annotations

import email
import email.policy
import json
import logging

import pytest

from due import aws as due_aws
from due.archive import SentMessage
from due.message_archiver import writer_handler
from due.message_archiver.secret import SecretMissing, archive_writer, recipient_secret

BUCKET = "archive-bucket"
SECRET_NAME = "recipient-hmac"
SECRET_VALUE = "Z3x9kQ2mR7tV1bN8cL4pW6yH0jF5sD3gA2eU9iO7qK1zX4vB8nM6"


def sent(**overrides) -> SentMessage:
    fields = {"channel": "sms", "recipient": "+14255550182", "message_id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
              "sent_at": "2026-11-28T09:15:00Z", "campaign_id": "winter", "origination": "+18445550100",
              "message_type": "TRANSACTIONAL", "text": "Your code is 4471."}
    return SentMessage(**{**fields, **overrides})


def sqs_event(*bodies: str) -> dict:
    return {"Records": [{
        "messageId": f"msg-{i}", "receiptHandle": f"rh-{i}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:archive", "awsRegion": "us-east-1",
    } for i, body in enumerate(bodies)]}


@pytest.fixture
def archive(aws, monkeypatch):
    """A versioned bucket and the generated secret, named in the writer's environment as the template does."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    arn = aws.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=SECRET_VALUE)["ARN"]
    monkeypatch.setenv("ARCHIVE_BUCKET", BUCKET)
    monkeypatch.setenv("RECIPIENT_SECRET_ARN", arn)
    return s3


def versions(s3) -> list[dict]:
    return s3.list_object_versions(Bucket=BUCKET).get("Versions", [])


def test_each_message_is_one_mime_file_at_its_key(archive, lambda_context):
    messages = [sent(), sent(channel="email", recipient="Ana.Silva@Example.com", message_id="ses-0001",
                             subject="Your order", origination="shop@example.com", text="Shipped.")]
    response = writer_handler.lambda_handler(sqs_event(*(m.to_json() for m in messages)), lambda_context)
    assert response == {"batchItemFailures": []}
    secret = SECRET_VALUE.encode()
    assert sorted(v["Key"] for v in versions(archive)) == sorted(m.key(secret) for m in messages)
    for message in messages:
        stored = archive.get_object(Bucket=BUCKET, Key=message.key(secret))
        assert stored["ContentType"] == "message/rfc822"
        parsed = email.message_from_bytes(stored["Body"].read(), policy=email.policy.default)
        assert parsed["To"] == message.recipient
        assert parsed["X-Archive-Channel"] == message.channel
        assert parsed.get_body(("plain",)).get_content().strip() == message.text


def test_a_redelivery_adds_no_object_and_no_version(archive, lambda_context):
    body = sent().to_json()
    writer_handler.lambda_handler(sqs_event(body), lambda_context)
    response = writer_handler.lambda_handler(sqs_event(body, body), lambda_context)
    assert response == {"batchItemFailures": []}
    assert len(versions(archive)) == 1


BAD_BODIES = {
    "not JSON": "+14255550182 got a message",
    "a JSON list": json.dumps([sent().to_json()]),
    "a field missing": json.dumps({k: v for k, v in json.loads(sent().to_json()).items() if k != "message_id"}),
    "an unknown field": json.dumps({**json.loads(sent().to_json()), "colour": "blue"}),
    "an unknown channel": json.dumps({**json.loads(sent().to_json()), "channel": "pigeon"}),
    "a number not in E.164": json.dumps({**json.loads(sent().to_json()), "recipient": "425 555 0182"}),
    "a mistyped message id": json.dumps({**json.loads(sent().to_json()), "message_id": 7}),
    "no time": json.dumps({**json.loads(sent().to_json()), "sent_at": "yesterday"}),
}


@pytest.mark.parametrize("what", sorted(BAD_BODIES))
def test_a_body_that_is_not_a_sent_message_fails_alone_and_its_reason_names_no_one(archive, lambda_context, caplog,
                                                                                   what):
    other = sent(message_id="other-message")
    event = sqs_event(sent().to_json(), BAD_BODIES[what], other.to_json())
    with caplog.at_level(logging.INFO):
        response = writer_handler.lambda_handler(event, lambda_context)
    # Reported, so SQS receives it again and, after maxReceiveCount, moves it to the dead-letter queue.
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert len(versions(archive)) == 2
    failure = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failure and all("4255550182" not in r.getMessage() + json.dumps(r.__dict__, default=str)
                           for r in failure)


def test_a_failed_write_is_reported_and_the_others_are_kept(archive, lambda_context, monkeypatch):
    secret = SECRET_VALUE.encode()
    writer = archive_writer()
    calls = {"n": 0}
    real_put = writer._s3.put_object

    def put_failing_once(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            from botocore.exceptions import ClientError
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try again"}}, "PutObject")
        return real_put(**kwargs)

    monkeypatch.setattr(writer._s3, "put_object", put_failing_once)
    first, second = sent(message_id="first"), sent(message_id="second")
    response = writer_handler.lambda_handler(sqs_event(first.to_json(), second.to_json()), lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert [v["Key"] for v in versions(archive)] == [second.key(secret)]


def test_the_secret_is_read_once_per_container(archive, lambda_context):
    reads = []
    secretsmanager = due_aws.client("secretsmanager")
    secretsmanager.meta.events.register("before-call.secrets-manager.GetSecretValue",
                                        lambda **kwargs: reads.append(1))
    for n in range(3):
        writer_handler.lambda_handler(sqs_event(sent(message_id=f"m-{n}").to_json()), lambda_context)
    assert len(reads) == 1
    assert len(versions(archive)) == 3


def test_a_secret_without_a_string_is_refused(aws):
    arn = aws.client("secretsmanager").create_secret(Name="binary", SecretBinary=b"\x00\x01")["ARN"]
    with pytest.raises(SecretMissing):
        recipient_secret(aws.client("secretsmanager"), arn)
