"""Reading a dropped file onto the FIFO queue: counts, bad-row report, retries, checkpoints."""

import itertools
import json

import pytest

from due.dropped_file import Checkpoint
from due.row_queue import Enqueuer, continuation
from due.sms_s3_drop.requests import ROW_FORMAT, SmsRequest
from tests.unit.sms_s3_drop.conftest import SAMPLE, RecordingQueue, csv_of


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket="drop")
    return client


def never_short():
    return False


def report(s3, key="incoming/f.csv") -> dict:
    return json.loads(s3.get_object(Bucket="drop", Key=f"{key}.report.json")["Body"].read())


def test_sample_file_good_rows_queued_bad_rows_reported(s3, aws):
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="send.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=SAMPLE)
    assert Enqueuer(s3, sqs, queue, ROW_FORMAT).run(Checkpoint("drop", "incoming/f.csv", None), never_short) is None
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    requests = [SmsRequest.from_json(m["Body"]) for m in messages]
    assert [r.row for r in requests] == [1, 2, 3, 7]
    assert requests[2].message == "Multi-line works too:\r\nline two, with a comma"
    # One message group per origination identity: each identity's rows in order, one batch at a time.
    assert [m["Attributes"]["MessageGroupId"] for m in messages] == [
        "+18445550100", "12345", "+18445550100", "+18445550100"]
    assert report(s3) == {
        "file": "s3://drop/incoming/f.csv", "version_id": None, "rows": 7, "enqueued": 4, "bad_row_count": 3,
        "bad_rows_truncated": False, "bad_rows": [
            {"row": 4, "reason": "sms_number is not an E.164 number (+ and 8 to 15 digits)"},
            {"row": 5, "reason": "message is empty"},
            {"row": 6, "reason": "expected 7 columns, found 3"}]}


def test_an_origination_arn_longer_than_a_group_id_is_grouped_by_its_digest():
    arn = "arn:aws:sms-voice:us-east-1:111122223333:pool/" + "p" * 100
    (request,) = [SmsRequest("f", 1, "+14255550101", "hi", "c", arn, "TRANSACTIONAL", "", "")]
    assert len(request.message_group_id) == 64 and request.message_group_id != request.deduplication_id


def test_a_windows_1252_file_is_refused_whole_and_nothing_is_queued(s3):
    """A spreadsheet's "CSV" in Windows-1252: the first rows are plain ASCII, row 3 has "José" as 0xE9."""
    rows = ["+14255550101,Hello Ana,c,+18445550100,TRANSACTIONAL,,",
            "+14255550102,Hello Bo,c,+18445550100,TRANSACTIONAL,,",
            "+14255550103,Hola José,c,+18445550100,TRANSACTIONAL,,"]
    body = ("sms_number,message,external_campaign_id,short_code,message_type,id_1,id_2\r\n"
            + "\r\n".join(rows) + "\r\n").encode("cp1252")
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=body)
    queue = RecordingQueue()
    assert Enqueuer(s3, queue, "q", ROW_FORMAT).run(Checkpoint("drop", "incoming/f.csv", None), never_short) is None
    assert queue.entries == []  # not the ASCII rows either: they would go twice once the file is fixed
    written = report(s3)
    assert (written["enqueued"], written["bad_row_count"]) == (0, 1)
    assert written["bad_rows"] == [{"row": 0, "reason": (
        f"the file is not UTF-8 at byte {body.index(b'Jos') + 3} (line 4): nothing was done with it; save it as UTF-8 "
        "(a spreadsheet's \"CSV UTF-8\") and drop it again")}]


def test_ten_rows_per_send_message_batch(s3):
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=csv_of(10_000))
    queue = RecordingQueue()
    Enqueuer(s3, queue, "q", ROW_FORMAT).run(Checkpoint("drop", "incoming/f.csv", None), never_short)
    assert (queue.calls, len(queue.entries)) == (1000, 10_000)


def test_entries_the_batch_refused_are_sent_again(s3):
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=csv_of(25))
    queue = RecordingQueue(refuse_once={"3", "17"})
    Enqueuer(s3, queue, "q", ROW_FORMAT).run(Checkpoint("drop", "incoming/f.csv", None), never_short)
    assert sorted(int(e["Id"]) for e in queue.entries) == list(range(1, 26))
    assert queue.calls == 3 + 2  # three batches, two of them needed a second call


def test_an_empty_file_or_a_wrong_header_is_reported(s3):
    s3.put_object(Bucket="drop", Key="incoming/empty.csv", Body=b"")
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=b"phone,text\n+14255550101,hi\n")
    for key in ("incoming/empty.csv", "incoming/f.csv"):
        assert Enqueuer(s3, RecordingQueue(), "q", ROW_FORMAT).run(Checkpoint("drop", key, None), never_short) is None
    assert report(s3, "incoming/empty.csv")["bad_rows"] == [{"row": 0, "reason": "the file is empty"}]
    assert report(s3)["bad_rows"][0]["reason"].startswith("the header must be sms_number,message,")


def test_a_million_rows_are_all_enqueued_across_checkpoints(s3):
    """Each invocation is told its time is short after 100,000 rows; the file continues from checkpoints."""
    rows = 1_000_000
    s3.put_object(Bucket="drop", Key="incoming/big.csv", Body=csv_of(rows))
    queue = RecordingQueue()
    batches = itertools.count(1)
    checkpoint, invocations = Checkpoint("drop", "incoming/big.csv", None), 0
    while checkpoint is not None:
        invocations += 1
        # JSON round trip: the continuation travels as an SQS message.
        checkpoint = Checkpoint.from_dict(json.loads(json.dumps(continuation(checkpoint)))["continuation"])
        checkpoint = Enqueuer(s3, queue, "q", ROW_FORMAT).run(checkpoint, lambda: next(batches) % 10_000 == 0)
    assert invocations == 11  # the tenth stop falls at the very end; the eleventh finds no rows and reports
    assert len(queue.entries) == rows
    assert [int(e["Id"]) for e in queue.entries] == list(range(1, rows + 1))  # each row once, in order
    assert len({e["MessageDeduplicationId"] for e in queue.entries}) == rows
    assert report(s3, "incoming/big.csv")["enqueued"] == rows


def test_the_report_lists_the_first_thousand_bad_rows_and_counts_them_all(s3):
    body = csv_of(3).decode() + "".join(f"not-a-number,m,c,12345,PROMOTIONAL,{i},\n" for i in range(1005))
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=body.encode())
    Enqueuer(s3, RecordingQueue(), "q", ROW_FORMAT).run(Checkpoint("drop", "incoming/f.csv", None), never_short)
    written = report(s3)
    assert (written["enqueued"], written["bad_row_count"], len(written["bad_rows"])) == (3, 1005, 1000)
    assert written["bad_rows_truncated"] is True
    assert written["bad_rows"][0]["row"] == 4
