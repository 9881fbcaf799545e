"""External attributes (#11) and external templates (#12): calls per 1,000 recipients, and the send rate.

Prints measured figures (a benchmark, not a test):

* store calls per 1,000 recipients, #11's DynamoDB lookup (target: one BatchGetItem per chunk, 20 at the
  default chunk of 50), through moto's DynamoDB;
* content fetches per 1,000 recipients of one campaign, #12's S3 lookup, recipients in two locales spread over
  all chunks (target: 1 per locale), through moto's S3, one warm sender;
* SendBulkEmail calls per 1,000 recipients (target: 1,000 divided by the chunk size), answered by the SES v2
  fake through a real boto3 client;
* the achieved send rate against the configured one, with the real clock and the shared rate limiter
  (due.rate_limit) on moto's DynamoDB, timed where SES receives each call (target: within 10% of it, never
  above); and, since one call's recipients arrive at once, the lowest level of a token bucket holding one
  second's recipients (target: never below 0) and the most recipients in any one second.

Chunks are sent one after another by one sender, as one FIFO message group is.

Usage: .venv/bin/python benchmarks/send_time_data.py [--recipients 1000] [--chunk 50] [--rate 100]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto import mock_aws  # noqa: E402

from due.rate_limit import RateLimiter  # noqa: E402
from due.send_time.attribute_store import AttributeStore  # noqa: E402
from due.send_time.consent import Consent  # noqa: E402
from due.send_time.content_store import ContentStore  # noqa: E402
from due.send_time.email_sender import Chunk, EmailSender, InlineContent, StoredTemplate  # noqa: E402
from due.send_time.lookup import MissingDataPolicy, Recipient  # noqa: E402
from due.send_time.markers import ChunkMarkers  # noqa: E402
from due.send_time.sending import pacer  # noqa: E402
from due.send_time.unsubscribe import ListUnsubscribe  # noqa: E402
from due_local.fakes import Fakes  # noqa: E402
from due_local.tables import create_table  # noqa: E402

FILE = "audience/incoming/spring/list.csv"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def counted(client, operation: str) -> list:
    """Every call of ``operation`` on ``client``, as a list of their parameters."""
    calls: list = []
    client.meta.events.register(f"before-parameter-build.*.{operation}",
                                lambda params, **_kwargs: calls.append(params))
    return calls


def chunks(recipients: list[Recipient], size: int, file: str) -> list[Chunk]:
    """The file's chunks (each file is a new send to the markers)."""
    return [Chunk(file, "spring", recipients[i:i + size]) for i in range(0, len(recipients), size)]


def people(count: int, locales: tuple[str, ...] = ("",)) -> list[Recipient]:
    return [Recipient(str(i), f"c-{i}", f"person{i}@example.com", locales[i % len(locales)],
                      {"email": f"person{i}@example.com", "first_name": f"P{i}"}) for i in range(1, count + 1)]


def sender(session, sesv2, lookup, content, *, pace=lambda n: None, per_second=50.0) -> EmailSender:
    return EmailSender(sesv2, lookup, content, ChunkMarkers(session.client("dynamodb"), "sent"),
                       Consent(session.client("sesv2")), ListUnsubscribe("https://example.com/u?who={address}"),
                       from_address="news@example.com", policy=MissingDataPolicy.SEND_WITHOUT, pace=pace,
                       emails_per_second=per_second)


def store_and_send_calls(session, recipients: int, chunk: int) -> tuple[int, int]:
    dynamodb = session.client("dynamodb")
    create_table(dynamodb, "offers", "id")
    for i in range(1, recipients + 1, 2):  # half the recipients have an offer
        dynamodb.put_item(TableName="offers", Item={"id": {"S": f"c-{i}"}, "Offer": {"S": f"offer {i}"}})
    store_client = session.client("dynamodb")
    batch_gets = counted(store_client, "BatchGetItem")
    sesv2 = session.client("sesv2", config=NO_RETRIES)
    sesv2.create_email_template(TemplateName="offer", TemplateContent={
        "Subject": "For {{first_name}}", "Html": "<p>{{Offer}}</p>", "Text": "{{Offer}}"})
    bulk = counted(sesv2, "SendBulkEmail")
    send = sender(session, sesv2, AttributeStore(store_client, "offers", "id", 5), StoredTemplate(sesv2, "offer"))
    for piece in chunks(people(recipients), chunk, f"{FILE}@offers"):
        send.send(piece)
    return len(batch_gets), len(bulk)


