"""The Pinpoint mode's renderer against the Pinpoint fake: each channel's MIME, the right treatment and versions,
missing content failing its record (and so, after retries, the DLQ), partial batches, content read once."""

from __future__ import annotations

import email
import email.policy
import json
import logging
from pathlib import Path

import pytest

from due.archive import ArchiveWriter, recipient_folder
from due.message_archiver import pinpoint_render_handler
from due.message_archiver.pinpoint_render import PinpointContent, render
from due.message_archiver.pinpoint_send import ENDPOINT_PLACEHOLDER, LOCATION_FIELD, RECIPIENT_PLACEHOLDER, parse

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "aws-examples" / "pinpoint_events"
APP = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
BUCKET = "archive-bucket"
SECRET = b"an-archive-secret-for-tests"
SENT_MS = 1764321300000  # 2025-11-28T09:15:00Z


@pytest.fixture
def pinpoint(aws, fakes):
    aws.client("s3").create_bucket(Bucket=BUCKET)
    fakes.pinpoint.segments[(APP, "segment1")] = {"Id": "segment1"}
    return aws.client("pinpoint")


@pytest.fixture
def writer(aws) -> ArchiveWriter:
    return ArchiveWriter(aws.client("s3"), BUCKET, SECRET)


def endpoint(pinpoint, endpoint_id, channel, address, attributes=None, user_attributes=None):
    pinpoint.update_endpoint(ApplicationId=APP, EndpointId=endpoint_id, EndpointRequest={
        "ChannelType": channel, "Address": address, "Attributes": attributes or {},
        "User": {"UserId": f"user-{endpoint_id}", "UserAttributes": user_attributes or {}}})


def campaign(pinpoint, **settings) -> str:
    return pinpoint.create_campaign(ApplicationId=APP, WriteCampaignRequest={
        "Name": "winter", "SegmentId": "segment1", "Schedule": {"StartTime": "IMMEDIATE"}, **settings,
    })["CampaignResponse"]["Id"]


def campaign_send(campaign_id, endpoint_id, treatment="0", snapshot=None, timestamp=SENT_MS) -> dict:
    event = {"event_type": "_campaign.send", "event_timestamp": timestamp, "arrival_timestamp": timestamp + 68,
             "event_version": "3.1", "application": {"app_id": APP, "sdk": {}}, "client": {"client_id": endpoint_id},
             "device": {"platform": {}}, "session": {},
             "attributes": {"treatment_id": treatment, "campaign_activity_id": "activity1",
                            "campaign_id": campaign_id, "campaign_send_status": "SUCCESS"},
             "awsAccountId": "123456789012"}
    if snapshot is not None:
        event["client_context"] = {"custom": {"endpoint": json.dumps(snapshot)}}
    return event


def journey_send(journey_id, activity_id, endpoint_id) -> dict:
    return {"event_type": "_journey.send", "event_timestamp": SENT_MS, "arrival_timestamp": SENT_MS,
            "event_version": "3.1", "application": {"app_id": APP, "sdk": {}}, "client": {"client_id": endpoint_id},
            "device": {"platform": {}}, "session": {},
            "attributes": {"journey_run_id": "run1", "journey_send_status": "SUCCESS", "journey_id": journey_id,
                           "journey_activity_id": activity_id, "journey_activity_type": "EMAIL"},
            "awsAccountId": "123456789012"}


def sqs_event(*events) -> dict:
    return {"Records": [{"messageId": f"msg-{n}", "receiptHandle": f"rh-{n}", "body": json.dumps(event),
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                         "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:render",
                         "awsRegion": "us-east-1"} for n, event in enumerate(events)]}


def archived(aws, channel, address) -> list[email.message.EmailMessage]:
    s3 = aws.client("s3")
    prefix = f"archive/{recipient_folder(SECRET, channel, address)}/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return [email.message_from_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read(),
                                     policy=email.policy.default) for key in keys]


def the_one(aws, channel, address) -> email.message.EmailMessage:
    messages = archived(aws, channel, address)
    assert len(messages) == 1
    return messages[0]


def body(message, subtype="plain") -> str:
    return message.get_body(preferencelist=(subtype,)).get_content().rstrip("\r\n")


def failure_reasons(caplog) -> list[str]:
    return [r.error for r in caplog.records if r.getMessage() == "record failed"]


