"""The shared file-to-queue pipeline with chunks of many rows (the SMS S3 drop's tests cover one row a message)."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass

import pytest

from due import aws as due_aws
from due.dropped_file import Checkpoint
from due.row_queue import MAX_BATCH_BYTES, SEGMENT_ROWS, Chunk, Enqueuer, RowFormat, continuation, requests_in
from due.send_markers import MaybeSent, SentMarkers, SetAside
from due_local.tables import create_table
from tests.unit.sms_s3_drop.conftest import RecordingQueue


@dataclass(frozen=True)
class Mail:
    file: str
    row: int
    address: str
    locale: str
    note: str = ""

    @property
    def message_group_id(self) -> str:
        return self.locale

    @property
    def deduplication_id(self) -> str:
        return hashlib.sha256(f"{self.file}\n{self.row}\n{self.address}".encode()).hexdigest()

    def to_json(self) -> str:
        return json.dumps(vars(self))


def check_header(header):
    if header != ["address", "locale", "note"]:
        raise ValueError("the header must be address,locale,note")


def parse(file, number, fields):
    if len(fields) != 3 or "@" not in fields[0]:
        return "address is not an email address"
    return Mail(file, number, *fields)


MAILS = RowFormat(check_header=check_header, parse=parse, chunk_size=50)


def csv_of(rows: int, locales=("en",), bad_every: int = 0, note: str = "") -> bytes:
    lines = ["address,locale,note"]
    for i in range(1, rows + 1):
        address = "not-an-address" if bad_every and i % bad_every == 0 else f"p{i}@example.com"
        lines.append(f"{address},{locales[i % len(locales)]},{note}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket="drop")
    return client


def messages(queue: RecordingQueue) -> list[list[dict]]:
    return [[m] if isinstance(m := json.loads(e["MessageBody"]), dict) else m for e in queue.entries]


def test_rows_travel_fifty_to_a_message_of_one_group(s3):
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=csv_of(1000, locales=("en", "fr")))
    queue = RecordingQueue()
    assert Enqueuer(s3, queue, "q", MAILS).run(Checkpoint("drop", "incoming/f.csv", None), lambda: False) is None
    chunks = messages(queue)
    assert len(chunks) == 20 and queue.calls == 2
    assert all(len(chunk) == 50 and len({m["locale"] for m in chunk}) == 1 for chunk in chunks)
    for entry, chunk in zip(queue.entries, chunks, strict=True):
        assert entry["MessageGroupId"] == chunk[0]["locale"]
    assert sorted(m["row"] for chunk in chunks for m in chunk) == list(range(1, 1001))
    report = json.loads(s3.get_object(Bucket="drop", Key="incoming/f.csv.report.json")["Body"].read())
    assert (report["enqueued"], report["queue_messages"], report["bad_row_count"]) == (1000, 20, 0)


def test_the_same_file_makes_the_same_chunks_however_invocations_stop(s3):
    """A reader that crashed after sending some chunks is retried from its checkpoint and stops at another
    place: every row still lands in a chunk with the same deduplication id, so markers recognise it."""
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=csv_of(5321, locales=("en", "fr", "de"), bad_every=7))
    whole = RecordingQueue()
    Enqueuer(s3, whole, "q", MAILS).run(Checkpoint("drop", "incoming/f.csv", None), lambda: False)
    for stop_every in (1, 2, 3):
        pieces, calls = RecordingQueue(), itertools.count(1)
        checkpoint, invocations = Checkpoint("drop", "incoming/f.csv", None), 0
        while checkpoint is not None:
            invocations += 1
            checkpoint = Checkpoint.from_dict(json.loads(json.dumps(continuation(checkpoint)))["continuation"])
            checkpoint = Enqueuer(s3, pieces, "q", MAILS).run(
                checkpoint, lambda calls=calls, every=stop_every: next(calls) % every == 0)
        assert invocations > 1
        assert sorted(e["MessageDeduplicationId"] for e in pieces.entries) == sorted(
            e["MessageDeduplicationId"] for e in whole.entries)
    report = json.loads(s3.get_object(Bucket="drop", Key="incoming/f.csv.report.json")["Body"].read())
    assert (report["enqueued"], report["bad_row_count"]) == (5321 - 5321 // 7, 5321 // 7)


def test_chunks_never_span_a_segment(s3):
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=csv_of(2 * SEGMENT_ROWS + 30, locales=("en", "fr", "de")))
    queue = RecordingQueue()
    Enqueuer(s3, queue, "q", MAILS).run(Checkpoint("drop", "incoming/f.csv", None), lambda: False)
    for chunk in messages(queue):
        assert len({(m["row"] - 1) // SEGMENT_ROWS for m in chunk}) == 1


def test_a_chunk_closes_before_a_message_would_pass_the_size_limit(s3):
    note = "x" * 20_000  # 50 of these would be 1 MB: a chunk holds 13, a batch what fits in 256 KiB
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=csv_of(100, note=note))
    queue = RecordingQueue()
    Enqueuer(s3, queue, "q", MAILS).run(Checkpoint("drop", "incoming/f.csv", None), lambda: False)
    sizes = [len(e["MessageBody"].encode()) for e in queue.entries]
    assert max(sizes) <= MAX_BATCH_BYTES and len(queue.entries) == 8
    assert sum(len(chunk) for chunk in messages(queue)) == 100
    assert queue.calls == 8  # one chunk fills a batch's bytes


def test_a_row_too_long_for_any_message_is_a_bad_row(s3):
    # 50,000 characters (csv's field limit is 131,072) that JSON writes as 6 bytes each: 300,000 bytes.
    s3.put_object(Bucket="drop", Key="incoming/f.csv", Body=csv_of(3, note="\u00e9" * 50_000))
    queue = RecordingQueue()
    Enqueuer(s3, queue, "q", MAILS).run(Checkpoint("drop", "incoming/f.csv", None), lambda: False)
    report = json.loads(s3.get_object(Bucket="drop", Key="incoming/f.csv.report.json")["Body"].read())
    assert queue.entries == [] and report["bad_row_count"] == 3
    assert report["bad_rows"][0]["reason"].startswith("the row is longer than one queue message holds")


def test_the_send_side_reads_one_request_or_a_chunk():
    mails = [Mail("f", i, f"p{i}@example.com", "en") for i in (1, 2)]
    assert requests_in(Chunk(tuple(mails)).to_json(), lambda d: Mail(**d)) == mails
    assert requests_in(Chunk(tuple(mails[:1])).to_json(), lambda d: Mail(**d)) == mails[:1]
    assert Chunk(tuple(mails[:1])).deduplication_id == mails[0].deduplication_id
    assert Chunk(tuple(mails)).deduplication_id not in {m.deduplication_id for m in mails}


def test_markers_keep_a_chunk_once_and_set_it_aside_when_unknown(aws):
    create_table(aws.client("dynamodb"), "sent", "deduplication_id")
    dead = aws.client("sqs").create_queue(QueueName="dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    markers = SentMarkers(due_aws.client("dynamodb"), "sent")
    chunk = Chunk(tuple(Mail("drop/f.csv@v", row, f"p{row}@example.com", "en") for row in (3, 4, 9)))
    assert markers.begin(chunk) is True
    item = aws.client("dynamodb").get_item(TableName="sent", Key={"deduplication_id": {"S": chunk.deduplication_id}})
    assert sorted(item["Item"]["rows"]["NS"], key=int) == ["3", "4", "9"]
    with pytest.raises(MaybeSent, match=r"^rows 3 to 9 \(3 rows\) of drop/f.csv@v: an earlier attempt may have "
                                        "sent them; not resending$") as unknown:
        markers.begin(chunk)
    SetAside(due_aws.client("sqs"), dead).put(chunk, str(unknown.value))
    (message,) = aws.client("sqs").receive_message(QueueUrl=dead, MessageAttributeNames=["All"])["Messages"]
    assert [m["row"] for m in json.loads(message["Body"])] == [3, 4, 9]
    markers.finish(chunk, "sent", "id-1")
    assert markers.begin(chunk) is False
