"""SMS S3 Drop: SQS calls per 10,000 rows, enqueue speed, memory for a 1,000,000-row file, send rate.

Prints measured figures (a benchmark, not a test):

* SQS calls per 10,000 rows (target: 1,000, i.e. 10 rows per SendMessageBatch);
* rows enqueued per second, reading the file from moto's S3 (in-process);
* peak memory the reader allocates while streaming a 1,000,000-row file
  (tracemalloc, the file itself already in the emulated S3; target: growth
  under 100 MB), and that every row was enqueued;
* the achieved send rate per origination identity against the configured
  rate, with the real clock (target: within 10% of it, never above in any one
  second), with two or more identities sent by several senders at once (threads
  standing for concurrent Lambda invocations, each sending any identity's rows:
  harder than production, where one identity's FIFO message group goes to one
  sender at a time), paced only by the shared rate limiter (due.rate_limit)
  through real boto3 clients answered by the End User Messaging fake and an
  in-memory DynamoDB whose conditional writes are made atomic, as DynamoDB's are.

The SQS client for the enqueue figures is an in-memory stand-in counting
calls (tests/unit/sms_s3_drop/conftest.py), so the figures are the reader's.

Usage: .venv/bin/python benchmarks/sms_s3_drop.py [--rows 1000000] [--rate 20] [--messages 100]
       [--identities 2] [--senders 4]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from benchmarks.measuring import CountingQueue  # noqa: E402
from due.dropped_file import Checkpoint  # noqa: E402
from due.rate_limit import RateLimiter  # noqa: E402
from due.row_queue import Enqueuer  # noqa: E402
from due.send_markers import SentMarkers, SetAside  # noqa: E402
from due.sms_s3_drop.requests import ROW_FORMAT, from_row  # noqa: E402
from due.sms_s3_drop.send import Sender  # noqa: E402
from due.sms_sending import EndUserMessagingSms  # noqa: E402
from due_local.dynamodb_fake import DynamoDbFake  # noqa: E402
from due_local.fakes import SmsVoiceV2Fake  # noqa: E402
from tests.unit.sms_s3_drop.conftest import RecordingQueue, csv_of  # noqa: E402


def enqueue(s3, key: str, queue) -> tuple[object, float]:
    started = time.perf_counter()
    checkpoint = Checkpoint("drop", key, None)
    while checkpoint is not None:
        checkpoint = Enqueuer(s3, queue, "q", ROW_FORMAT).run(checkpoint, lambda: False)
    return queue, time.perf_counter() - started


class AtomicWrites:
    """DynamoDB applies a conditional write atomically; the in-memory fake needs a lock for threads to see that."""

    def __init__(self, client):
        self._client, self._lock = client, threading.Lock()
        self.exceptions = client.exceptions

    def __getattr__(self, name):
        call = getattr(self._client, name)

        def locked(**kwargs):
            with self._lock:
                return call(**kwargs)
        return locked


def send_rates(rate: float, messages: int, identities: int, senders: int) -> dict[str, tuple[float, float, int]]:
    """Per identity: (achieved messages per second, shortest gap between two sends, most sends in any one second)."""
    session = boto3.Session(region_name="us-east-1")
    sms = SmsVoiceV2Fake().attach(session)
    DynamoDbFake().attach(session)
    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # the fakes answer everything; nothing leaves
    dynamodb = AtomicWrites(session.client("dynamodb"))
    for table, key in (("sent", "deduplication_id"), ("rates", "key")):
        dynamodb.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": key, "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    stamps: dict[str, list[float]] = {}

    class TimedChannel(EndUserMessagingSms):
        def send(self, to, origination, *message):
            stamps.setdefault(origination, []).append(time.monotonic())  # when the request is issued
            return super().send(to, origination, *message)

    origination_ids = [f"+1844555{index:04d}" for index in range(identities)]
    rows = iter([from_row("drop/f.csv@v", row, [f"+1425{row:07d}", "hi", "c", origination_ids[row % identities],
                                                "TRANSACTIONAL", "", ""])
                 for row in range(1, messages * identities + 1)])
    take = threading.Lock()

    def one_sender() -> None:
        # Each sender is its own Lambda execution environment: its own clients, the shared tables.
        sender = Sender(TimedChannel(session.client("pinpoint-sms-voice-v2")), SentMarkers(dynamodb, "sent"),
                        RateLimiter(dynamodb, "rates"), rate, SetAside(None, "unused"))
        while True:
            with take:
                request = next(rows, None)
            if request is None:
                return
            assert sender.send(request) == "sent"

    threads = [threading.Thread(target=one_sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    del os.environ["AWS_ENDPOINT_URL"]
    assert len(sms.sent) == messages * identities
    figures = {}
    for identity, times in stamps.items():
        times.sort()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        busiest = max(bisect.bisect_left(times, start + 1.0) - index for index, start in enumerate(times))
        figures[identity] = ((len(times) - 1) / (times[-1] - times[0]), min(gaps), busiest)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--messages", type=int, default=100, help="per origination identity")
    parser.add_argument("--identities", type=int, default=2)
    parser.add_argument("--senders", type=int, default=4)
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

    rates = send_rates(args.rate, args.messages, args.identities, args.senders)
    print(f"SQS calls per 10,000 rows:         {small.calls}   (target 1,000)")
    print(f"rows enqueued per second:          {200_000 / seconds:,.0f}   (200,000 rows in {seconds:.1f} s)")
    print(f"rows enqueued of {args.rows:,}:         {big.entries:,} (each once, in order)")
    print(f"reader's peak allocation:          {peak / 1e6:.1f} MB while streaming the file   (target < 100 MB)")
    print(f"send rate per origination identity at {args.rate:g}/s configured, {args.senders} senders at once "
          "(target: within 10%, never above in any one second):")
    for identity, (achieved, shortest_gap, busiest_second) in sorted(rates.items()):
        print(f"  {identity}: {achieved:.2f}/s achieved ({achieved / args.rate:.1%}); most in any one second "
              f"{busiest_second} (limit {args.rate:g}); shortest gap between two calls {shortest_gap * 1000:.2f} ms "
              f"(permits {1000 / args.rate:.2f} ms apart; a call follows its permit after the threads' scheduling "
              "delay)")


if __name__ == "__main__":
    main()
