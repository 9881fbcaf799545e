"""The SMS architectures deployed on the emulator: redelivery, continuation, dead letters."""

from __future__ import annotations

import json

import pytest

from due_local.flows import FLOWS
from scripts.deploy import deploy_local
from tests.unit.sms_s3_drop.conftest import csv_of

pytestmark = pytest.mark.integration


@pytest.fixture
def drop_stack(emulator, artifacts):
    stack = deploy_local(emulator, artifacts, "SMS_S3_drop", FLOWS["SMS_S3_drop"].prepare(emulator))
    emulator.complete_wiring(stack)
    return stack


def drop(emulator, stack, body: bytes, key: str = "incoming/f.csv") -> None:
    emulator.client("s3").put_object(Bucket=stack.outputs["DropBucketName"], Key=key, Body=body)


def test_a_redelivered_notification_sends_nothing_twice(emulator, drop_stack):
    sqs = emulator.client("sqs")
    drop_queue = sqs.get_queue_url(QueueName=drop_stack.physical("DropQueue").rsplit("/", 1)[1])["QueueUrl"]
    drop(emulator, drop_stack, csv_of(25))
    notification = sqs.receive_message(QueueUrl=drop_queue)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=drop_queue, ReceiptHandle=notification["ReceiptHandle"],
                                  VisibilityTimeout=0)
    emulator.pump(drop_stack)
    sqs.send_message(QueueUrl=drop_queue, MessageBody=notification["Body"])  # S3 delivers at least once
    emulator.pump(drop_stack)
    numbers = [m["DestinationPhoneNumber"] for m in emulator.fakes.sms.sent]
    assert len(numbers) == len(set(numbers)) == 25


def test_a_file_longer_than_an_invocation_continues_through_the_drop_queue(emulator, drop_stack, monkeypatch):
    # Every batch finds the invocation "short of time", so each invocation enqueues 10 rows and hands on.
    monkeypatch.setattr("due.row_queue_reader.STOP_WITH_MILLISECONDS_LEFT", 10**9)
    drop(emulator, drop_stack, csv_of(55))
    stats = emulator.pump(drop_stack)
    # 5 hand-overs and the last 5 rows, plus the s3:TestEvent S3 sends when the notification is set up
    assert stats[drop_stack.physical("ReaderFunction")].invocations == 7
    assert sorted(m["Context"]["id_1"] for m in emulator.fakes.sms.sent) == sorted(str(i) for i in range(55))
    report = json.loads(emulator.client("s3").get_object(
        Bucket=drop_stack.outputs["DropBucketName"], Key="incoming/f.csv.report.json")["Body"].read())
    assert (report["rows"], report["enqueued"], report["bad_row_count"]) == (55, 55, 0)


def test_a_row_the_service_refuses_is_set_aside_at_once_and_the_rest_are_sent(emulator, drop_stack):
    refused = "+14250000003"
    original = emulator.fakes.sms.send_text_message

    def refuse_one(DestinationPhoneNumber, **kwargs):
        if DestinationPhoneNumber == refused:
            from due_local.fakes import FakeError

            raise FakeError("ValidationException", "destination is not reachable")
        return original(DestinationPhoneNumber, **kwargs)

    emulator.fakes.sms.send_text_message = refuse_one
    drop(emulator, drop_stack, csv_of(12))
    stats = emulator.pump(drop_stack)
    sent = {m["DestinationPhoneNumber"] for m in emulator.fakes.sms.sent}
    assert len(sent) == 11 and refused not in sent
    # Set aside at once with the service's reason, not retried: the rows behind it in its identity's message
    # group went on, and none of them was received more than once.
    (dead,) = emulator.client("sqs").receive_message(QueueUrl=drop_stack.outputs["SendDeadLetterQueueUrl"],
                                                     MessageAttributeNames=["All"])["Messages"]
    assert json.loads(dead["Body"])["number"] == refused
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "ValidationException: destination is not reachable"
    assert stats[drop_stack.physical("SenderFunction")].failed_records == 0


def test_a_windows_1252_file_sends_nothing_and_the_report_says_why(emulator, drop_stack):
    body = ("sms_number,message,external_campaign_id,short_code,message_type,id_1,id_2\r\n"
            "+14255550101,Hello Ana,c,+18445550100,TRANSACTIONAL,,\r\n"
            "+14255550103,Hola José,c,+18445550100,TRANSACTIONAL,,\r\n").encode("cp1252")
    drop(emulator, drop_stack, body)
    emulator.pump(drop_stack)
    assert emulator.fakes.sms.sent == []
    report = json.loads(emulator.client("s3").get_object(
        Bucket=drop_stack.outputs["DropBucketName"], Key="incoming/f.csv.report.json")["Body"].read())
    assert report["bad_rows"][0]["reason"].startswith(f"the file is not UTF-8 at byte {body.index(b'Jos') + 3} ")
