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


def test_fifo_queue_keeps_a_group_in_order_after_a_failure_and_lets_other_groups_go_on():
    seen = []

    def handler(record):
        seen.append(record["body"])
        fail_on("b")(record)

    event = sqs_event("a", "b", "c", "d", arn="arn:aws:sqs:us-east-1:1:q.fifo")
    for record, group in zip(event["Records"], ["g1", "g1", "g2", "g1"], strict=True):
        record["attributes"] = {"MessageGroupId": group}
    response = batch.process_sqs(event, handler)
    assert response == {"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "d"}]}
    assert seen == ["a", "b", "c"]  # d waits behind b, its group's failure; c is another group


def test_kinesis_reports_sequence_numbers_and_decodes_data():
    event = {"Records": [{"kinesis": {"sequenceNumber": s, "data": base64.b64encode(f"d{s}".encode()).decode()}}
                         for s in ("1", "2", "3")]}
    decoded = []

    def handler(record):
        decoded.append(batch.kinesis_data(record))
        fail_on("2")(record)

    assert batch.process_kinesis(event, handler) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert decoded == [b"d1", b"d2", b"d3"]
