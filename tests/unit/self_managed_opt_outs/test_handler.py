import io
import json

import pytest

from due.self_managed_opt_outs import handler
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
