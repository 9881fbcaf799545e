"""AWS's own published example payloads, fed through the code that reads them.

The examples lie beside the project in ../shared/aws-examples (its SOURCES.md names each one's source); they are
read where they are, never copied here. Every expected value below was read by hand from the example file. Each
payload reaches the code inside the documented delivery envelope (_envelopes/): SNS -> SQS body, Kinesis record,
Firehose transformation record, SQS Lambda event. Shapes the folder lacks are in tests/fixtures/aws_documented.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

import pytest

from due import batch, pinpoint_events, row_queue, ses_events, sms_events
from due.data_lake import rows, transform_handler
from due.email_feedback import FeedbackKind
from due.events import BadEvent, unwrap_sns
from due.self_managed_opt_outs.keywords import Intent, KeywordRules
from due.ses_auto_reply import inbound
from due.ses_auto_reply.loop_guard import OwnAddresses, reason_not_to_reply
from due.ses_auto_reply.sender_key import canonical_address
from due.ses_events import SesEventType

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "aws-examples"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aws_documented"
ABSENT = f"AWS example payloads not present at {EXAMPLES} (a clone without ../shared)"


def example(name: str) -> dict:
    if not EXAMPLES.is_dir():
        pytest.skip(ABSENT)
    return json.loads((EXAMPLES / name).read_text())


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def in_sns_envelope(message: dict) -> str:
    """The SQS body SNS delivers (raw message delivery off), around ``message``."""
    envelope = example("_envelopes/sns_to_sqs_body_raw_delivery_disabled.json")
    return json.dumps(dict(envelope, Message=json.dumps(message)))


def in_kinesis_record(record: dict) -> dict:
    envelope = example("_envelopes/kinesis_lambda_event.json")
    return dict(envelope["Records"][0], kinesis=dict(envelope["Records"][0]["kinesis"],
                                                     data=base64.b64encode(json.dumps(record).encode()).decode()))


@pytest.fixture
def partitions_from_1970(monkeypatch):
    """AWS's examples are dated 2015-2019, before the table's first partition day (which refuses them, see
    test_an_example_dated_before_the_partitions_is_refused_with_the_reason): here the rows are looked at."""
    monkeypatch.setattr(rows, "EARLIEST_MS", 0)


# --- SES identity notifications -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, message_id, timestamp, recipients, feedback_id", [
    ("ses_notifications/bounce_permanent_with_dsn.json", FeedbackKind.HARD_BOUNCE,
     "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000", "2016-01-27T14:59:38.237Z",
     ("jane@example.com",), "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000"),
    ("ses_notifications/bounce_permanent_without_dsn.json", FeedbackKind.HARD_BOUNCE,
     "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000", "2016-01-27T14:59:38.237Z",
     ("jane@example.com", "richard@example.com"), "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000"),
    ("ses_notifications/complaint_abuse_with_feedback_report.json", FeedbackKind.COMPLAINT,
     "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000", "2016-01-27T14:59:38.237Z",
     ("richard@example.com",), "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000"),
    ("ses_notifications/complaint_without_feedback_report.json", FeedbackKind.COMPLAINT,
     "0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000", "2016-01-27T14:59:38.237Z",
     ("richard@example.com",), "0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000"),
])
def test_ses_feedback_notifications(name, kind, message_id, timestamp, recipients, feedback_id):
    event = ses_events.parse(in_sns_envelope(example(name)))
    feedback = event.feedback()
    assert (feedback.kind, feedback.message_id, feedback.occurred_at) == (kind, message_id, timestamp)
    assert feedback.addresses == recipients  # only the bounced or complaining recipients, never all destinations
    assert feedback.event_id == feedback_id


def test_ses_delivery_notification():
    event = ses_events.parse(in_sns_envelope(example("ses_notifications/delivery.json")))
    assert event.type is SesEventType.DELIVERY and event.feedback() is None
    assert event.message_id == "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000"
    assert event.recipients == ("jane@example.com",)


# --- SES event publishing (configuration sets), as SES events and as data lake rows ----------------------------

@pytest.mark.parametrize("name, event_type, row_type, when, expected", [
    ("ses_event_publishing/bounce.json", SesEventType.BOUNCE, "_email.hardbounce", "2017-08-05T00:41:02.669Z", {
        "bounce_type": "Permanent", "bounce_subtype": "General", "recipients": ["recipient@example.com"],
        "recipient_details": {"recipient@example.com": {
            "status": "5.1.1", "action": "failed", "diagnostic_code": "smtp; 550 5.1.1 user unknown"}}}),
    ("ses_event_publishing/complaint.json", SesEventType.COMPLAINT, "_email.complaint", "2017-08-05T00:41:02.669Z", {
        "complaint_feedback_type": "abuse", "recipients": ["recipient@example.com"]}),
    ("ses_event_publishing/delivery.json", SesEventType.DELIVERY, "_email.delivered", "2016-10-19T23:21:04.133Z", {
        "recipients": ["recipient@example.com"], "attributes": {
            "ses:configuration-set": "ConfigSet", "ses:source-ip": "192.0.2.0", "ses:from-domain": "example.com",
            "ses:caller-identity": "ses_user", "ses:outgoing-ip": "192.0.2.0", "myCustomTag1": "myCustomTagValue1",
            "myCustomTag2": "myCustomTagValue2"}}),
    ("ses_event_publishing/send.json", SesEventType.SEND, "_email.send", "2016-10-14T05:02:16.645Z", {
        "destinations": ["recipient@example.com"]}),
    ("ses_event_publishing/reject.json", SesEventType.REJECT, "_email.rejected", "2016-10-14T17:38:15.211Z", {
        "reject_reason": "Bad content", "recipients": ["sender@example.com"]}),
    ("ses_event_publishing/open.json", SesEventType.OPEN, "_email.open", "2017-08-09T22:00:19.652Z", {
        "ip_address": "192.0.2.1", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) "
                                                 "AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60"}),
    ("ses_event_publishing/click.json", SesEventType.CLICK, "_email.click", "2017-08-09T23:51:25.570Z", {
        "link": "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
        "ip_address": "192.0.2.1"}),
    ("ses_event_publishing/rendering_failure.json", SesEventType.RENDERING_FAILURE, "_email.rendering_failure",
     "2018-01-22T18:43:06.197Z", {
         "template_name": "MyTemplate",
         "error_message": "Attribute 'attributeName' is not present in the rendering data."}),
    ("ses_event_publishing/delivery_delay.json",
     SesEventType.DELIVERY_DELAY, "_email.delivery_delay", "2020-06-16T00:25:40.095Z", {
        "delay_type": "TransientCommunicationFailure", "recipient_details": {"recipient@example.com": {
            "status": "4.4.1", "action": None,
            "diagnostic_code": "smtp; 421 4.4.1 Unable to connect to remote host"}}}),
    ("ses_event_publishing/subscription.json",
     SesEventType.SUBSCRIPTION, "_email.unsubscribe", "2022-01-12T01:00:17.910Z", {
        "message_id": "EXAMPLEe4bccb684-777bc8de-afa7-4970-92b0-f515137b1497-000000"}),
])
def test_ses_published_events(partitions_from_1970, name, event_type, row_type, when, expected):
    record = example(name)
    event = ses_events.parse(in_sns_envelope(record))  # SES -> SNS -> SQS
    assert event.type is event_type
    assert event.message_id == record["mail"]["messageId"]

    original = json.dumps(record).encode()
    row = rows.to_row(record, original, arrival_ms=ms(when) + 60_000)  # SES -> Firehose
    assert (row["event_source"], row["event_type"], row["source_event_type"]) == ("ses", row_type, event_type.value)
    assert row["event_timestamp"] == ms(when)  # when it happened, not when the message was sent
    assert row["from_address"] == "sender@example.com"  # bare, though bounce/complaint give "Sender Name <...>"
    assert {column: row[column] for column in expected} == expected


def test_ses_feedback_from_event_publishing():
    bounce = ses_events.parse(in_sns_envelope(example("ses_event_publishing/bounce.json"))).feedback()
    assert (bounce.kind, bounce.addresses, bounce.occurred_at) == (
        FeedbackKind.HARD_BOUNCE, ("recipient@example.com",), "2017-08-05T00:41:02.669Z")
    complaint = ses_events.parse(in_sns_envelope(example("ses_event_publishing/complaint.json"))).feedback()
    assert (complaint.kind, complaint.event_id) == (
        FeedbackKind.COMPLAINT, "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000")


def test_an_example_dated_before_the_partitions_is_refused_with_the_reason():
    record = example("ses_event_publishing/bounce.json")
    with pytest.raises(BadEvent, match="outside the table's partitions"):
        rows.to_row(record, json.dumps(record).encode(), arrival_ms=ms("2017-08-05T00:42:00.000Z"))


# --- SES receiving ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message_id, envelope_sender, from_address, subject, rfc_message_id, recipient, "
                         "verdicts, reason", [
    ("ses_receiving/lambda_action_event_ses_dg.json", "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
     "prvs=144d0cba7=sender@example.com", "sender@example.com", "This is a test",
     "<F8098FDD-49A3-442D-9935-F6112B195BDA@example.com>", "recipient@example.com",
     {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "GRAY"}, "Precedence: bulk"),
    ("ses_receiving/lambda_action_event_aws_lambda_go.json",
     "6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", "aws@amazon.com",
     "aws@amazon.com", "Test Subject", "<CAEddw6POFV_On91m+ZoL_SN8B_M2goDe_Ni355owhc7QSjPQSQ@amazon.com>",
     "lambda@amazon.com", {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}, None),
    ("ses_receiving/lambda_action_event_powertools.json",
     "o3vrnil0e2ic28tr", "janedoe@example.com", "janedoe@example.com",
     "Test Subject", "<0123456789example.com>", "johndoe@example.com",
     {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}, None),
    ("ses_receiving/lambda_action_event_sam_cli.json",
     "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1", "janedoe@example.com",
     "janedoe@example.com", "Test Subject", "<0123456789example.com>", "johndoe@example.com",
     {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": ""}, None),
])
def test_ses_receipt_lambda_events(name, message_id, envelope_sender, from_address, subject, rfc_message_id,
                                   recipient, verdicts, reason):
    mail = inbound.parse(example(name))
    assert (mail.ses_message_id, mail.envelope_sender, mail.from_address) == (message_id, envelope_sender,
                                                                                from_address)
    assert (mail.subject, mail.rfc_message_id, mail.recipients) == (subject, rfc_message_id, (recipient,))
    assert mail.verdicts == verdicts
    assert reason_not_to_reply(mail, OwnAddresses.from_list([recipient])) == reason
    # The reply window counts the person: a BATV-signed return path is the same sender as its From.
    assert canonical_address(mail.envelope_sender) == from_address


@pytest.mark.parametrize("name, message_id, timestamp", [
    ("ses_receiving/sns_action_received_notification_ses_dg.json", "12345678901example", "2019-09-06T18:52:14.965Z"),
    ("ses_receiving/sns_action_received_notification_receiving_examples.json", "d6iitobk75ur44p8kdnnp7g2n800",
     "2015-09-11T20:32:33.936Z"),
    ("ses_receiving/s3_action_alert_received_notification.json",
     "d6iitobk75ur44p8kdnnp7g2n800", "2015-09-11T20:32:33.936Z"),
])
def test_ses_received_notifications_carry_no_feedback(name, message_id, timestamp):
    """A receipt rule's SNS (or S3 alert) notification arriving where feedback is read means nothing for it."""
    event = ses_events.parse(in_sns_envelope(example(name)))
    assert (event.type, event.message_id, event.timestamp) == (SesEventType.RECEIVED, message_id, timestamp)
    assert event.recipients == ("recipient@example.com",)
    assert event.feedback() is None