def process(pinpoint, writer, *events):
    return pinpoint_render_handler.process(sqs_event(*events), pinpoint, writer, APP, SECRET)


# --- every channel, rendered -------------------------------------------------------------------------------------

def test_email_template_rendered_with_attributes_user_attributes_address_and_defaults(aws, pinpoint, writer):
    pinpoint.create_email_template(TemplateName="welcome", EmailTemplateRequest={
        "Subject": "Hello {{User.UserAttributes.FirstName}}",
        "HtmlPart": "<p>{{User.UserAttributes.FirstName}} from {{Attributes.City}}, at {{Address}}</p>",
        "TextPart": "{{User.UserAttributes.FirstName}} from {{Attributes.City}} ({{Attributes.Plan}})",
        "DefaultSubstitutions": json.dumps({"Attributes.City": "your town", "Attributes.Plan": "basic"})})
    endpoint(pinpoint, "e1", "EMAIL", "Ana.Diaz@Example.com", {"Plan": ["gold", "annual"]},
             {"FirstName": ["Ana"]})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "welcome"}},
                           MessageConfiguration={"EmailMessage": {"FromAddress": "news@example.com"}})

    response = process(pinpoint, writer, campaign_send(campaign_id, "e1"))

    assert response == {"batchItemFailures": []}
    message = the_one(aws, "email", "ana.diaz@example.com")
    assert message["Subject"] == "Hello Ana"
    assert message["From"] == "news@example.com"
    assert message["To"] == "Ana.Diaz@Example.com"
    assert message["X-Archive-Channel"] == "email"
    assert message["X-Archive-Campaign-Id"] == campaign_id
    assert message["X-Archive-Header-Pinpoint-Template"] == "welcome"
    assert message["X-Archive-Header-Pinpoint-Template-Version"] == "1"
    assert body(message) == "Ana from your town (gold,annual)"
    assert body(message, "html") == "<p>Ana from your town, at Ana.Diaz@Example.com</p>"


def test_the_archive_key_is_the_stamped_location_with_the_recipient_folder(aws, pinpoint, writer):
    pinpoint.create_sms_template(TemplateName="code", SMSTemplateRequest={"Body": "Code {{Attributes.Code}}"})
    endpoint(pinpoint, "e1", "SMS", "+14255550182", {"Code": ["4471"]})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"SMSTemplate": {"Name": "code"}})
    event = campaign_send(campaign_id, "e1", snapshot={"ChannelType": "SMS"})
    location = parse(event).location(BUCKET)

    process(pinpoint, writer, dict(event, **{LOCATION_FIELD: location}))

    key = (location["key"].replace(RECIPIENT_PLACEHOLDER, recipient_folder(SECRET, "sms", "+14255550182"))
           .replace(ENDPOINT_PLACEHOLDER, parse(event).endpoint_digest(SECRET)))
    assert aws.client("s3").head_object(Bucket=BUCKET, Key=key)["ContentType"] == "message/rfc822"


def test_sms_inline_message_with_origination_and_type(aws, pinpoint, writer):
    endpoint(pinpoint, "e2", "SMS", "+14255550183", user_attributes={"FirstName": ["Bo"]})
    campaign_id = campaign(pinpoint, MessageConfiguration={"SMSMessage": {
        "Body": "Hi {{User.UserAttributes.FirstName}}, your order shipped.", "MessageType": "TRANSACTIONAL",
        "OriginationNumber": "+18445550100"}})

    assert process(pinpoint, writer, campaign_send(campaign_id, "e2"))["batchItemFailures"] == []

    message = the_one(aws, "sms", "+14255550183")
    assert message.get_content_type() == "text/plain"
    assert message.get_content().rstrip("\r\n") == "Hi Bo, your order shipped."
    assert message["X-Archive-Origination"] == "+18445550100"
    assert message["X-Archive-Message-Type"] == "TRANSACTIONAL"
    assert message["X-Archive-Header-Pinpoint-Content"] == "inline message"


