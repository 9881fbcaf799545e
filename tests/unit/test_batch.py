import base64
import logging

from due import batch


def sqs_event(*ids: str, arn: str = "arn:aws:sqs:us-east-1:123456789012:q") -> dict:
    return {"Records": [{"messageId": i, "body": i, "eventSourceARN": arn} for i in ids]}


def fail_on(*bad: str):
    def handler(record):
        if record.get("body") in bad or record.get("kinesis", {}).get("sequenceNumber") in bad:
            raise ValueError(f"bad record {record.get('body')}")
    return handler


def test_standard_queue_reports_only_the_failed_records(caplog):
    with caplog.at_level(logging.ERROR):
        response = batch.process_sqs(sqs_event("a", "b", "c", "d"), fail_on("b", "d"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "d"}]}
    assert [r.record_id for r in caplog.records if r.getMessage() == "record failed"] == ["b", "d"]


def test_all_succeeding_is_an_empty_failure_list():
    assert batch.process_sqs(sqs_event("a", "b"), fail_on()) == {"batchItemFailures": []}
    assert batch.process_sqs({"Records": []}, fail_on()) == {"batchItemFailures": []}


def test_fifo_queue_stops_at_the_first_failure_so_nothing_overtakes_it():
    seen = []

    def handler(record):
        seen.append(record["body"])
        fail_on("b")(record)

    response = batch.process_sqs(sqs_event("a", "b", "c", arn="arn:aws:sqs:us-east-1:1:q.fifo"), handler)
    assert response == {"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}
    assert seen == ["a", "b"]


def test_kinesis_reports_sequence_numbers_and_decodes_data():
    event = {"Records": [{"kinesis": {"sequenceNumber": s, "data": base64.b64encode(f"d{s}".encode()).decode()}}
                         for s in ("1", "2", "3")]}
    decoded = []

    def handler(record):
        decoded.append(batch.kinesis_data(record))
        fail_on("2")(record)

    assert batch.process_kinesis(event, handler) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert decoded == [b"d1", b"d2", b"d3"]