# --- two-way SMS, End User Messaging events ----------------------------------------------------------------------

def test_inbound_two_way_sms():
    body = in_sns_envelope(example("sms_inbound/two_way_sms_payload.json"))
    sms = sms_events.parse_sqs_body(body)
    assert (sms.inbound_message_id, sms.customer_number, sms.our_number) == (
        "cae173d2-66b9-564c-8309-21f858e9fb84", "+14255550182", "+12125550101")
    assert (sms.body, sms.keyword, sms.received_at) == ("EXAMPLE", "JOIN", "2021-02-16T21:41:19.978Z")
    assert KeywordRules().classify(sms.body) == (Intent.NONE, "")  # neither STOP, START nor HELP: no action


@pytest.mark.parametrize("name, country", [
    ("sms_events/text_successful_sms_voice_userguide.json", "US"),
    ("sms_events/text_successful_end_user_messaging_userguide.json", None),  # the current page dropped isoCountryCode
])
def test_end_user_messaging_sms_events(name, country):
    record = example(name)
    row = rows.to_row(record, json.dumps(record).encode(), arrival_ms=1686975104000)
    assert (row["event_source"], row["event_type"], row["source_event_type"]) == ("sms", "_SMS.SUCCESS",
                                                                                 "TEXT_SUCCESSFUL")
    assert row["event_timestamp"] == 1686975103470
    assert (row["message_id"], row["origination_number"], row["destination_number"]) == (
        "862a8790-60c0-4430-9b2b-658bdexample", "+12065550152", "+14255550156")
    assert (row["record_status"], row["message_type"], row["message_parts"], row["price_usd"]) == (
        "SUCCESSFUL", "PROMOTIONAL", 1, 0.09582)
    assert (row["iso_country_code"], row["context"]) == (country, {"account": "bar"})
    assert rows.event_date(row) == "2023-06-17"


