"""Connect as a Channel: achieved call rate, calls per recipient under redelivery, reader memory for 1,000,000 rows.

Prints measured figures (a benchmark, not a test):

* the achieved call rate against the configured one (target: within 10%, never above it in any one second),
  with several senders at once (threads standing for concurrent Lambda invocations), each its own Dialer over
  real boto3 clients answered by the Connect fake and moto's DynamoDB (conditional writes made atomic with a
  lock, as DynamoDB's are), with the real clock; calls last ``--call-seconds`` and end with their contact
  event (the slot released), so the concurrent-call limit is exercised too: the most calls in progress at once
  is printed against ``--limit``;
* calls per recipient when every queued call is delivered twice, the second time after the first call ended
  (target: exactly 1; Connect's client token alone would dial again then);
* the reader's peak allocation streaming a 1,000,000-row file in the SMS drop's format (tracemalloc; target
  under 100 MB), and that every row was queued once.

Usage: .venv/bin/python benchmarks/connect_channel.py [--rate 2] [--calls 30] [--senders 2] [--limit 10]
       [--call-seconds 1] [--recipients 200] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import bisect
import collections
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
from due.connect_channel.call_slots import CallSlots  # noqa: E402
from due.connect_channel.channels import ConnectCalls  # noqa: E402
from due.connect_channel.dialer import Dialer  # noqa: E402
from due.connect_channel.requests import ROW_FORMAT  # noqa: E402
from due.connect_channel.rules import CallRules  # noqa: E402
from due.dropped_file import Checkpoint  # noqa: E402
from due.rate_limit import RateLimiter  # noqa: E402
from due.row_queue import Enqueuer  # noqa: E402
from due.send_markers import SentMarkers, SetAside  # noqa: E402
from due_local.fakes import ConnectFake  # noqa: E402
from due_local.tables import create_table  # noqa: E402
from tests.unit.sms_s3_drop.conftest import csv_of  # noqa: E402

INSTANCE = "11111111-2222-3333-4444-555555555555"
PARSE = ROW_FORMAT.parser(["phone", "message"])


class AtomicWrites:
    """DynamoDB applies a conditional write atomically; moto's in-process backend needs a lock for threads."""

    def __init__(self, client, lock):
        self._client, self._lock = client, lock
        self.exceptions = client.exceptions

    def __getattr__(self, name):
        call = getattr(self._client, name)

        def locked(**kwargs):
            with self._lock:
                return call(**kwargs)
        return locked



def _dialer(session, dynamodb, rate: float, limit: int, lock) -> Dialer:
    slots = CallSlots(dynamodb, "pacing", f"calls-in-progress:{INSTANCE}", limit, 1800)
    channel = ConnectCalls(session.client("connect"), INSTANCE, "flow-1", queue_id="queue-1")
    return Dialer(channel, SentMarkers(dynamodb, "sent"), RateLimiter(dynamodb, "pacing"), f"connect:{INSTANCE}",
                  rate, SetAside(None, "unused"), CallRules(), None, slots, slot_wait_seconds=120)


def _tables(session, lock) -> AtomicWrites:
    dynamodb = AtomicWrites(session.client("dynamodb"), lock)
    create_table(session.client("dynamodb"), "sent", "deduplication_id")
    create_table(session.client("dynamodb"), "pacing", "key")
    return dynamodb


