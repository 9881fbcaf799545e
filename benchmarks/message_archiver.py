"""Message archiver: messages archived per second, and what archiving adds to a send.

Prints measured figures (a benchmark, not a test):

* messages archived per second by the writer (due.message_archiver.writer_handler, batches of 10 as the SQS
  event source mapping gives them) into a versioned bucket of moto's S3, in-process, and the same messages
  delivered again (every conditional put answered 412: nothing written);
* the latency archiving adds to a send, with the SMS S3 drop's sender (due.sms_s3_drop.send.Sender) sending
  batches of 10 rows with archiving off and on, alternately in one run: the time of each send (the call that
  sends the SMS; archiving only notes the message after it), and of each batch with its one archive flush
  (one SendMessageBatch to moto's SQS after the 10 sends: the invocation's added time, not the sends');
  compared as ratios (target: none on the send path).

End User Messaging is answered by the harness's fake; DynamoDB (the sender's markers and rate table), SQS, S3
and Secrets Manager by moto, in-process, so absolute figures are the machine's and moto's; the ratios are what
carries over. If benchmarks/message_archiver_pinpoint.py exists (Mode Pinpoint's figures), its main() runs
after these.

Usage: .venv/bin/python benchmarks/message_archiver.py [--messages 2000] [--batches 100]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                   "POWERTOOLS_LOG_LEVEL": "WARNING"})

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from due.archive import ArchiveQueue, SentMessage  # noqa: E402
from due.archiving import SentArchive  # noqa: E402
from due.message_archiver import writer_handler  # noqa: E402
from due.rate_limit import RateLimiter  # noqa: E402
from due.send_markers import SentMarkers, SetAside  # noqa: E402
from due.sms_s3_drop.requests import from_row  # noqa: E402
from due.sms_s3_drop.send import Sender  # noqa: E402
from due.sms_sending import EndUserMessagingSms  # noqa: E402
from due_local.fakes import SmsVoiceV2Fake  # noqa: E402
from due_local.lambda_runtime import LambdaContext, _clear_module_caches  # noqa: E402

BUCKET = "archive"
BATCH = 10  # the writer's and the sender's SQS batch size in the templates


def sent_messages(count: int) -> list[SentMessage]:
    return [SentMessage(channel="sms", recipient=f"+1425{n:07d}", message_id=f"message-{n:07d}",
                        sent_at=f"2026-11-28T{n % 24:02d}:{n % 60:02d}:00Z", campaign_id="winter",
                        origination="+18445550100", message_type="TRANSACTIONAL",
                        text=f"Your code is {n:06d}.") for n in range(count)]


def sqs_events(messages: list[SentMessage]) -> list[dict]:
    return [{"Records": [{"messageId": f"m-{start + i}", "receiptHandle": "r", "body": m.to_json(),
                          "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:archive", "awsRegion": "us-east-1"}
                         for i, m in enumerate(messages[start:start + BATCH])]}
            for start in range(0, len(messages), BATCH)]


def writer_rate(count: int) -> tuple[float, float]:
    """(messages archived a second, messages a second when every one is a redelivery)."""
    session = boto3.Session(region_name="us-east-1")
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    secret = session.client("secretsmanager").create_secret(Name="recipient-hmac", SecretString="k" * 64)["ARN"]
    os.environ.update({"ARCHIVE_BUCKET": BUCKET, "RECIPIENT_SECRET_ARN": secret})
    _clear_module_caches()
    events, context = sqs_events(sent_messages(count)), LambdaContext()
    rates = []
    for _ in range(2):  # the first pass writes, the second is all redeliveries
        started = time.perf_counter()
        for event in events:
            assert writer_handler.lambda_handler(event, context) == {"batchItemFailures": []}
        rates.append(count / (time.perf_counter() - started))
    versions = s3.list_object_versions(Bucket=BUCKET, MaxKeys=1000)
    assert len(versions["Versions"]) == min(count, 1000) and "DeleteMarkers" not in versions
    return rates[0], rates[1]


def send_latency(batches: int) -> dict[str, dict[str, list[float]]]:
    """Per mode ("off", "on"): seconds of each send, of each batch of 10 sends with its archive flush, and of the
    flush alone."""
    session = boto3.Session(region_name="us-east-1")
    SmsVoiceV2Fake().attach(session)
    dynamodb, sqs = session.client("dynamodb"), session.client("sqs")
    for table, key in (("sent", "deduplication_id"), ("rates", "key")):
        dynamodb.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": key, "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    queue_url = sqs.create_queue(QueueName="archive")["QueueUrl"]
    set_aside = SetAside(sqs, sqs.create_queue(QueueName="set-aside")["QueueUrl"])
    senders = {mode: Sender(EndUserMessagingSms(session.client("pinpoint-sms-voice-v2"), ""),
                            SentMarkers(dynamodb, "sent"), RateLimiter(dynamodb, "rates"), 10_000.0, set_aside,
                            SentArchive(ArchiveQueue(sqs, queue_url) if mode == "on" else None))
               for mode in ("off", "on")}
    figures = {mode: {"send": [], "batch": [], "flush": []} for mode in senders}
    row = 0
    for _ in range(batches):
        for mode, sender in senders.items():  # alternately, so drift in the machine's speed hits both alike
            batch_started = time.perf_counter()
            for _ in range(BATCH):
                row += 1
                request = from_row("drop/f.csv@v", row, [f"+1425{row:07d}", "Your code is 4471.", "c",
                                                         "+18445550100", "TRANSACTIONAL", "", ""])
                started = time.perf_counter()
                assert sender.send(request) == "sent"
                figures[mode]["send"].append(time.perf_counter() - started)
            flush_started = time.perf_counter()
            assert sender.archive.flush() == 0
            figures[mode]["flush"].append(time.perf_counter() - flush_started)
            figures[mode]["batch"].append(time.perf_counter() - batch_started)
        queued = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if len(queued) != BATCH:
            raise AssertionError("the archive did not get one message per send")
        # Taken off at once: moto's SQS slows with depth (shared/TOOLING.md).
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(queued)])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages the writer archives")
    parser.add_argument("--batches", type=int, default=100, help="batches of 10 sends in each mode")
    args = parser.parse_args()

    with mock_aws():
        written, redelivered = writer_rate(args.messages)
        latency = send_latency(args.batches)
    print(f"writer, messages archived per second:      {written:,.0f}   ({args.messages:,} messages, batches of "
          f"{BATCH}, moto S3 in-process)")
    print(f"writer, redeliveries per second:           {redelivered:,.0f}   (each put refused with 412; no version "
          "added)")
    median = {mode: {kind: statistics.median(values) for kind, values in kinds.items()}
              for mode, kinds in latency.items()}
    print(f"a send, archiving off -> on (median):      {median['off']['send'] * 1000:.3f} ms -> "
          f"{median['on']['send'] * 1000:.3f} ms   (ratio {median['on']['send'] / median['off']['send']:.2f}; "
          f"{args.batches * BATCH:,} sends each)")
    print(f"a batch of {BATCH} sends and its flush (median): {median['off']['batch'] * 1000:.2f} ms -> "
          f"{median['on']['batch'] * 1000:.2f} ms   (ratio {median['on']['batch'] / median['off']['batch']:.2f}: "
          "one SendMessageBatch after the sends)")
    print(f"the flush alone (median):                  {median['off']['flush'] * 1000:.3f} ms -> "
          f"{median['on']['flush'] * 1000:.2f} ms   (one SendMessageBatch of {BATCH} to moto's SQS, after the "
          "batch's last send)")

    pinpoint = REPO / "benchmarks" / "message_archiver_pinpoint.py"
    if pinpoint.exists():
        spec = importlib.util.spec_from_file_location("message_archiver_pinpoint", pinpoint)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.argv = [str(pinpoint)]
        module.main()


if __name__ == "__main__":
    main()