def content_fetches(session, recipients: int, chunk: int) -> tuple[int, int]:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="content")
    for locale, subject in (("en_US", "Spring"), ("es", "Primavera")):
        s3.put_object(Bucket="content", Key=f"content/spring/{locale}.json",
                      Body=json.dumps({"subject": subject, "html": "<p>{{first_name}}</p>"}).encode())
    store = ContentStore(session.client("s3"), "content", "content/", "en_US", 5)
    send = sender(session, session.client("sesv2", config=NO_RETRIES), store, InlineContent())
    for piece in chunks(people(recipients, ("en_US", "es-MX")), chunk, f"{FILE}@content"):
        send.send(piece)
    return store.fetches, store.requests


def send_rate(session, recipients: int, chunk: int, rate: float) -> dict:
    dynamodb = session.client("dynamodb")
    create_table(dynamodb, "rates", "key")
    sesv2 = session.client("sesv2", config=NO_RETRIES)
    calls: list[tuple[float, int]] = []  # when SES received each call (before-send), and its recipients
    sesv2.meta.events.register_first(
        "before-send.sesv2.SendBulkEmail",
        lambda request, **_kwargs: calls.append((time.monotonic(), json.loads(request.body)["BulkEmailEntries"])))
    send = sender(session, sesv2, AttributeStore(session.client("dynamodb"), "offers", "id", 5),
                  StoredTemplate(sesv2, "offer"), pace=pacer(RateLimiter(dynamodb, "rates"), rate), per_second=rate)
    for piece in chunks(people(recipients), chunk, f"{FILE}@rate"):
        send.send(piece)
    calls = [(t, len(entries)) for t, entries in calls]
    first, last = calls[0][0], calls[-1][0]
    # Recipients over the time from the first call to when the next permit comes due.
    achieved = recipients / (last - first + calls[-1][1] / rate)
    times = [t for t, _ in calls]
    busiest = max(sum(n for t, n in calls[i:bisect.bisect_left(times, times[i] + 1.0)])
                  for i in range(len(calls)))
    # SES counts recipients against the maximum send rate; how it measures is not documented. A token bucket
    # holding one second's worth (refilled at the rate) is the model checked here: its lowest level before a call.
    level, lowest, previous = rate, rate, first
    for at, n in calls:
        level = min(rate, level + (at - previous) * rate)
        lowest = min(lowest, level - n)
        level, previous = level - n, at
    return {"achieved": achieved, "busiest_second": busiest, "calls": len(calls), "call_size": send.call_size,
            "lowest_bucket": lowest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0, help="configured recipients a second")
    args = parser.parse_args()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        Fakes.attached_to(session)
        create_table(session.client("dynamodb"), "sent", "deduplication_id")
        lookups, bulk_calls = store_and_send_calls(session, args.recipients, args.chunk)
        fetched, requested = content_fetches(session, args.recipients, args.chunk)
        rate = send_rate(session, args.recipients, args.chunk, args.rate)
    per_thousand = 1000 / args.recipients
    print(f"recipients: {args.recipients}, chunk: {args.chunk}")
    print(f"#11 store calls (BatchGetItem) per 1,000 recipients: {lookups * per_thousand:.0f} "
          f"(target {1000 / args.chunk:.0f}: one per chunk)")
    print(f"#12 content fetches per 1,000 recipients of one campaign in 2 locales: {fetched * per_thousand:.0f} "
          f"(S3 requests {requested * per_thousand:.0f}, including the es_MX object that does not exist; target 2: "
          "1 per locale)")
    print(f"SendBulkEmail calls per 1,000 recipients: {bulk_calls * per_thousand:.0f} "
          f"(target {1000 / args.chunk:.0f})")
    print(f"send rate: configured {args.rate:.0f}/s, achieved {rate['achieved']:.1f}/s "
          f"({rate['achieved'] / args.rate:.0%}; target 90% to 100%); {rate['calls']} calls of up to "
          f"{rate['call_size']}; most recipients in any one second: {rate['busiest_second']}; a bucket of one "
          f"second's recipients refilled at the rate never ran dry: lowest level {rate['lowest_bucket']:.1f} "
          f"of {args.rate:.0f} after a call (target: 0 or more)")


if __name__ == "__main__":
    main()
