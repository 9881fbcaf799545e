"""The Pinpoint mode's Firehose transformation: every record back, only send events stamped and queued."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from due.message_archiver import pinpoint_transform
from due.message_archiver.pinpoint_send import ENDPOINT_PLACEHOLDER, LOCATION_FIELD, RECIPIENT_PLACEHOLDER

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "aws-examples" / "pinpoint_events"
BUCKET = "archive-bucket"


def example(name: str) -> dict:
    if not EXAMPLES.is_dir():
        pytest.skip(f"AWS example payloads not present at {EXAMPLES} (a clone without ../shared)")
    return json.loads((EXAMPLES / name).read_text())


def campaign_send(endpoint_id="endpoint-1", status="SUCCESS", timestamp=1764321300000, treatment="0") -> dict:
    return {"event_type": "_campaign.send", "event_timestamp": timestamp, "arrival_timestamp": timestamp + 50,
            "event_version": "3.1", "application": {"app_id": "app1", "sdk": {}},
            "client": {"client_id": endpoint_id}, "device": {"platform": {}}, "session": {},
            "attributes": {"treatment_id": treatment, "campaign_activity_id": "activity1", "campaign_id": "camp1",
                           "campaign_send_status": status},
            "client_context": {"custom": {"endpoint": json.dumps({"ChannelType": "EMAIL"})}},
            "awsAccountId": "123456789012"}


def journey_send(endpoint_id="endpoint-2") -> dict:
    return {"event_type": "_journey.send", "event_timestamp": 1764321360000, "arrival_timestamp": 1764321360000,
            "event_version": "3.1", "application": {"app_id": "app1", "sdk": {}},
            "client": {"client_id": endpoint_id}, "device": {"platform": {}}, "session": {},
            "attributes": {"journey_run_id": "run1", "journey_send_status": "SUCCESS", "journey_id": "journey1",
                           "journey_activity_id": "act1", "journey_activity_type": "EMAIL"},
            "awsAccountId": "123456789012"}


def firehose_event(*payloads) -> dict:
    records = []
    for n, payload in enumerate(payloads):
        data = payload if isinstance(payload, bytes) else (json.dumps(payload) + "\n").encode()
        records.append({"recordId": f"record-{n}", "approximateArrivalTimestamp": 1764321400000,
                        "data": base64.b64encode(data).decode()})
    return {"invocationId": "inv-1", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
            "region": "us-east-1", "records": records}


@pytest.fixture
def queue(aws) -> str:
    aws.client("s3").create_bucket(Bucket=BUCKET)  # where sends SQS does not take are kept
    return aws.client("sqs").create_queue(QueueName="render")["QueueUrl"]


def queued(aws, queue_url) -> list[dict]:
    sqs, bodies = aws.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(json.loads(m["Body"]) for m in messages)


def decoded(answer: dict) -> bytes:
    return base64.b64decode(answer["data"])


class RefusingQueue:
    """SQS as moto answers it, except that the entries whose body matches ``refuse`` fail ``times`` times."""

    def __init__(self, sqs, refuse, times=1_000, whole_call=False):
        self._sqs, self._refuse, self._left, self._whole_call = sqs, refuse, times, whole_call
        self.calls = []

    def send_message_batch(self, QueueUrl, Entries):
        self.calls.append([entry["Id"] for entry in Entries])
        if self._whole_call and self._left > 0:
            self._left -= 1
            raise ClientError({"Error": {"Code": "KMS.KMSThrottlingException", "Message": "slow"}},
                              "SendMessageBatch")
        refused = [e for e in Entries if self._left > 0 and self._refuse(json.loads(e["MessageBody"]))]
        if refused:
            self._left -= 1
        taken = [e for e in Entries if e not in refused]
        response = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=taken) if taken else {}
        return {"Successful": response.get("Successful", []), "Failed": [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in refused]}


def test_mixed_events_only_sends_that_went_out_are_stamped_and_queued(aws, queue):
    email_send = {"event_type": "_email.send", "event_timestamp": 1764321300000, "attributes": {},
                  "application": {"app_id": "app1"}, "client": {"client_id": "e9"}}
    payloads = [campaign_send(), email_send, journey_send(), b"not json at all\n",
                campaign_send(endpoint_id="quiet", status="QUIET_TIME"), b'["a list"]\n']
    event = firehose_event(*payloads)

    answer = pinpoint_transform.transform(event, aws.client("sqs"), queue, BUCKET, s3=aws.client("s3"),
                                          sleep=lambda _: None)

    records = answer["records"]
    assert [r["recordId"] for r in records] == [r["recordId"] for r in event["records"]]
    assert {r["result"] for r in records} == {"Ok"}
    for index in (1, 3, 4, 5):  # everything but the two sends comes back byte for byte
        assert records[index]["data"] == event["records"][index]["data"]
    stamped_campaign, stamped_journey = json.loads(decoded(records[0])), json.loads(decoded(records[2]))
    assert decoded(records[0]).endswith(b"\n")
    assert {k: v for k, v in stamped_campaign.items() if k != LOCATION_FIELD} == payloads[0]
    location = stamped_campaign[LOCATION_FIELD]
    assert location["bucket"] == BUCKET
    assert location["key"] == (f"archive/{RECIPIENT_PLACEHOLDER}/2025/11/28/09/"
                               f"campaign-activity1-{ENDPOINT_PLACEHOLDER}-1764321300000.eml")
    assert stamped_journey[LOCATION_FIELD]["key"] == (
        f"archive/{RECIPIENT_PLACEHOLDER}/2025/11/28/09/journey-run1-act1-{ENDPOINT_PLACEHOLDER}-1764321360000.eml")
    assert sorted(q["event_type"] for q in queued(aws, queue)) == ["_campaign.send", "_journey.send"]


def test_the_published_firehose_event_stamps_its_two_campaign_sends(aws, queue):
    event = example("firehose_event_message_archiver_aws_samples.json")

    records = pinpoint_transform.transform(event, aws.client("sqs"), queue, BUCKET, s3=aws.client("s3"))["records"]

    types = [json.loads(decoded(r))["event_type"] for r in records]
    assert types == ["_campaign.send", "_campaign.send", "_SMS.BUFFERED", "_SMS.BUFFERED"]
    assert [LOCATION_FIELD in json.loads(decoded(r)) for r in records] == [True, True, False, False]
    assert [r["data"] for r in records[2:]] == [r["data"] for r in event["records"][2:]]
    assert len(queued(aws, queue)) == 2


def test_sends_are_queued_ten_a_call(aws, queue):
    sqs = RefusingQueue(aws.client("sqs"), refuse=lambda body: False)
    event = firehose_event(*(campaign_send(endpoint_id=f"e{n}") for n in range(23)))

    records = pinpoint_transform.transform(event, sqs, queue, BUCKET, s3=aws.client("s3"))["records"]

    assert [len(call) for call in sqs.calls] == [10, 10, 3]
    assert {r["result"] for r in records} == {"Ok"}
    assert len(queued(aws, queue)) == 23


def test_an_entry_refused_once_is_sent_again(aws, queue):
    sqs = RefusingQueue(aws.client("sqs"), refuse=lambda body: body["client"]["client_id"] == "e2", times=1)
    event = firehose_event(*(campaign_send(endpoint_id=f"e{n}") for n in range(4)))

    records = pinpoint_transform.transform(event, sqs, queue, BUCKET, s3=aws.client("s3"),
                                           sleep=lambda _: None)["records"]

    assert {r["result"] for r in records} == {"Ok"}
    assert sqs.calls[1] == ["2"]  # only the refused entry again
    assert sorted(q["client"]["client_id"] for q in queued(aws, queue)) == ["e0", "e1", "e2", "e3"]


def kept(aws) -> list[dict]:
    s3 = aws.client("s3")
    objects = s3.list_objects_v2(Bucket=BUCKET, Prefix=pinpoint_transform.UNQUEUED_PREFIX).get("Contents", [])
    return [json.loads(line) for o in objects
            for line in s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().decode().splitlines()]


def test_a_send_never_queued_comes_back_ok_and_is_kept_in_the_bucket(aws, queue, caplog):
    sqs = RefusingQueue(aws.client("sqs"), refuse=lambda body: body["client"]["client_id"] == "e1")
    event = firehose_event(campaign_send(endpoint_id="e0"), campaign_send(endpoint_id="e1"), journey_send())

    with caplog.at_level(logging.ERROR):
        records = pinpoint_transform.transform(event, sqs, queue, BUCKET, s3=aws.client("s3"),
                                               sleep=lambda _: None)["records"]

    assert [r["result"] for r in records] == ["Ok", "Ok", "Ok"]
    assert LOCATION_FIELD in json.loads(decoded(records[1]))  # delivered stamped, as the others
    assert len(sqs.calls) == pinpoint_transform.QUEUE_ATTEMPTS  # the first call, then the refused entry again
    assert sorted(q["client"]["client_id"] for q in queued(aws, queue)) == ["e0", "endpoint-2"]
    assert [k["client"]["client_id"] for k in kept(aws)] == ["e1"]
    assert [k[LOCATION_FIELD]["bucket"] for k in kept(aws)] == [BUCKET]
    assert [r for r in caplog.records if r.levelno == logging.ERROR]  # what the stack's alarm counts


def test_when_sqs_takes_nothing_every_record_is_still_ok(aws, queue):
    """The review's case: an SQS hiccup must not take campaign sends out of the stream's own output."""
    sqs = RefusingQueue(aws.client("sqs"), refuse=lambda body: True, whole_call=True)
    email_open = {"event_type": "_email.open", "event_timestamp": 1764321300000, "attributes": {}}
    event = firehose_event(campaign_send(), journey_send(), email_open)

    records = pinpoint_transform.transform(event, sqs, queue, BUCKET, s3=aws.client("s3"),
                                           sleep=lambda _: None)["records"]

    assert [r["result"] for r in records] == ["Ok", "Ok", "Ok"]
    assert len(sqs.calls) == pinpoint_transform.QUEUE_ATTEMPTS
    assert sorted(k["event_type"] for k in kept(aws)) == ["_campaign.send", "_journey.send"]


def test_when_neither_sqs_nor_s3_takes_the_sends_the_invocation_fails_for_firehose_to_retry(aws, queue):
    sqs = RefusingQueue(aws.client("sqs"), refuse=lambda body: True, whole_call=True)
    aws.client("s3").delete_bucket(Bucket=BUCKET)

    with pytest.raises(ClientError):
        pinpoint_transform.transform(firehose_event(campaign_send()), sqs, queue, BUCKET, s3=aws.client("s3"),
                                     sleep=lambda _: None)


def test_a_send_event_without_its_endpoint_passes_through_unchanged_and_logged(aws, queue, caplog):
    broken = campaign_send()
    del broken["client"]
    event = firehose_event(broken, campaign_send())

    with caplog.at_level(logging.ERROR):
        records = pinpoint_transform.transform(event, aws.client("sqs"), queue, BUCKET,
                                               s3=aws.client("s3"))["records"]

    assert [r["result"] for r in records] == ["Ok", "Ok"]
    assert records[0]["data"] == event["records"][0]["data"]
    assert len(queued(aws, queue)) == 1
    assert [r for r in caplog.records if r.getMessage().startswith("send event not archivable")]


@pytest.mark.parametrize(("name", "message_id"), [
    ("campaign_send.json", f"campaign-5473285727f04865bc673e527example-{ENDPOINT_PLACEHOLDER}-1562109497426"),
    ("journey_send.json", f"journey-edc9a0b577164d1daf72ebd15example-0yKexample-{ENDPOINT_PLACEHOLDER}-"
                          "1572989078843"),
])
def test_the_published_send_events_are_stamped_from_their_own_fields(aws, queue, name, message_id):
    published = example(name)

    (record,) = pinpoint_transform.transform(firehose_event(published), aws.client("sqs"), queue, BUCKET,
                                             s3=aws.client("s3"))["records"]

    location = json.loads(decoded(record))[LOCATION_FIELD]
    hour = {"campaign_send.json": "2019/07/02/23", "journey_send.json": "2019/11/05/21"}[name]
    assert location == {"bucket": BUCKET, "key": f"archive/{RECIPIENT_PLACEHOLDER}/{hour}/{message_id}.eml",
                        "message_id": message_id, "recipient_folder": location["recipient_folder"],
                        "endpoint_digest": location["endpoint_digest"]}
    assert queued(aws, queue)[0]["client"] == published["client"]
