"""The harness runs our code where moto would start a Docker container: S3 notifications, SNS, Invoke."""

from __future__ import annotations

import io
import json
import os
import threading
import urllib.parse
import zipfile

import pytest

from due_local.event_sources import s3_event, sns_event
from due_local.lambda_runtime import FunctionSpec, LambdaRuntime, install_into_moto

received: list[dict] = []


def recording_handler(event, context):
    """A Lambda handler for these tests: records what it was given."""
    received.append(event)
    return {"seen": len(received), "remaining_ms": context.get_remaining_time_in_millis() > 0}


@pytest.fixture
def function_arn(aws):
    received.clear()
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("placeholder.py", "")
    function = aws.client("lambda").create_function(
        FunctionName="recorder", Runtime="python3.13", Role=role, Code={"ZipFile": code.getvalue()},
        Handler="tests.unit.test_harness_delivery.recording_handler", Environment={"Variables": {"X": "1"}})
    return function["FunctionArn"]


def test_direct_invoke_runs_our_handler(aws, function_arn):
    with install_into_moto(LambdaRuntime()):
        response = aws.client("lambda").invoke(FunctionName="recorder", Payload=json.dumps({"hello": "world"}))
    assert json.loads(response["Payload"].read()) == {"seen": 1, "remaining_ms": True}
    assert received == [{"hello": "world"}]


def test_s3_notification_runs_our_handler_with_the_key_url_encoded(aws, function_arn):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="drop")
    s3.put_bucket_notification_configuration(Bucket="drop", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}]})
    with install_into_moto(LambdaRuntime()):
        s3.put_object(Bucket="drop", Key="in/May file+1.csv", Body=b"a,b\n")
    (event,) = received
    delivered = event["Records"][0]["s3"]["object"]["key"]
    built = s3_event("drop", "in/May file+1.csv", 4)["Records"][0]["s3"]["object"]["key"]
    # S3 sends keys form-encoded (space as +) and leaves "/" alone; moto also encodes "/".
    assert built == "in/May+file%2B1.csv"
    assert urllib.parse.unquote_plus(delivered) == urllib.parse.unquote_plus(built) == "in/May file+1.csv"


def test_sns_subscription_runs_our_handler(aws, function_arn):
    sns = aws.client("sns")
    topic = sns.create_topic(Name="inbound")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
    with install_into_moto(LambdaRuntime()):
        sns.publish(TopicArn=topic, Message='{"messageBody": "STOP"}')
    (event,) = received
    record = event["Records"][0]
    built = sns_event(topic, '{"messageBody": "STOP"}')["Records"][0]
    assert record["Sns"]["Message"] == built["Sns"]["Message"]
    assert set(built["Sns"]) <= set(record["Sns"]) | {"Subject", "MessageAttributes"}


def test_handler_exception_is_a_function_error(aws, function_arn, monkeypatch):
    def boom(event, context):
        raise RuntimeError("broken")

    monkeypatch.setattr("tests.unit.test_harness_delivery.recording_handler", boom)
    with install_into_moto(LambdaRuntime()):
        response = aws.client("lambda").invoke(FunctionName="recorder", Payload=b"{}")
    assert response["FunctionError"] == "Handled"
    assert json.loads(response["Payload"].read())["errorMessage"] == "broken"


both_inside = threading.Barrier(2, timeout=10)


def environment_reading_handler(event, context):
    """Waits until the other function is inside its own call too, then reports what it sees."""
    both_inside.wait()
    return {"who": os.environ.get("WHO"), "mine_only": os.environ.get(f"ONLY_{event['name']}"),
            "other": os.environ.get(f"ONLY_{event['other']}")}


def test_functions_running_at_once_each_see_only_their_own_variables():
    """moto runs tasks in threads of its own: one function's variables must not leak into another call or
    into the process, and one call ending must not clear what another is reading."""
    runtime = LambdaRuntime()

    def spec(name):
        return FunctionSpec(name=name, handler="tests.unit.test_harness_delivery.environment_reading_handler",
                            environment={"WHO": name, f"ONLY_{name}": "yes"})

    seen: dict[str, dict] = {}
    threads = [threading.Thread(target=lambda n=n, o=o: seen.__setitem__(n, runtime.invoke(spec(n), {"name": n,
                                                                                              "other": o})))
               for n, o in (("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": {"who": "a", "mine_only": "yes", "other": None},
                    "b": {"who": "b", "mine_only": "yes", "other": None}}
    assert "WHO" not in os.environ and "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
