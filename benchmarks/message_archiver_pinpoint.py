"""Message archiver, Pinpoint mode: content fetches per 1,000 messages of one campaign, messages rendered per second.

Prints measured figures (a benchmark, not a test):

* Pinpoint content reads (GetCampaign, GetCampaignVersion, Get*Template, GetJourney) per 1,000 messages of one
  campaign with two A/B treatments (three distinct contents: the campaign and two templates), for render-queue
  batch sizes of 10 (the SQS event source's default) and 100: the cache lives one invocation, so the target of
  1 read per distinct content is met per batch; GetEndpoint is one per message by nature (each message has its
  own recipient) and shown apart;
* messages re-rendered and archived per second through ``pinpoint_render_handler.process`` (Pinpoint fake and
  moto's S3 in-process: the figure includes the emulators' own cost), and substitutions rendered per second by
  ``render`` alone.

Usage: .venv/bin/python benchmarks/message_archiver_pinpoint.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # a log line per message would be measured too

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from due.archive import ArchiveWriter  # noqa: E402
from due.message_archiver import pinpoint_render_handler  # noqa: E402
from due.message_archiver.pinpoint_render import render  # noqa: E402
from due_local.fakes import Fakes  # noqa: E402

APP = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
BUCKET = "archive-benchmark"
SECRET = b"benchmark-secret"
CONTENT_READS = ("GetCampaign", "GetCampaignVersion", "GetEmailTemplate", "GetSmsTemplate", "GetPushTemplate",
                 "GetVoiceTemplate", "GetJourney")


def _campaign(pinpoint, fakes) -> str:
    fakes.pinpoint.segments[(APP, "segment")] = {"Id": "segment"}
    for name, subject in (("offer-a", "Offer A"), ("offer-b", "Offer B")):
        pinpoint.create_email_template(TemplateName=name, EmailTemplateRequest={
            "Subject": f"{subject} for {{{{User.UserAttributes.FirstName}}}}",
            "HtmlPart": "<p>Hi {{User.UserAttributes.FirstName}}, {{Attributes.Discount}} off in "
                        "{{Attributes.City}}</p>",
            "TextPart": "Hi {{User.UserAttributes.FirstName}}, {{Attributes.Discount}} off in {{Attributes.City}}",
            "DefaultSubstitutions": json.dumps({"Attributes.City": "your town"})})
    return pinpoint.create_campaign(ApplicationId=APP, WriteCampaignRequest={
        "Name": "benchmark", "SegmentId": "segment", "Schedule": {"StartTime": "IMMEDIATE"},
        "TemplateConfiguration": {"EmailTemplate": {"Name": "offer-a"}},
        "AdditionalTreatments": [{"SizePercent": 50,
                                  "TemplateConfiguration": {"EmailTemplate": {"Name": "offer-b"}}}]},
    )["CampaignResponse"]["Id"]


def _events(pinpoint, campaign_id: str, messages: int, sent_ms: int) -> list[dict]:
    events = []
    for n in range(messages):
        pinpoint.update_endpoint(ApplicationId=APP, EndpointId=f"e{n}", EndpointRequest={
            "ChannelType": "EMAIL", "Address": f"person{n}@example.com", "Attributes": {"Discount": ["20%"]},
            "User": {"UserAttributes": {"FirstName": [f"Name{n}"]}}})
        events.append({"event_type": "_campaign.send", "event_timestamp": sent_ms + n,
                       "application": {"app_id": APP, "sdk": {}}, "client": {"client_id": f"e{n}"},
                       "attributes": {"treatment_id": str(n % 2), "campaign_activity_id": "activity",
                                      "campaign_id": campaign_id, "campaign_send_status": "SUCCESS"}})
    return events


def _batches(events: list[dict], size: int):
    for start in range(0, len(events), size):
        yield {"Records": [{"messageId": f"m{start + n}", "receiptHandle": "r", "body": json.dumps(event),
                            "attributes": {}, "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:render"}
                           for n, event in enumerate(events[start:start + size])]}


def run(messages: int, batch_size: int) -> dict:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        fakes = Fakes.attached_to(session)
        pinpoint, s3 = session.client("pinpoint"), session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        campaign_id = _campaign(pinpoint, fakes)
        events = _events(pinpoint, campaign_id, messages, int(time.time() * 1000))
        writer = ArchiveWriter(s3, BUCKET, SECRET)
        fakes.pinpoint.calls.clear()
        failed = 0
        started = time.perf_counter()
        for batch in _batches(events, batch_size):
            failed += len(pinpoint_render_handler.process(batch, pinpoint, writer, APP, SECRET)["batchItemFailures"])
        seconds = time.perf_counter() - started
        content = sum(len(fakes.pinpoint.calls_of(operation)) for operation in CONTENT_READS)
        endpoints = len(fakes.pinpoint.calls_of("GetEndpoint"))
        stored = s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    return {"messages": messages, "batch_size": batch_size, "failed": failed, "content_reads": content,
            "endpoint_reads": endpoints, "seconds": seconds, "stored": stored}


def render_rate(substitutions: int = 100_000) -> float:
    endpoint = {"Address": "person@example.com", "Attributes": {"City": ["Lisbon"], "Discount": ["20%"]},
                "User": {"UserAttributes": {"FirstName": ["Ana"]}}}
    text = "Hi {{User.UserAttributes.FirstName}}, {{Attributes.Discount}} off in {{Attributes.City}} ({{Address}})"
    started = time.perf_counter()
    for _ in range(substitutions // 4):
        render(text, endpoint, {})
    return substitutions / (time.perf_counter() - started)


def main(messages: int = 1_000) -> None:
    distinct = 3  # the campaign (its one version) and the two treatments' templates
    print(f"Message archiver, Pinpoint mode: {messages:,} messages of one campaign with two A/B treatments, each "
          f"its own email template ({distinct} distinct contents: the campaign and two templates), re-rendered "
          "and archived:")
    for batch_size in (10, 100):
        result = run(messages, batch_size)
        per_thousand = result["content_reads"] * 1_000 / messages
        batches = -(-messages // batch_size)
        print(f"  render-queue batch of {batch_size:>3}: {per_thousand:,.0f} content reads per 1,000 messages "
              f"({result['content_reads']} for {batches} invocations: {result['content_reads'] / batches:.1f} per "
              f"invocation, target {distinct} = 1 per distinct content), {result['endpoint_reads']:,} GetEndpoint "
              f"(1 per message); {messages / result['seconds']:,.0f} messages rendered and archived per second "
              f"in-process; {result['stored']:,} objects stored, {result['failed']} failed")
    print(f"  render() alone: {render_rate():,.0f} substitutions per second")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000)
    main(**vars(parser.parse_args()))