# --- Amazon Pinpoint event stream --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, event_type, sent_ms, occurred_ms, endpoint_id, expected", [
    # Email events carry the send time as event_timestamp; the row is dated by when the event reached Pinpoint.
    ("pinpoint_events/email_send.json",
     "_email.send", 1564618621380, 1564618621380, "9a311b17-6f8e-4093-be61-4d0bbexample",
     {"message_id": "0200000073rnbmd1-mbvdg3uo-q8ia-m3ku-ibd3-ms77kexample-000000",
      "from_address": "sender@example.com", "destinations": ["recipient@example.com"]}),
    ("pinpoint_events/email_delivered.json", "_email.delivered", 1564618621380, 1564618622690,
     "e9a3000d-daa2-40dc-ac47-1cd34example", {"recipients": ["recipient@example.com"]}),
    ("pinpoint_events/email_open.json",
     "_email.open", 1564618621380, 1564618712316, "8dc1f651-b3ec-46fc-9b67-2a050example",
     {"ip_address": "72.21.198.67"}),
    ("pinpoint_events/email_click.json",
     "_email.click", 1564618621380, 1564618713751, "49c1413e-a69c-46dc-b1c4-6470eexample",
     {"link": "https://aws.amazon.com/pinpoint/", "ip_address": "72.21.198.67"}),
    ("pinpoint_events/sms_success.json", "_SMS.SUCCESS", 1553104954322, 1553104954322, "123456789012",
     {"message_id": "1111-2222-3333", "origination_number": "+12065550142", "destination_number": "+14255550199",
      "record_status": "DELIVERED", "iso_country_code": "US", "message_parts": 1, "price_usd": 0.00645,
      "campaign_id": "52dc44b35c4742c98c5935269example"}),
    ("pinpoint_events/campaign_send.json",
     "_campaign.send", 1562109497426, 1562109497426, "d8dcf7c5-e81a-48ae-8313-f540cexample",
     {"campaign_id": "4f8d6097c2e8400fa3081d875example", "campaign_activity_id": "5473285727f04865bc673e527example",
      "treatment_id": "0"}),
    ("pinpoint_events/journey_send.json",
     "_journey.send", 1572989078843, 1572989078843, "d8dcf7c5-e81a-48ae-8313-f540cexample",
     {"journey_id": "546401670c5547b08811ac6a9example", "journey_activity_id": "0yKexample",
      "journey_run_id": "edc9a0b577164d1daf72ebd15example"}),
    ("pinpoint_events/app_session_stop.json",
     "_session.stop", 1487973802507, 1487973802507, "m3n4o5p6-a1b2-c3d4-e5f6-g7h8i9j0k1l2",
     {"attributes": None}),
    ("pinpoint_events/campaign_send_sms_aws_samples.json",
     "_campaign.send", 1591996341697, 1591996341697, "updatemesms2",
     {"campaign_id": "bc3727c0ee2c428b876489de58230c52", "application_id": "xxxx"}),
    ("pinpoint_events/sms_buffered_aws_samples.json", "_SMS.BUFFERED", 1591996342078, 1591996342078, "updatemesms2",
     {"destination_number": "+1xxxx", "record_status": "SUCCESSFUL", "message_type": "Transactional"}),
])
def test_pinpoint_event_stream_records(partitions_from_1970, name, event_type, sent_ms, occurred_ms, endpoint_id,
                                       expected):
    record = example(name)
    event = pinpoint_events.parse(batch.kinesis_data(in_kinesis_record(record)))  # Pinpoint -> Kinesis
    assert (event.event_type, event.event_timestamp_ms, event.endpoint_id) == (event_type, sent_ms, endpoint_id)
    assert event.feedback() is None  # none of AWS's examples is a bounce or a complaint

    row = rows.to_row(record, json.dumps(record).encode(), arrival_ms=occurred_ms + 1000)  # Pinpoint -> Firehose
    assert (row["event_source"], row["event_type"], row["event_timestamp"]) == ("pinpoint", event_type, occurred_ms)
    assert {column: row[column] for column in expected} == expected


