"""SES Event Processing: throughput, AWS calls per notification, zip size, cold import time.

Prints measured figures (a benchmark, not a test):

* records/second through ``lambda_handler`` (SQS batches of 10) with every AWS
  call answered in memory by the fakes (SES v2, and the in-memory DynamoDB that
  a unit test holds to moto's results), through real boto3 clients; and the
  same with moto's DynamoDB, whose ~20 ms per UpdateItem dominates that figure;
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
import contextlib
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

from due_local import moto_gaps  # noqa: E402
from due_local.dynamodb_fake import DynamoDbFake  # noqa: E402
from due_local.fakes import Fakes  # noqa: E402
from due_local.lambda_runtime import LambdaContext, _clear_module_caches  # noqa: E402

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


def run_handler(bodies: list[str], dynamodb_in_memory: bool) -> tuple[float, collections.Counter, int, int]:
    """Returns (seconds, calls by operation, distinct suppressed addresses, failed records)."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                       "ADDRESS_TABLE_NAME": "addresses", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    # With every service answered by fakes, moto is not needed at all (its stubber would
    # still inspect each request); a dead local endpoint guarantees nothing leaves the machine.
    emulated = contextlib.nullcontext() if dynamodb_in_memory else contextlib.ExitStack()
    if not dynamodb_in_memory:
        emulated.enter_context(mock_aws())
        emulated.enter_context(moto_gaps.patched())
    if dynamodb_in_memory:
        os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    else:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    with emulated:
        boto3.setup_default_session(region_name="us-east-1")
        session = boto3.DEFAULT_SESSION
        fakes = Fakes.attached_to(session)
        if dynamodb_in_memory:
            DynamoDbFake().attach(session)
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
    elapsed, calls, suppressed, failed = run_handler(bodies, dynamodb_in_memory=True)
    moto_bodies = bodies[: max(len(bodies) // 10, 100)]
    moto_elapsed, _, _, _ = run_handler(moto_bodies, dynamodb_in_memory=False)
    per_thousand = {op: round(n * 1000 / len(bodies)) for op, n in sorted(calls.items())}
    ignored_bodies = [b for b in bodies if json.loads(b).get("eventType") in ("Delivery", "Open")]
    _, ignored_calls, _, _ = run_handler(ignored_bodies, dynamodb_in_memory=True)

    from scripts.build_zip import build

    zip_path, _ = build(REPO / "dist")
    print(f"notifications:                {len(bodies)} ({len(ignored_bodies)} deliveries/opens, 5% redelivered)")
    print(f"records/second (handler, fakes):      {len(bodies) / elapsed:,.0f}   (target >= 2,000)")
    print(f"records/second (handler, moto DynamoDB): {len(moto_bodies) / moto_elapsed:,.0f}   "
          f"(on {len(moto_bodies)}; ratio {elapsed / len(bodies) / (moto_elapsed / len(moto_bodies)):.2f})")
    print(f"failed records:               {failed}")
    print(f"AWS calls per 1,000:          {per_thousand}")
    print(f"suppression calls:            {calls['PutSuppressedDestination']} for {suppressed} distinct "
          f"suppressed addresses   (target: at most one each)")
    print(f"calls for {len(ignored_bodies)} deliveries/opens alone: {sum(ignored_calls.values())}   (target: 0)")
    print(f"zip size:                     {zip_path.stat().st_size / 1e6:.2f} MB")
    print(f"cold import of the handler:   {cold_import_ms(zip_path):.0f} ms (median of 7)   (target < 300 ms)")


if __name__ == "__main__":
    main()
