"""SES Event Processing: throughput, AWS calls per notification, zip size, cold import time.

Prints measured figures (a benchmark, not a test):

* records/second through ``lambda_handler`` (SQS batches of 10) with every AWS
  call answered in memory: the SES v2 fake and moto's DynamoDB, in-process;
* AWS calls per 1,000 notifications of a realistic mix, by operation, against
  the number of distinct addresses that had to be suppressed;
* the code zip's size and the handler module's cold import time (fresh
  interpreters, from the zip's contents, median of 7).

Targets (issue #2): >= 2,000 records/s; at most one suppression call per
suppressed address and none for ignored types; import < 300 ms.

Usage: .venv/bin/python benchmarks/ses_event_processing.py [--notifications 5000]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.harness import moto_gaps  # noqa: E402
from tests.harness.fakes import Fakes  # noqa: E402
from tests.harness.lambda_runtime import LambdaContext, _clear_module_caches  # noqa: E402

MIX = (("Permanent", 0.15), ("Complaint", 0.05), ("Transient", 0.10), ("Delivery", 0.45), ("Open", 0.25))


def notifications(count: int, seed: int = 7) -> list[str]:
    """A realistic mix; 5% are redeliveries of an earlier notification; addresses repeat."""
    rng = random.Random(seed)
    bodies: list[str] = []
    kinds, weights = zip(*MIX, strict=True)
    for i in range(count):
        if bodies and rng.random() < 0.05:
            bodies.append(rng.choice(bodies))
            continue
        kind = rng.choices(kinds, weights)[0]
        address = f"user{rng.randrange(count // 2)}@example.com"
        mail = {"messageId": f"m-{i}", "timestamp": f"2026-11-20T10:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
                "destination": [address], "source": "news@example.org"}
        if kind in ("Permanent", "Transient"):
            body = {"notificationType": "Bounce", "mail": mail, "bounce": {
                "bounceType": kind, "bounceSubType": "General", "feedbackId": f"f-{i}",
                "timestamp": mail["timestamp"], "bouncedRecipients": [{"emailAddress": address}]}}
        elif kind == "Complaint":
            body = {"eventType": "Complaint", "mail": mail, "complaint": {
                "feedbackId": f"f-{i}", "timestamp": mail["timestamp"],
                "complainedRecipients": [{"emailAddress": address}], "complaintFeedbackType": "abuse"}}
        else:
            body = {"eventType": kind, "mail": mail}
        bodies.append(json.dumps(body))
    return bodies


def sqs_batches(bodies: list[str], size: int = 10) -> list[dict]:
    return [{"Records": [{
        "messageId": f"msg-{start + i}", "receiptHandle": "rh", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "x",
                       "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
    } for i, body in enumerate(bodies[start:start + size])]} for start in range(0, len(bodies), size)]


def run_handler(bodies: list[str]) -> tuple[float, collections.Counter, int, int]:
    """Returns (seconds, calls by operation, distinct suppressed addresses, failed records)."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                       "ADDRESS_TABLE_NAME": "addresses", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    with mock_aws(), moto_gaps.patched():
        boto3.setup_default_session(region_name="us-east-1")
        session = boto3.DEFAULT_SESSION
        fakes = Fakes.attached_to(session)
        session.client("dynamodb").create_table(
            TableName="addresses", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}])
        calls: collections.Counter = collections.Counter()
        session.events.register("before-call", lambda model, **_: calls.update([model.name]))
        _clear_module_caches()
        from due.ses_event_processing import handler

        batches = sqs_batches(bodies)
        failed = 0
        started = time.perf_counter()
        for batch in batches:
            failed += len(handler.lambda_handler(batch, LambdaContext())["batchItemFailures"])
        elapsed = time.perf_counter() - started
        return elapsed, calls, len(fakes.sesv2.suppressed), failed


def cold_import_ms(zip_path: Path, runs: int = 7) -> float:
    with tempfile.TemporaryDirectory() as unpacked:
        zipfile.ZipFile(zip_path).extractall(unpacked)
        code = ("import time; t = time.perf_counter(); import due.ses_event_processing.handler; "
                "print((time.perf_counter() - t) * 1000)")
        times = []
        for _ in range(runs):
            output = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
                [sys.executable, "-c", code], cwd=unpacked, capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONPATH": unpacked, "PYTHONDONTWRITEBYTECODE": "1"},
            ).stdout
            times.append(float(output))
        return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=5000)
    args = parser.parse_args()

    bodies = notifications(args.notifications)
    elapsed, calls, suppressed, failed = run_handler(bodies)
    per_thousand = {op: round(n * 1000 / len(bodies)) for op, n in sorted(calls.items())}
    ignored = sum(1 for b in bodies if json.loads(b).get("eventType") in ("Delivery", "Open"))

    from scripts.build_zip import build

    zip_path, _ = build(REPO / "dist")
    print(f"notifications:                {len(bodies)} ({ignored} deliveries/opens, 5% redelivered)")
    print(f"records/second (handler):     {len(bodies) / elapsed:,.0f}   (target >= 2,000)")
    print(f"failed records:               {failed}")
    print(f"AWS calls per 1,000:          {per_thousand}")
    print(f"suppression calls:            {calls['PutSuppressedDestination']} for {suppressed} distinct "
          f"suppressed addresses   (target: at most one each)")
    print(f"calls for ignored types:      0 by construction of the count: "
          f"{sum(calls.values())} calls for {len(bodies) - ignored} bounce/complaint notifications")
    print(f"zip size:                     {zip_path.stat().st_size / 1e6:.2f} MB")
    print(f"cold import of the handler:   {cold_import_ms(zip_path):.0f} ms (median of 7)   (target < 300 ms)")


if __name__ == "__main__":
    main()
