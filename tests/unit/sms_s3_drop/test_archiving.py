"""The SMS S3 drop's sender archives each SMS it sent, after the batch, and never fails a send for it."""

from __future__ import annotations

import pytest

from due.archive import SentMessage
from due.sms_s3_drop import sender_handler
from due.sms_s3_drop.requests import SmsRequest, from_row
from due_local.tables import create_table
from tests.archive_doubles import on_archive_calls

ORIGINATION = "+18445550100"


@pytest.fixture
def sender_environment(aws, monkeypatch):
    create_table(aws.client("dynamodb"), "sent", "deduplication_id")
    create_table(aws.client("dynamodb"), "rates", "key")
    sqs = aws.client("sqs")
    dead_letters = sqs.create_queue(QueueName="send-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for name, value in {"CHANNEL": "EndUserMessaging", "CONFIGURATION_SET_NAME": "", "SENT_TABLE_NAME": "sent",
                        "RATE_TABLE_NAME": "rates", "SEND_DEAD_LETTER_QUEUE_URL": dead_letters,
                        "MESSAGES_PER_SECOND": "1000", "ARCHIVE_QUEUE_URL": ""}.items():
        monkeypatch.setenv(name, value)
    return sqs


@pytest.fixture
def archive_queue(sender_environment, monkeypatch) -> str:
    url = sender_environment.create_queue(QueueName="archive")["QueueUrl"]
    monkeypatch.setenv("ARCHIVE_QUEUE_URL", url)
    return url


def calls_in_order(aws) -> list[str]:
    """The SMS sends and archive calls the handler makes, in order."""
    from due import aws as due_aws

    order: list[str] = []
    due_aws.client("pinpoint-sms-voice-v2").meta.events.register(
        "before-call.pinpoint-sms-voice-v2.SendTextMessage", lambda **_: order.append("send"))
    on_archive_calls(lambda: order.append("archive"))
    return order


def event(*numbers: str) -> dict:
    records = []
    for row, number in enumerate(numbers, start=1):
        request = from_row("drop/incoming/f.csv@v1", row, [number, f"Hello {row}", "spring", ORIGINATION,
                                                           "PROMOTIONAL", "", ""])
        records.append({"messageId": f"m{row}", "body": request.to_json(),
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:send.fifo",
                        "attributes": {"MessageGroupId": ORIGINATION}})
    return {"Records": records}


def archived(sqs, url: str) -> list[SentMessage]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [SentMessage.from_json(m["Body"]) for m in messages]


def test_each_sms_sent_is_archived_with_its_send_id_in_one_call_after_the_batch(fakes, aws, archive_queue,
                                                                                 lambda_context):
    order = calls_in_order(aws)
    fakes.sms.fail_next("SendTextMessage", "ConflictException", message="opted out")  # row 1: refused, not sent
    response = sender_handler.lambda_handler(event("+14255550101", "+14255550102", "+14255550103"), lambda_context)
    assert response == {"batchItemFailures": []}
    assert order == ["send", "send", "send", "archive"]
    sent = {m["DestinationPhoneNumber"]: m["MessageId"] for m in fakes.sms.sent}
    messages = sorted(archived(aws.client("sqs"), archive_queue), key=lambda m: m.recipient)
    assert [(m.recipient, m.message_id, m.text) for m in messages] == [
        ("+14255550102", sent["+14255550102"], "Hello 2"), ("+14255550103", sent["+14255550103"], "Hello 3")]
    assert {(m.channel, m.origination, m.message_type, m.campaign_id) for m in messages} == {
        ("sms", ORIGINATION, "PROMOTIONAL", "spring")}
    # A redelivery of what was sent sends nothing, and archives it again as it was (same id and time: the
    # writer's conditional put on the same key keeps one copy).
    sender_handler.lambda_handler({"Records": event("+14255550101", "+14255550102", "+14255550103")["Records"][1:]},
                                  lambda_context)
    assert len(fakes.sms.sent) == 2
    assert sorted(archived(aws.client("sqs"), archive_queue), key=lambda m: m.recipient) == messages


def test_a_send_whose_archive_died_with_the_invocation_is_archived_by_the_redelivery(fakes, aws, archive_queue):
    """The invocation times out after the send and before the flush: its pending archive records go with the
    execution environment. The redelivered row is not sent again, and is archived from its marker."""
    first = sender_handler._sender()
    request = SmsRequest.from_json(event("+14255550102")["Records"][0]["body"])
    assert first.send(request) == "sent"  # ... and the invocation dies here, its archive never flushed
    sender_handler._sender.cache_clear()  # a new execution environment
    second = sender_handler._sender()
    assert second.send(request) == "sent before"
    assert second.archive.flush() == 0
    (kept,) = archived(aws.client("sqs"), archive_queue)
    assert len(fakes.sms.sent) == 1
    assert (kept.recipient, kept.message_id, kept.text) == ("+14255550102", fakes.sms.sent[0]["MessageId"], "Hello 1")
    marker = aws.client("dynamodb").scan(TableName="sent")["Items"][0]
    assert kept.sent_at == marker["sent_at"]["S"]


def test_without_the_archive_nothing_is_queued(fakes, aws, sender_environment, lambda_context):
    order = calls_in_order(aws)
    sender_handler.lambda_handler(event("+14255550101", "+14255550102"), lambda_context)
    assert order == ["send", "send"]


def test_an_archive_queue_that_fails_neither_fails_nor_holds_back_a_send(fakes, aws, sender_environment,
                                                                        monkeypatch, lambda_context):
    monkeypatch.setenv("ARCHIVE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue")
    order = calls_in_order(aws)
    response = sender_handler.lambda_handler(event("+14255550101", "+14255550102"), lambda_context)
    assert response == {"batchItemFailures": []}
    assert order == ["send", "send", "archive"]
    assert len(fakes.sms.sent) == 2
    markers = aws.client("dynamodb").scan(TableName="sent")["Items"]
    assert {m["status"]["S"] for m in markers} == {"sent"}
