"""SMS S3 Drop: SQS calls per 10,000 rows, enqueue speed, memory for a 1,000,000-row file, send rate.

Prints measured figures (a benchmark, not a test):

* SQS calls per 10,000 rows (target: 1,000, i.e. 10 rows per SendMessageBatch);
* rows enqueued per second, reading the file from moto's S3 (in-process);
* peak memory the reader allocates while streaming a 1,000,000-row file
  (tracemalloc, the file itself already in the emulated S3; target: growth
  under 100 MB), and that every row was enqueued;
* the achieved send rate of the sender against the configured rate, with the
  real clock (target: within 10% of it, never above), through real boto3
  clients answered by the End User Messaging fake and an in-memory DynamoDB.

The SQS client for the enqueue figures is an in-memory stand-in counting
calls (tests/unit/sms_s3_drop/conftest.py), so the figures are the reader's.

Usage: .venv/bin/python benchmarks/sms_s3_drop.py [--rows 1000000] [--rate 20] [--messages 100]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from due.sms_s3_drop.enqueue import Checkpoint, Enqueuer  # noqa: E402
from due.sms_s3_drop.rate import RateLimiter  # noqa: E402
from due.sms_s3_drop.requests import from_row  # noqa: E402
from due.sms_s3_drop.send import Sender, SentMarkers  # noqa: E402
from due.sms_sending import EndUserMessagingSms  # noqa: E402
from due_local.dynamodb_fake import DynamoDbFake  # noqa: E402
from due_local.fakes import SmsVoiceV2Fake  # noqa: E402
from tests.unit.sms_s3_drop.conftest import RecordingQueue, csv_of  # noqa: E402


class CountingQueue:
    """Counts entries and checks each row arrives once, in order, without keeping them (memory is measured)."""

    def __init__(self):
        self.calls = self.entries = 0

    def send_message_batch(self, QueueUrl, Entries):
        self.calls += 1
        for entry in Entries:
            self.entries += 1
            assert int(entry["Id"]) == self.entries, "a row was skipped or repeated"
        return {"Successful": [], "Failed": []}


def enqueue(s3, key: str, queue) -> tuple[object, float]:
    started = time.perf_counter()
    checkpoint = Checkpoint("drop", key, None)
    while checkpoint is not None:
        checkpoint = Enqueuer(s3, queue, "q").run(checkpoint, lambda: False)
    return queue, time.perf_counter() - started


def send_rate(rate: float, messages: int) -> tuple[float, float, int]:
    """(achieved messages per second, shortest gap between two sends, most sends in any one second)."""
    session = boto3.Session(region_name="us-east-1")
    sms = SmsVoiceV2Fake().attach(session)
    DynamoDbFake().attach(session)
    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # the fakes answer everything; nothing leaves
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(TableName="sent", AttributeDefinitions=[{"AttributeName": "deduplication_id",
                                                                   "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "deduplication_id", "KeyType": "HASH"}],
                          BillingMode="PAY_PER_REQUEST")
    stamps = []

    class TimedChannel(EndUserMessagingSms):
        def send(self, *message):
            stamps.append(time.monotonic())  # when the request is issued: what the service counts
            return super().send(*message)

    sender = Sender(TimedChannel(session.client("pinpoint-sms-voice-v2")), SentMarkers(dynamodb, "sent"),
                    RateLimiter(rate))
    for row in range(1, messages + 1):
        request = from_row("drop/f.csv@v", row, [f"+1425{row:07d}", "hi", "c", "+18445550100", "TRANSACTIONAL",
                                                 "", ""])
        sender.send(request)
    del os.environ["AWS_ENDPOINT_URL"]
    assert len(sms.sent) == messages
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    busiest_second = max(bisect.bisect_left(stamps, start + 1.0) - index for index, start in enumerate(stamps))
    return (messages - 1) / (stamps[-1] - stamps[0]), min(gaps), busiest_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="drop")
        s3.put_object(Bucket="drop", Key="incoming/ten-thousand.csv", Body=csv_of(10_000))
        small, _ = enqueue(s3, "incoming/ten-thousand.csv", RecordingQueue())

        s3.put_object(Bucket="drop", Key="incoming/speed.csv", Body=csv_of(200_000))
        _, seconds = enqueue(s3, "incoming/speed.csv", CountingQueue())
        s3.put_object(Bucket="drop", Key="incoming/big.csv", Body=csv_of(args.rows))
        tracemalloc.start()  # (it slows the reader down; speed was measured without it)
        big, _ = enqueue(s3, "incoming/big.csv", CountingQueue())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    achieved, shortest_gap, busiest_second = send_rate(args.rate, args.messages)
    print(f"SQS calls per 10,000 rows:         {small.calls}   (target 1,000)")
    print(f"rows enqueued per second:          {200_000 / seconds:,.0f}   (200,000 rows in {seconds:.1f} s)")
    print(f"rows enqueued of {args.rows:,}:         {big.entries:,} (each once, in order)")
    print(f"reader's peak allocation:          {peak / 1e6:.1f} MB while streaming the file   (target < 100 MB)")
    print(f"send rate at {args.rate:g}/s configured:     {achieved:.2f}/s achieved "
          f"({achieved / args.rate:.1%}); most in any one second {busiest_second} (limit {args.rate:g}); "
          f"shortest gap {shortest_gap * 1000:.2f} ms (limit {1000 / args.rate:.2f} ms)   "
          f"(target: within 10%, never above)")


if __name__ == "__main__":
    main()