def test_push_template_takes_the_platform_part_over_the_default(aws, pinpoint, writer):
    pinpoint.create_push_template(TemplateName="sale", PushNotificationTemplateRequest={
        "Default": {"Title": "Sale", "Body": "Everything {{Attributes.Discount}} off"},
        "GCM": {"Title": "Android sale"}})
    endpoint(pinpoint, "e3", "GCM", "device-token-1", {"Discount": ["20%"]})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"PushTemplate": {"Name": "sale"}})

    assert process(pinpoint, writer, campaign_send(campaign_id, "e3"))["batchItemFailures"] == []

    message = the_one(aws, "push", "device-token-1")
    assert message["Subject"] == "Android sale"
    assert message.get_content().rstrip("\r\n") == "Everything 20% off"
    assert message["X-Archive-Channel"] == "push"


def test_voice_template_with_its_language_and_voice(aws, pinpoint, writer):
    pinpoint.create_voice_template(TemplateName="reminder", VoiceTemplateRequest={
        "Body": "Your appointment is on {{Attributes.Day}}.", "LanguageCode": "en-US", "VoiceId": "Joanna"})
    endpoint(pinpoint, "e4", "VOICE", "+14255550184", {"Day": ["Monday"]})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"VoiceTemplate": {"Name": "reminder"}})

    assert process(pinpoint, writer, campaign_send(campaign_id, "e4"))["batchItemFailures"] == []

    message = the_one(aws, "voice", "+14255550184")
    assert message.get_content().rstrip("\r\n") == "Your appointment is on Monday."
    assert message["X-Archive-Header-Pinpoint-Voice-Language"] == "en-US"
    assert message["X-Archive-Header-Pinpoint-Voice-Id"] == "Joanna"


def test_journey_email_activity_at_its_template_version(aws, pinpoint, writer):
    pinpoint.create_email_template(TemplateName="onboard", EmailTemplateRequest={
        "Subject": "Welcome v1", "TextPart": "First words"})
    pinpoint.update_email_template(TemplateName="onboard", CreateNewVersion=True, EmailTemplateRequest={
        "Subject": "Welcome v2", "TextPart": "Second words, {{User.UserAttributes.FirstName}}"})
    endpoint(pinpoint, "e5", "EMAIL", "cy@example.com", user_attributes={"FirstName": ["Cy"]})
    journey_id = pinpoint.create_journey(ApplicationId=APP, WriteJourneyRequest={"Name": "onboarding", "Activities": {
        "act1": {"EMAIL": {"TemplateName": "onboard", "TemplateVersion": "2",
                           "MessageConfig": {"FromAddress": "hello@example.com"}}}}})["JourneyResponse"]["Id"]

    assert process(pinpoint, writer, journey_send(journey_id, "act1", "e5"))["batchItemFailures"] == []

    message = the_one(aws, "email", "cy@example.com")
    assert (message["Subject"], body(message)) == ("Welcome v2", "Second words, Cy")
    assert message["X-Archive-Journey-Id"] == journey_id
    assert message["From"] == "hello@example.com"
    assert message["X-Archive-Header-Pinpoint-Template-Version"] == "2"


# --- the right treatment and versions ------------------------------------------------------------------------------

def test_each_ab_treatment_renders_its_own_template(aws, pinpoint, writer):
    for name, subject in (("offer-a", "Offer A"), ("offer-b", "Offer B")):
        pinpoint.create_email_template(TemplateName=name, EmailTemplateRequest={"Subject": subject,
                                                                                 "TextPart": subject})
    endpoint(pinpoint, "ea", "EMAIL", "a@example.com")
    endpoint(pinpoint, "eb", "EMAIL", "b@example.com")
    campaign_id = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "offer-a"}},
                           AdditionalTreatments=[{"SizePercent": 50, "TreatmentName": "B",
                                                  "TemplateConfiguration": {"EmailTemplate": {"Name": "offer-b"}}}])
    treatment_b = pinpoint.get_campaign(ApplicationId=APP, CampaignId=campaign_id)[
        "CampaignResponse"]["AdditionalTreatments"][0]["Id"]

    response = process(pinpoint, writer, campaign_send(campaign_id, "ea", treatment="0"),
                       campaign_send(campaign_id, "eb", treatment=treatment_b))

    assert response["batchItemFailures"] == []
    assert the_one(aws, "email", "a@example.com")["Subject"] == "Offer A"
    assert the_one(aws, "email", "b@example.com")["Subject"] == "Offer B"
    assert the_one(aws, "email", "b@example.com")["X-Archive-Header-Pinpoint-Treatment-Id"] == treatment_b


