import base64
import json
import logging
from datetime import UTC, datetime

import pytest

from due.data_lake import transform_handler
from due_local import engagement_events as ev

NOW = 1_795_000_000_000


def firehose_event(payloads: list[bytes]) -> dict:
    return {
        "invocationId": "invocation-1",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/due-events",
        "region": "us-east-1",
        "records": [{"recordId": f"r{i}", "approximateArrivalTimestamp": NOW,
                     "data": base64.b64encode(p).decode()} for i, p in enumerate(payloads)],
    }


def decoded(record: dict) -> str:
    return base64.b64decode(record["data"]).decode("utf-8")


def test_every_record_comes_back_once_in_order_with_its_result(lambda_context):
    generated = [g.data() for g in ev.catalogue(NOW)]
    payloads = generated + ev.stream_test_events(NOW) + ev.malformed()
    event = firehose_event(payloads)
    answer = transform_handler.lambda_handler(event, lambda_context)
    assert [r["recordId"] for r in answer["records"]] == [r["recordId"] for r in event["records"]]
    results = [r["result"] for r in answer["records"]]
    assert results == ["Ok"] * len(generated) + ["Dropped"] + ["ProcessingFailed"] * len(ev.malformed())


@pytest.mark.parametrize("payload", ev.malformed(), ids=range(len(ev.malformed())))
def test_malformed_records_fail_with_their_original_bytes_so_the_error_prefix_keeps_them(payload):
    (record,) = firehose_event([payload])["records"]
    result = transform_handler.transform(record)
    assert result == {"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]}


def test_ok_records_are_one_json_line_with_the_event_date_as_partition_key():
    generated = ev.catalogue(NOW)[0]
    (record,) = firehose_event([generated.data()])["records"]
    result = transform_handler.transform(record)
    text = decoded(result)
    assert text.endswith("\n") and text.count("\n") == 1
    row = json.loads(text)
    assert row["event_type"] == "_email.send"
    assert row["arrival_timestamp"] == generated.payload["arrival_timestamp"]  # Pinpoint's, not Firehose's
    day = datetime.fromtimestamp(generated.payload["event_timestamp"] / 1000, tz=UTC).strftime("%Y-%m-%d")
    assert result["metadata"] == {"partitionKeys": {"dt": day}}


def test_names_with_accents_survive_as_utf8_not_escapes():
    event = ev.ses("Send", NOW, "m-1", ["José.Müller@example.com"], subject="Grüße, José: ¡ofertas! 🎉",
                   detail={"send": {}})
    (record,) = firehose_event([json.dumps(event, ensure_ascii=False).encode("utf-8")])["records"]
    text = decoded(transform_handler.transform(record))
    assert "Grüße, José: ¡ofertas! 🎉" in text
    assert "José.Müller@example.com" in text
    assert "\\u" not in text


def test_ascii_escaped_input_decodes_to_the_same_row():
    event = ev.ses("Send", NOW, "m-1", ["a@example.com"], subject="José", detail={"send": {}})
    escaped = json.dumps(event, ensure_ascii=True).encode()
    raw = json.dumps(event, ensure_ascii=False).encode()
    rows = [json.loads(decoded(transform_handler.transform(r))) for r in firehose_event([escaped, raw])["records"]]
    assert rows[0]["subject"] == rows[1]["subject"] == "José"


def test_the_reason_a_record_failed_is_logged_without_its_personal_data(caplog):
    payload = json.dumps({"to": "jane.doe@example.com", "note": "no event here"}).encode()
    (record,) = firehose_event([payload])["records"]
    with caplog.at_level(logging.WARNING):
        transform_handler.transform(record)
    (logged,) = [r for r in caplog.records if r.getMessage() == "record goes to the error prefix"]
    assert logged.record_id == record["recordId"]
    assert logged.reason == "neither a Pinpoint, an SES nor an End User Messaging SMS event"
