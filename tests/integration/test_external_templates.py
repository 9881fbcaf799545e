"""External_Templates deployed on the emulator: content per campaign and locale, fetched once per version, a
campaign without content refused before anything is sent, the policies, a slow store, Pinpoint mode."""

from __future__ import annotations

import json
import time

import pytest

from due_local.flows import EXAMPLES, FLOWS
from due_local.lambda_runtime import CURRENT_FUNCTION
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration

NAME = "External_Templates"
CONTENT = EXAMPLES / "external_templates" / "content"


def deploy(emulator, artifacts, **given):
    stack = deploy_local(emulator, artifacts, NAME, {**FLOWS[NAME].prepare(emulator), **given})
    emulator.complete_wiring(stack)
    for path in sorted(CONTENT.rglob("*.json")):
        emulator.client("s3").put_object(Bucket=stack.outputs["ContentBucketName"],
                                         Key=f"content/{path.relative_to(CONTENT)}", Body=path.read_bytes())
    return stack


def audience(rows: int, locale: str = "en_US") -> bytes:
    lines = ["email,first_name,locale"] + [f"person{i}@example.com,P{i},{locale}" for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def drop(emulator, stack, body: bytes, key: str = "incoming/spring/list.csv") -> None:
    emulator.client("s3").put_object(Bucket=stack.outputs["AudienceBucketName"], Key=key, Body=body)


def subjects(emulator) -> dict[str, str]:
    return {m["To"][0]: m["Rendered"]["Subject"] for m in emulator.fakes.sesv2.sent_bulk}


def test_content_is_fetched_once_per_locale_however_many_chunks_carry_it(emulator, artifacts):
    import boto3

    stack = deploy(emulator, artifacts, ChunkSize="5")
    sender = stack.physical("SenderFunction")
    content_reads = []

    def count(params, **_kwargs):
        if params.get("Bucket") == stack.outputs["ContentBucketName"] and CURRENT_FUNCTION.get() == sender:
            content_reads.append(params["Key"])

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.s3.GetObject", count)
    try:
        drop(emulator, stack, audience(20, "es-MX") + audience(10, "en_US").split(b"\n", 1)[1])
        emulator.pump(stack)
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-parameter-build.s3.GetObject", count)
    assert len(subjects(emulator)) == 20  # the en_US rows repeat addresses 1-10: sent once each, in es_MX or en_US
    assert len(emulator.fakes.sesv2.calls_of("SendBulkEmail")) == 6  # 30 rows, chunks of 5 of one locale each
    # Six chunks in one warm sender: each locale's object read once.
    assert sorted(content_reads) == ["content/spring/en_US.json", "content/spring/es_MX.json"]


def test_a_campaign_without_content_is_refused_whole_and_announced(emulator, artifacts):
    from due_local.flows import listen

    stack = deploy(emulator, artifacts)
    heard = listen(emulator.client("sns"), emulator.client("sqs"), stack.outputs["NotificationsTopicArn"])
    drop(emulator, stack, audience(3), key="incoming/winter/list.csv")
    emulator.pump(stack)
    assert emulator.fakes.sesv2.sent_bulk == []
    (notice,) = heard()
    assert notice["outcome"] == "refused" and "campaign 'winter' has no content" in notice["reason"]
    assert emulator.client("sqs").receive_message(QueueUrl=stack.outputs["SendQueueUrl"]).get("Messages") is None


def test_a_slow_store_with_use_default_sends_the_default_campaigns_content(emulator, artifacts, monkeypatch):
    from due.send_time import content_store

    stack = deploy(emulator, artifacts, MissingDataPolicy="UseDefault", LookupBudgetMilliseconds="50")
    drop(emulator, stack, audience(2, "es_MX"))
    original = content_store.ContentStore.content_for
    slow = {"on": False}

    def maybe_slow(self, campaign, locale):
        if slow["on"] and campaign == "spring":
            time.sleep(0.5)
        return original(self, campaign, locale)

    monkeypatch.setattr(content_store.ContentStore, "content_for", maybe_slow)
    sqs = emulator.client("sqs")
    drop_queue = sqs.get_queue_url(QueueName=stack.physical("DropQueue").rsplit("/", 1)[1])["QueueUrl"]
    for source in emulator.event_sources(stack):  # the reader first, while the store is quick
        if source.queue_url == drop_queue:
            source.drain(emulator.runtime)
    slow["on"] = True
    emulator.pump(stack)
    assert set(subjects(emulator).values()) == {"News from us, P1", "News from us, P2"}


def test_with_skip_content_late_from_s3_fails_the_chunk_and_its_rows_are_sent_when_it_comes_back(
        emulator, artifacts, monkeypatch):
    from due.send_time import content_store

    stack = deploy(emulator, artifacts, MissingDataPolicy="Skip", LookupBudgetMilliseconds="50")
    drop(emulator, stack, audience(2, "es_MX"))
    sqs = emulator.client("sqs")
    drop_queue = sqs.get_queue_url(QueueName=stack.physical("DropQueue").rsplit("/", 1)[1])["QueueUrl"]
    for source in emulator.event_sources(stack):
        if source.queue_url == drop_queue:
            source.drain(emulator.runtime)
    original, slow = content_store.ContentStore.content_for, {"left": 1}

    def slow_once(self, campaign, locale):
        if slow["left"]:
            slow["left"] -= 1
            time.sleep(0.5)
        return original(self, campaign, locale)

    monkeypatch.setattr(content_store.ContentStore, "content_for", slow_once)
    emulator.pump(stack)
    assert sorted(a for m in emulator.fakes.sesv2.sent_bulk for a in m["To"]) == [
        "person1@example.com", "person2@example.com"]
    s3, bucket = emulator.client("s3"), stack.outputs["AudienceBucketName"]
    results = [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in s3.list_objects_v2(
        Bucket=bucket, Prefix="incoming/spring/list.csv.results/")["Contents"]]
    assert any("time budget" in r.get("error", "") for r in results)
    assert all(r["skipped"] == [] for r in results)


def test_pinpoint_mode_puts_each_endpoints_locale_content_in_its_attributes(emulator, artifacts):
    pinpoint = emulator.client("pinpoint")
    project = pinpoint.create_app(CreateApplicationRequest={"Name": "campaigns"})["ApplicationResponse"]["Id"]
    stack = deploy_local(emulator, artifacts, NAME, {"Mode": "Pinpoint", "PinpointApplicationId": project})
    for path in sorted(CONTENT.rglob("*.json")):
        emulator.client("s3").put_object(Bucket=stack.outputs["ContentBucketName"],
                                         Key=f"content/{path.relative_to(CONTENT)}", Body=path.read_bytes())
    hook = pinpoint.get_application_settings(ApplicationId=project)["ApplicationSettingsResource"]["CampaignHook"]
    assert hook == {"LambdaFunctionName": stack.outputs["HookFunctionArn"], "Mode": "FILTER"}
    event = json.loads((EXAMPLES / "external_templates" / "hook_event.json").read_text())
    answer = emulator.runtime.invoke(emulator.function_spec(stack, "HookFunction"), event)
    english, mexican = answer["endpoint-1"]["Attributes"], answer["endpoint-2"]["Attributes"]
    assert english["subject"] == ["Spring is here, {{first_name}}"]
    assert english["html"][0].startswith("<h1>Spring sale</h1>")  # HTML as stored
    assert mexican["subject"] == ["¡Ya es primavera, {{first_name}}!"] and mexican["Plan"] == ["gold"]