def test_pinned_template_version_not_the_active_one_and_unpinned_the_active_one(aws, pinpoint, writer):
    pinpoint.create_email_template(TemplateName="news", EmailTemplateRequest={"Subject": "v1", "TextPart": "one"})
    pinpoint.update_email_template(TemplateName="news", CreateNewVersion=True,
                                   EmailTemplateRequest={"Subject": "v2", "TextPart": "two"})
    pinpoint.update_template_active_version(TemplateName="news", TemplateType="EMAIL",
                                            TemplateActiveVersionRequest={"Version": "2"})
    endpoint(pinpoint, "p1", "EMAIL", "pinned@example.com")
    endpoint(pinpoint, "p2", "EMAIL", "active@example.com")
    pinned = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "news", "Version": "1"}})
    active = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "news"}})

    assert process(pinpoint, writer, campaign_send(pinned, "p1"), campaign_send(active, "p2")) == {
        "batchItemFailures": []}

    assert the_one(aws, "email", "pinned@example.com")["Subject"] == "v1"
    assert the_one(aws, "email", "active@example.com")["Subject"] == "v2"


def test_a_campaign_changed_after_the_send_is_rendered_as_it_was(aws, fakes, pinpoint, writer):
    endpoint(pinpoint, "e1", "SMS", "+14255550185")
    campaign_id = campaign(pinpoint, MessageConfiguration={"SMSMessage": {"Body": "before the change"}})
    pinpoint.update_campaign(ApplicationId=APP, CampaignId=campaign_id, WriteCampaignRequest={
        "MessageConfiguration": {"SMSMessage": {"Body": "after the change"}}})
    # the first version was current at the send (09:15), the second only from 10:00
    fakes.pinpoint.campaign_versions[(APP, campaign_id, 1)]["LastModifiedDate"] = "2025-11-28T08:00:00.000Z"
    fakes.pinpoint.campaigns[(APP, campaign_id)]["LastModifiedDate"] = "2025-11-28T10:00:00.000Z"

    assert process(pinpoint, writer, campaign_send(campaign_id, "e1"))["batchItemFailures"] == []

    message = the_one(aws, "sms", "+14255550185")
    assert message.get_content().rstrip("\r\n") == "before the change"
    assert message["X-Archive-Header-Pinpoint-Campaign-Version"] == "1"


def test_the_endpoint_as_sent_wins_over_its_later_attributes(aws, pinpoint, writer):
    snapshot = json.loads(_published("campaign_send_sms_aws_samples.json")["client_context"]["custom"]["endpoint"])
    pinpoint.create_sms_template(TemplateName="receipt", SMSTemplateRequest={
        "Body": "Thanks for buying {{Attributes.Item}} for {{Attributes.PricePaid}}"})
    endpoint(pinpoint, "e7", "SMS", "+14255550187", {"Item": ["Taco"], "PricePaid": ["23"]})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"SMSTemplate": {"Name": "receipt"}})

    assert process(pinpoint, writer, campaign_send(campaign_id, "e7", snapshot=snapshot)) == {
        "batchItemFailures": []}

    assert the_one(aws, "sms", "+14255550187").get_content().rstrip("\r\n") == "Thanks for buying Plant for 34"


def test_a_snapshot_naming_only_the_user_keeps_the_endpoints_user_attributes(aws, pinpoint, writer):
    pinpoint.create_sms_template(TemplateName="hi", SMSTemplateRequest={
        "Body": "Hi {{User.UserAttributes.FirstName}} ({{User.UserId}}), {{Attributes.Item}}"})
    endpoint(pinpoint, "e8", "SMS", "+14255550188", {"Item": ["Taco"]}, {"FirstName": ["Dee"]})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"SMSTemplate": {"Name": "hi"}})
    snapshot = {"ChannelType": "SMS", "Attributes": {"Item": ["Plant"]}, "User": {"UserId": "User8"}}

    assert process(pinpoint, writer, campaign_send(campaign_id, "e8", snapshot=snapshot)) == {
        "batchItemFailures": []}

    assert the_one(aws, "sms", "+14255550188").get_content().rstrip("\r\n") == "Hi Dee (User8), Plant"


def _published(name: str) -> dict:
    if not EXAMPLES.is_dir():
        pytest.skip(f"AWS example payloads not present at {EXAMPLES} (a clone without ../shared)")
    return json.loads((EXAMPLES / name).read_text())