def call_rate(rate: float, calls: int, senders: int, limit: int, call_seconds: float):
    """(achieved calls per second, most in any one second, most in progress at once)."""
    lock = threading.Lock()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        connect = ConnectFake().attach(session)
        dynamodb = _tables(session, lock)
        stamps: list[float] = []
        started: dict[str, float] = {}
        peak = [0]
        done = threading.Event()

        def hang_up() -> None:  # Connect ends each call after call_seconds; its contact event frees the slot
            slots = CallSlots(dynamodb, "pacing", f"calls-in-progress:{INSTANCE}")
            while not done.is_set() or connect.active:
                with lock:
                    peak[0] = max(peak[0], len(connect.active))
                    ending = [c for c, at in started.items() if c in connect.active and time.monotonic() - at
                              >= call_seconds]
                    for contact_id in ending:
                        connect.disconnect(contact_id)
                for contact_id in ending:
                    slots.release(contact_id)
                time.sleep(0.02)

        original = connect.start_outbound_voice_contact

        def timed(**kwargs):
            stamps.append(time.monotonic())  # when the request is issued
            answer = original(**kwargs)
            started[answer["ContactId"]] = time.monotonic()
            return answer

        connect.start_outbound_voice_contact = timed
        queue = iter([PARSE("f@v", i, [f"+1425555{i:04d}", "hi"]) for i in range(1, calls + 1)])
        take = threading.Lock()

        def one_sender() -> None:
            dialer = _dialer(session, dynamodb, rate, limit, lock)
            while True:
                with take:
                    request = next(queue, None)
                if request is None:
                    return
                assert dialer.call(request).outcome.outcome == "called"

        threads = [threading.Thread(target=one_sender) for _ in range(senders)]
        hanger = threading.Thread(target=hang_up)
        hanger.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        hanger.join()
        assert len(connect.fast_busy) == 0
    stamps.sort()
    busiest = max(bisect.bisect_left(stamps, start + 1.0) - index for index, start in enumerate(stamps))
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), busiest, peak[0]


def calls_per_recipient(recipients: int) -> collections.Counter:
    lock = threading.Lock()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        connect = ConnectFake().attach(session)
        dynamodb = _tables(session, lock)
        dialer = _dialer(session, dynamodb, 1000, 10, lock)
        requests = [PARSE("f@v", i, [f"+1425555{i:04d}", "hi"]) for i in range(1, recipients + 1)]
        for request in requests:
            first = dialer.call(request)
            connect.disconnect(first.outcome.call_id)  # the call ended: its token would start a new one now
            CallSlots(dynamodb, "pacing", f"calls-in-progress:{INSTANCE}").release(first.outcome.call_id)
            assert dialer.call(request).outcome is None  # the redelivery
        return collections.Counter(collections.Counter(c["DestinationPhoneNumber"] for c in connect.contacts).values())


def reader_memory(rows: int) -> tuple[float, int]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="drop")
        s3.put_object(Bucket="drop", Key="incoming/big.csv", Body=csv_of(rows))
        queue = CountingQueue()
        tracemalloc.start()
        checkpoint = Checkpoint("drop", "incoming/big.csv", None)
        while checkpoint is not None:
            checkpoint = Enqueuer(s3, queue, "q", ROW_FORMAT).run(checkpoint, lambda: False)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 1e6, queue.entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--call-seconds", type=float, default=1.0)
    parser.add_argument("--recipients", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    achieved, busiest, in_progress = call_rate(args.rate, args.calls, args.senders, args.limit, args.call_seconds)
    print(f"call rate at {args.rate:g}/s configured, {args.senders} senders, {args.calls} calls of "
          f"{args.call_seconds:g} s: {achieved:.2f}/s achieved ({achieved / args.rate:.1%}); most started in any "
          f"one second {busiest} (StartOutboundVoiceContact's default quota: 2 a second, bursts of 5; permits "
          f"{1000 / args.rate:.0f} ms apart); most in progress at once {in_progress} (limit {args.limit})")
    spread = calls_per_recipient(args.recipients)
    counts = ", ".join(f"{n} call(s): {k} recipients" for n, k in sorted(spread.items()))
    print(f"calls per recipient, each queued call delivered twice (the second after the first call ended), "
          f"{args.recipients} recipients: {counts}   (target: every recipient exactly 1)")
    peak, entries = reader_memory(args.rows)
    print(f"reader's peak allocation for a {args.rows:,}-row file: {peak:.1f} MB   (target < 100 MB); "
          f"rows queued {entries:,} (each once, in order)")


if __name__ == "__main__":
    main()
