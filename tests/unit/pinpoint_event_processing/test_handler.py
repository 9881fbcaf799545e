import base64
import json
from pathlib import Path

import pytest

from due.pinpoint_event_processing import handler

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "pinpoint_event_processing"


@pytest.fixture
def environment(address_table, fakes):
    return fakes


def kinesis_event(*payloads: bytes) -> dict:
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": str(100 + i),
                    "data": base64.b64encode(payload).decode(), "approximateArrivalTimestamp": 1.0},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-0:{100 + i}",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::1:role/r", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    } for i, payload in enumerate(payloads)]}


def sample(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def test_bounce_and_complaint_suppressed_open_ignored(environment, lambda_context):
    event = kinesis_event(sample("hardbounce.json"), sample("open.json"), sample("complaint.json"))
    assert handler.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert {a: e["Reason"] for a, e in environment.sesv2.suppressed.items()} == {
        "gone.away@example.com": "BOUNCE", "not.interested@example.net": "COMPLAINT"}


def test_malformed_record_reported_by_sequence_number(environment, lambda_context):
    broken = json.loads(sample("hardbounce.json"))
    del broken["facets"]
    event = kinesis_event(sample("complaint.json"), json.dumps(broken).encode(), b"\xff not json")
    assert handler.lambda_handler(event, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": "101"}, {"itemIdentifier": "102"}]}
    assert set(environment.sesv2.suppressed) == {"not.interested@example.net"}