# --- failures, partial batches, redeliveries -----------------------------------------------------------------------

def test_missing_template_fails_only_its_record_with_the_reason(aws, pinpoint, writer, caplog):
    pinpoint.create_sms_template(TemplateName="there", SMSTemplateRequest={"Body": "fine"})
    for n in range(3):
        endpoint(pinpoint, f"e{n}", "SMS", f"+1425555019{n}")
    good = campaign(pinpoint, TemplateConfiguration={"SMSTemplate": {"Name": "there"}})
    gone = campaign(pinpoint, TemplateConfiguration={"SMSTemplate": {"Name": "deleted"}})

    with caplog.at_level(logging.ERROR):
        response = process(pinpoint, writer, campaign_send(good, "e0"), campaign_send(gone, "e1"),
                           campaign_send(good, "e2"))

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert len(archived(aws, "sms", "+14255550190")) == len(archived(aws, "sms", "+14255550192")) == 1
    assert archived(aws, "sms", "+14255550191") == []
    assert failure_reasons(caplog) == ["SMS template deleted version (active) not found"]


def test_a_missing_template_lands_in_the_dead_letter_queue_after_the_retries(aws, pinpoint, writer):
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName="render-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="render", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    endpoint(pinpoint, "e1", "EMAIL", "lost@example.com")
    gone = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "deleted"}})
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(campaign_send(gone, "e1")))

    receives = 0
    while messages := sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages", []):
        receives += 1
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": {}, "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:render"}
                             for m in messages]}
        failed = {f["itemIdentifier"] for f in pinpoint_render_handler.process(event, pinpoint, writer, APP, SECRET)[
            "batchItemFailures"]}
        for m in messages:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        assert receives <= 3

    assert receives == 3
    dead = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert [json.loads(m["Body"])["attributes"]["campaign_id"] for m in dead] == [gone]
    assert archived(aws, "email", "lost@example.com") == []


@pytest.mark.parametrize(("problem", "reason"), [
    ("treatment", "has no treatment 7"),
    ("helper", "a helper or block the archiver does not render"),
    ("endpoint", "the endpoint is not found"),
    ("project", "this archiver serves"),
])
def test_content_that_cannot_be_rendered_fails_with_its_reason(aws, pinpoint, writer, caplog, problem, reason):
    pinpoint.create_email_template(TemplateName="t", EmailTemplateRequest={
        "Subject": "s", "TextPart": "{{#if User.UserAttributes.FirstName}}Hi{{/if}}" if problem == "helper" else "x"})
    endpoint(pinpoint, "e1", "EMAIL", "x@example.com")
    campaign_id = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "t"}})
    event = campaign_send(campaign_id, "nobody" if problem == "endpoint" else "e1",
                          treatment="7" if problem == "treatment" else "0")
    if problem == "project":
        event["application"]["app_id"] = "another-project"

    with caplog.at_level(logging.ERROR):
        response = process(pinpoint, writer, event)

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert [r for r in failure_reasons(caplog) if reason in r]
    assert archived(aws, "email", "x@example.com") == []


def test_a_redelivered_event_adds_no_object_and_no_version(aws, pinpoint, writer):
    aws.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    pinpoint.create_sms_template(TemplateName="t", SMSTemplateRequest={"Body": "once"})
    endpoint(pinpoint, "e1", "SMS", "+14255550199")
    event = campaign_send(campaign(pinpoint, TemplateConfiguration={"SMSTemplate": {"Name": "t"}}), "e1")

    assert process(pinpoint, writer, event, event)["batchItemFailures"] == []

    versions = aws.client("s3").list_object_versions(Bucket=BUCKET)["Versions"]
    assert len(versions) == 1


# --- content read once per distinct content -------------------------------------------------------------------------

def test_content_is_read_once_per_campaign_treatment_and_template_version(aws, fakes, pinpoint, writer):
    pinpoint.create_email_template(TemplateName="a", EmailTemplateRequest={"Subject": "A", "TextPart": "a"})
    pinpoint.create_email_template(TemplateName="b", EmailTemplateRequest={"Subject": "B", "TextPart": "b"})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "a"}},
                           AdditionalTreatments=[{"SizePercent": 50,
                                                  "TemplateConfiguration": {"EmailTemplate": {"Name": "b"}}}])
    events = []
    for n in range(40):
        endpoint(pinpoint, f"e{n}", "EMAIL", f"person{n}@example.com")
        events.append(campaign_send(campaign_id, f"e{n}", treatment="0" if n % 2 else "1"))
    fakes.pinpoint.calls.clear()

    assert process(pinpoint, writer, *events)["batchItemFailures"] == []

    reads = {op: len(fakes.pinpoint.calls_of(op)) for op in ("GetCampaign", "GetEmailTemplate", "GetEndpoint")}
    assert reads == {"GetCampaign": 1, "GetEmailTemplate": 2, "GetEndpoint": 40}