def test_the_firehose_transformation_reads_aws_samples_capture():
    captured = example("pinpoint_events/firehose_event_message_archiver_aws_samples.json")
    results = [transform_handler.transform(record) for record in captured["records"]]
    assert [r["result"] for r in results] == ["Ok"] * 4
    decoded = [json.loads(base64.b64decode(r["data"])) for r in results]
    assert [d["event_type"] for d in decoded] == ["_campaign.send", "_campaign.send", "_SMS.BUFFERED",
                                                  "_SMS.BUFFERED"]
    assert [r["metadata"]["partitionKeys"]["dt"] for r in results] == ["2020-06-12"] * 4
    # The two single records in the folder are records 1 and 3 of this capture.
    assert json.loads(base64.b64decode(captured["records"][0]["data"])) == example(
        "pinpoint_events/campaign_send_sms_aws_samples.json")
    assert json.loads(base64.b64decode(captured["records"][2]["data"])) == example(
        "pinpoint_events/sms_buffered_aws_samples.json")


def test_records_in_the_documented_firehose_envelope():
    envelope = example("_envelopes/firehose_transformation_event.json")
    buffered = example("pinpoint_events/sms_buffered_aws_samples.json")
    event = dict(envelope, records=[
        dict(envelope["records"][0], data=base64.b64encode(json.dumps(buffered).encode()).decode(),
             approximateArrivalTimestamp=1591996342500),
        envelope["records"][1],  # as printed: "Hello World", not an event
    ])
    results = [transform_handler.transform(record) for record in event["records"]]
    assert [(r["recordId"], r["result"]) for r in results] == [("record1", "Ok"), ("record2", "ProcessingFailed")]
    assert results[0]["metadata"]["partitionKeys"]["dt"] == "2020-06-12"


