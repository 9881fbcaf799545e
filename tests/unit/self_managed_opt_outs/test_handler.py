import io
import json

import pytest

from due import aws as due_aws
from due.archive import SentMessage
from due.self_managed_opt_outs import handler
from tests.archive_doubles import on_archive_calls
from tests.unit.self_managed_opt_outs.conftest import inbound


@pytest.fixture
def environment(aws, fakes, notifications, steps, monkeypatch):
    aws.client("pinpoint-sms-voice-v2").create_opt_out_list(OptOutListName="promotional")
    for name, value in {"MODE": "EndUserMessaging", "OPT_OUT_LIST_NAME": "promotional",
                        "NOTIFICATIONS_TOPIC_ARN": notifications[0], "PROCESSED_TABLE_NAME": "processed",
                        "EXTRA_OPT_OUT_KEYWORDS": "", "OPT_OUT_CONFIRMATION": "bye", "OPT_IN_CONFIRMATION": "hi",
                        "HELP_TEXT": "help", "OPT_IN_REFUSED": "not yet", "PINPOINT_APPLICATION_ID": ""}.items():
        monkeypatch.setenv(name, value)
    return fakes


def sqs_event(*bodies) -> dict:
    return {"Records": [{"messageId": f"m{i}", "body": body, "eventSourceARN": "arn:aws:sqs:us-east-1:1:q"}
                        for i, body in enumerate(bodies)]}


def test_envelope_or_raw_bad_records_fail_alone_and_numbers_are_masked(environment, lambda_context, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", stream)
    enveloped = json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                            "Message": json.dumps(inbound("stop"))})
    bad = [json.dumps(inbound("stop", originationNumber="12345")), json.dumps({"messageBody": "STOP"}), "nope"]
    response = handler.lambda_handler(sqs_event(enveloped, *bad, json.dumps(inbound("help"))), lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"},
                                              {"itemIdentifier": "m3"}]}
    assert list(environment.sms.opt_out_lists["promotional"]) == ["+14255550182"]
    assert "+14255550182" not in stream.getvalue()
    assert "+1425*****82" in stream.getvalue()


def test_a_refused_opt_in_is_not_a_batch_failure(environment, lambda_context):
    bodies = [json.dumps(inbound(name, inboundMessageId=f"{name}-{i}")) for i, name in
              enumerate(("stop", "start", "stop", "start"))]
    assert handler.lambda_handler(sqs_event(*bodies), lambda_context) == {"batchItemFailures": []}
    assert list(environment.sms.opt_out_lists["promotional"]) == ["+14255550182"]
    assert environment.sms.sent[-1]["MessageBody"] == "not yet"


# ------------------------------------------------------------------ the message archive (#15)
def calls_in_order() -> list[str]:
    order: list[str] = []
    due_aws.client("pinpoint-sms-voice-v2").meta.events.register(
        "before-call.pinpoint-sms-voice-v2.SendTextMessage", lambda **_: order.append("reply"))
    on_archive_calls(lambda: order.append("archive"))
    return order


def keywords() -> dict:
    return sqs_event(json.dumps(inbound("stop")), json.dumps(inbound("help", inboundMessageId="help-1")),
                     json.dumps(inbound("stop", messageBody="thanks", inboundMessageId="other-1")))


def test_each_reply_sent_is_archived_after_the_batch(environment, aws, lambda_context, monkeypatch):
    url = aws.client("sqs").create_queue(QueueName="archive")["QueueUrl"]
    monkeypatch.setenv("ARCHIVE_QUEUE_URL", url)
    order = calls_in_order()
    assert handler.lambda_handler(keywords(), lambda_context) == {"batchItemFailures": []}
    assert order == ["reply", "reply", "archive"]
    messages = [SentMessage.from_json(m["Body"]) for m in aws.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    sent = environment.sms.sent
    assert sorted((m.message_id, m.text) for m in messages) == sorted((s["MessageId"], s["MessageBody"])
                                                                       for s in sent)
    assert {(m.channel, m.recipient, m.origination, m.message_type) for m in messages} == {
        ("sms", s["DestinationPhoneNumber"], s["OriginationIdentity"], "TRANSACTIONAL") for s in sent}


def test_without_the_archive_nothing_is_queued(environment, lambda_context):
    order = calls_in_order()
    handler.lambda_handler(keywords(), lambda_context)
    assert order == ["reply", "reply"]


def test_an_archive_queue_that_fails_neither_fails_nor_repeats_a_reply(environment, lambda_context, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue")
    assert handler.lambda_handler(keywords(), lambda_context) == {"batchItemFailures": []}
    assert handler.lambda_handler(keywords(), lambda_context) == {"batchItemFailures": []}  # a redelivery
    assert [s["MessageBody"] for s in environment.sms.sent] == ["bye", "help"]


def test_a_reply_whose_archive_died_with_the_invocation_is_archived_by_the_redelivery(environment, aws, steps,
                                                                                     notifications):
    """Replied, then the invocation dies before its flush: the redelivery replies to nobody and archives the
    reply from its step, with the same message id and time (the same archive key)."""
    from tests.archive_doubles import RecordingArchiveSqs, archive_of
    from tests.unit.self_managed_opt_outs.conftest import processor, sms

    first = processor("EndUserMessaging", notifications[0], steps)
    first.archive = archive_of(RecordingArchiveSqs())
    first.handle(sms("stop"))  # ... never flushed
    again = processor("EndUserMessaging", notifications[0], steps)
    sqs = RecordingArchiveSqs()
    again.archive = archive_of(sqs)
    again.handle(sms("stop"))
    assert again.archive.flush() == 0
    ((message,),) = sqs.batches
    (sent,) = environment.sms.sent
    item = aws.client("dynamodb").get_item(TableName="processed",
                                          Key={"inbound_message_id": {"S": sms("stop").inbound_message_id}})["Item"]
    assert (message.message_id, message.text, message.sent_at) == (sent["MessageId"], sent["MessageBody"],
                                                                   item["reply_sent_at"]["S"])