def test_render_leaves_text_without_variables_alone_and_empty_values_take_the_default():
    endpoint_data = {"Attributes": {"Empty": []}, "Metrics": {"Visits": 3.0}}
    assert render("plain {text}", endpoint_data, {}) == "plain {text}"
    assert render("{{Attributes.Empty}}|{{Metrics.Visits}}|{{{Attributes.None}}}", endpoint_data,
                  {"Attributes.Empty": "none"}) == "none|3|"


def test_content_counts_reads(fakes, pinpoint):
    pinpoint.create_sms_template(TemplateName="t", SMSTemplateRequest={"Body": "b"})
    content = PinpointContent(pinpoint)
    for _ in range(3):
        content.template("sms", "t", None)
    assert content.content_fetches() == 1


# --- no endpoint id in keys or logs (an endpoint id may be an address) ----------------------------------------------

def test_an_endpoint_id_that_is_an_address_is_in_no_key_and_no_info_log(aws, pinpoint, writer, caplog):
    pinpoint.create_email_template(TemplateName="plain", EmailTemplateRequest={"Subject": "Hi", "TextPart": "Hi"})
    endpoint(pinpoint, "ana@example.com", "EMAIL", "ana@example.com")
    campaign_id = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "plain"}})
    event = campaign_send(campaign_id, "ana@example.com")

    with caplog.at_level(logging.INFO):
        assert process(pinpoint, writer, event) == {"batchItemFailures": []}

    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert len(keys) == 1
    assert "ana@example.com" not in keys[0]
    assert parse(event).endpoint_digest(SECRET) in keys[0]
    logged = [f"{r.getMessage()} {vars(r)}" for r in caplog.records if r.levelno >= logging.INFO]
    assert logged
    assert not [line for line in logged if "ana@example.com" in line]


def test_a_missing_endpoint_is_reported_without_its_id(aws, pinpoint, writer, caplog):
    pinpoint.create_email_template(TemplateName="plain", EmailTemplateRequest={"Subject": "Hi", "TextPart": "Hi"})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"EmailTemplate": {"Name": "plain"}})

    with caplog.at_level(logging.INFO):
        response = process(pinpoint, writer, campaign_send(campaign_id, "gone@example.com"))

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert not [r for r in caplog.records if "gone@example.com" in f"{r.getMessage()} {vars(r)}"]


# --- a batch stops before the function's timeout --------------------------------------------------------------------

class CountingPinpoint:
    def __init__(self, pinpoint):
        self._pinpoint, self.endpoint_reads = pinpoint, 0

    def get_endpoint(self, **params):
        self.endpoint_reads += 1
        return self._pinpoint.get_endpoint(**params)

    def __getattr__(self, name):
        return getattr(self._pinpoint, name)


def test_records_left_when_time_runs_short_are_reported_failed_without_reading_pinpoint(aws, pinpoint, writer):
    pinpoint.create_sms_template(TemplateName="t", SMSTemplateRequest={"Body": "Hi"})
    campaign_id = campaign(pinpoint, TemplateConfiguration={"SMSTemplate": {"Name": "t"}})
    for n in range(100):
        endpoint(pinpoint, f"t{n}", "SMS", f"+1425555{n:04d}")
    counting = CountingPinpoint(pinpoint)
    clock = iter([pinpoint_render_handler.TIME_RESERVE_MS + 1_000] * 2 + [1_000] * 200)

    response = pinpoint_render_handler.process(
        sqs_event(*(campaign_send(campaign_id, f"t{n}") for n in range(100))), counting, writer, APP, SECRET,
        remaining_ms=lambda: next(clock))

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [f"msg-{n}" for n in range(2, 100)]
    assert counting.endpoint_reads == 2
    assert len(aws.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])) == 2