# --- delivery envelopes as printed ---------------------------------------------------------------------------------

def test_the_documented_sns_envelope_is_unwrapped_and_its_plain_text_message_refused():
    envelope = example("_envelopes/sns_to_sqs_body_raw_delivery_disabled.json")  # Message: "This is a test message."
    with pytest.raises(BadEvent, match="SNS Message is not JSON"):
        unwrap_sns(envelope)


def test_the_documented_sqs_event_reports_each_unreadable_body_by_message_id():
    event = example("_envelopes/sqs_lambda_event.json")  # bodies as printed: "Message Body", "Message Body 2"
    event["Records"][0]["body"] = in_sns_envelope(example("ses_notifications/delivery.json"))
    parsed = []
    response = batch.process_sqs(event, lambda record: parsed.append(ses_events.parse(record["body"])))
    assert [e.type for e in parsed] == [SesEventType.DELIVERY]
    assert response == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"][1:]]}


# --- S3 event notifications (AWS's documented examples kept in tests/fixtures/aws_documented) -----------------

def test_s3_test_event_starts_no_work():
    body = (FIXTURES / "s3_test_event.json").read_text()
    assert row_queue.checkpoints(body) == []


def test_s3_object_created_outside_incoming_csv_is_ignored():
    body = (FIXTURES / "s3_object_created_put.json").read_text()  # key "HappyFace.jpg" in bucket "mybucket"
    assert row_queue.checkpoints(body) == []
    record = json.loads(body)
    record["Records"][0]["s3"]["object"]["key"] = "incoming/red+flower.csv"  # keys arrive URL-encoded
    (checkpoint,) = row_queue.checkpoints(json.dumps(record))
    assert (checkpoint.bucket, checkpoint.key) == ("mybucket", "incoming/red flower.csv")
    assert checkpoint.version_id == "096fKKXTRTtl3on89fVO.nfljtsv6qko"


def test_every_example_file_is_fed_to_the_code():
    """Each file in the folder is named, by its path there, by a test of this file."""
    if not EXAMPLES.is_dir():
        pytest.skip(ABSENT)
    source = Path(__file__).read_text()
    present = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.json"))
    assert len(present) == 40
    assert [name for name in present if f'"{name}"' not in source] == [], "example files no test reads"
