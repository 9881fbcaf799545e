"""Realistic engagement events from the three sources the data lake reads.

``catalogue(now_ms)`` gives events of every type from every source that
publishes it: ids, addresses (some with accents), optional fields present in
some and missing in others. Each ``Generated`` says which view it must appear
in and with what values, so tests compare the SQL's answer with what went in.
``malformed()`` and ``test_events()`` give the records that must not become rows.
``day_of_traffic`` gives bulk traffic for the benchmark.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

APP_ID = "7f0b5a3e1c2d4e6f8a9b0c1d2e3f4a5b"
DAY_MS = 86_400_000
SUBJECT = "Ofertas de noviembre para José Müller"


@dataclass
class Generated:
    source: str                 # pinpoint | ses | sms
    view: str | None            # the view it must appear in (None: table only)
    payload: dict[str, Any]
    expected: dict[str, Any] = field(default_factory=dict)   # view column -> value
    rows_in_view: int = 1       # more than 1 where the view has a row per recipient

    def data(self) -> bytes:
        return json.dumps(self.payload, ensure_ascii=False).encode("utf-8")


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- Amazon Pinpoint event stream ------------------------------------------------------------

def pinpoint(event_type: str, ts: int, *, attributes: dict[str, str] | None = None, endpoint: str = "endpoint-1",
             facets: dict[str, Any] | None = None, metrics: dict[str, float] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_type": event_type,
        "event_timestamp": ts,
        "arrival_timestamp": ts + 350,
        "event_version": "3.1",
        "application": {"app_id": APP_ID, "sdk": {}},
        "client": {"client_id": endpoint},
        "device": {"platform": {}},
        "session": {},
        "attributes": attributes or {},
        "awsAccountId": "123456789012",
    }
    if facets is not None:
        record["facets"] = facets
    if metrics is not None:
        record["metrics"] = metrics
    return record


def pinpoint_email(event_type: str, ts: int, message_id: str, to: str, *, campaign: str | None = "campaign-a",
                   subject: str | None = SUBJECT, section: dict[str, Any] | None = None,
                   endpoint: str = "endpoint-1", sent: int | None = None) -> dict[str, Any]:
    """An email event that happened at ``ts``, of a message sent at ``sent`` (a second before, by default).

    As AWS's examples show, Pinpoint stamps every event of a message with the send time (event_timestamp and
    mail.message_send_timestamp); when the event itself happened is its arrival_timestamp.
    """
    sent = ts if event_type == "_email.send" else ts - 1000 if sent is None else sent
    mail: dict[str, Any] = {
        "message_id": message_id,
        "message_send_timestamp": sent,
        "from_address": "Example Shop <news@shop.example.com>",
        "destination": [to],
        "headers_truncated": False,
        "common_headers": {"from": "news@shop.example.com", "to": [to]},
    }
    if subject is not None:
        mail["common_headers"]["subject"] = subject
    attributes = {"campaign_activity_id": "activity-1", "treatment_id": "0"}
    if campaign:
        attributes["campaign_id"] = campaign
    record = pinpoint(event_type, sent, attributes=attributes, endpoint=endpoint,
                      facets={"email_channel": {"mail_event": {"mail": mail, **(section or {})}}})
    if event_type != "_email.send":
        record["arrival_timestamp"] = ts
    return record


def pinpoint_sms(event_type: str, ts: int, message_id: str, status: str, *, to: str = "+14255550123",
                 price_millicents: float | None = 645.0) -> dict[str, Any]:
    attributes = {
        "sender_request_id": "request-1", "campaign_activity_id": "activity-2", "campaign_id": "campaign-sms",
        "treatment_id": "1", "origination_phone_number": "+12065550100", "destination_phone_number": to,
        "record_status": status, "iso_country_code": "US", "number_of_message_parts": "1",
        "message_id": message_id, "message_type": "Transactional",
    }
    metrics = None if price_millicents is None else {"price_in_millicents_usd": price_millicents}
    return pinpoint(event_type, ts, attributes=attributes, metrics=metrics, endpoint="endpoint-sms")


# ---- SES configuration-set event publishing --------------------------------------------------

def ses(event_type: str, ts: int, message_id: str, to: list[str], *, campaign: str | None = "campaign-a",
        detail: dict[str, Any] | None = None, subject: str | None = SUBJECT) -> dict[str, Any]:
    headers: dict[str, Any] = {"from": ["Example Shop <news@shop.example.com>"], "to": to}
    if subject is not None:
        headers["subject"] = subject
    tags: dict[str, list[str]] = {"ses:configuration-set": ["due-events"]}
    if campaign:
        tags["campaign_id"] = [campaign]
    record: dict[str, Any] = {
        "eventType": event_type,
        "mail": {
            "timestamp": iso(ts - 1000), "source": "Example Shop <news@shop.example.com>",
            "sendingAccountId": "123456789012", "messageId": message_id, "destination": to,
            "headersTruncated": False, "commonHeaders": headers, "tags": tags,
        },
    }
    record.update(detail or {})
    return record


# ---- End User Messaging SMS (v2) configuration-set events ------------------------------------

def sms_v2(event_type: str, ts: int, message_id: str, status: str, *, to: str = "+447700900123",
           price: float | None = 0.0401, context: dict[str, str] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventType": event_type, "eventVersion": "1.0", "eventTimestamp": ts, "isFinal": status != "PENDING",
        "originationPhoneNumber": "+447700900000", "destinationPhoneNumber": to, "isoCountryCode": "GB",
        "mcc": "234", "mnc": "10", "carrierName": "Example Mobile", "messageId": message_id,
        "messageRequestTimestamp": ts - 2000, "messageEncoding": "UCS2", "messageType": "TRANSACTIONAL",
        "messageStatus": status, "messageStatusDescription": f"Message {status.lower()}",
        "totalMessageParts": 2, "totalCarrierFee": 0.0,
    }
    if price is not None:
        record["totalMessagePrice"] = price
    if context is not None:
        record["context"] = context
    return record


def catalogue(now_ms: int) -> list[Generated]:
    """Every event type from every source that publishes it, timestamped within the last few days."""
    t = now_ms - 2 * DAY_MS
    jose, ines = "Jose.Muller@example.com", "inés@example.org"
    events = [
        # Pinpoint email
        Generated("pinpoint", "email_send", pinpoint_email("_email.send", t, "pp-1", jose),
                  {"message_id": "pp-1", "campaign_id": "campaign-a", "treatment_id": "0", "subject":
                   "Ofertas de noviembre para José Müller", "recipients": [jose], "endpoint_id": "endpoint-1",
                   "application_id": APP_ID, "event_source": "pinpoint", "from_address": "news@shop.example.com"}),
        Generated("pinpoint", "email_delivered", pinpoint_email(
            "_email.delivered", t + 1000, "pp-1", jose,
            section={"delivery": {"smtp_response": "250 ok", "recipients": [jose]}}),
            {"message_id": "pp-1", "recipients": [jose]}),
        Generated("pinpoint", "email_open", pinpoint_email(
            "_email.open", t + 60_000, "pp-1", jose,
            section={"open": {"user_agent": "Mozilla/5.0 (iPhone)", "ip_address": "192.0.2.10"}}),
            {"message_id": "pp-1", "user_agent": "Mozilla/5.0 (iPhone)", "ip_address": "192.0.2.10"}),
        Generated("pinpoint", "email_click", pinpoint_email(
            "_email.click", t + 90_000, "pp-1", jose,
            section={"click": {"link": "https://shop.example.com/offers?ref=é", "user_agent": "Mozilla/5.0",
                               "ip_address": "192.0.2.10"}}),
            {"link": "https://shop.example.com/offers?ref=é", "user_agent": "Mozilla/5.0"}),
        Generated("pinpoint", "email_unsubscribe", pinpoint_email("_email.unsubscribe", t + 99_000, "pp-1", jose),
                  {"message_id": "pp-1", "campaign_id": "campaign-a"}),
        Generated("pinpoint", "email_hardbounce", pinpoint_email(
            "_email.hardbounce", t + 2000, "pp-2", "Gone.Person@example.net",
            section={"bounce": {"bounce_type": "Permanent", "bounce_sub_type": "General", "bounced_recipients": [
                {"email_address": "Gone.Person@example.net", "status": "5.1.1", "action": "failed",
                 "diagnostic_code": "smtp; 550 5.1.1 user unknown"}]}}),
            {"recipient": "Gone.Person@example.net", "bounce_type": "Permanent", "status": "5.1.1",
             "diagnostic_code": "smtp; 550 5.1.1 user unknown"}),
        # No bounce detail at all: the message's destination is the affected recipient.
        Generated("pinpoint", "email_softbounce", pinpoint_email("_email.softbounce", t + 3000, "pp-3", ines),
                  {"recipient": ines, "bounce_type": None, "status": None, "diagnostic_code": None}),
        Generated("pinpoint", "email_complaint", pinpoint_email(
            "_email.complaint", t + 4000, "pp-4", ines, campaign=None, subject=None,
            section={"complaint": {"complaint_feedback_type": "abuse",
                                   "complained_recipients": [{"email_address": ines}]}}),
            {"recipient": ines, "complaint_feedback_type": "abuse", "campaign_id": None, "subject": None}),
        Generated("pinpoint", "email_rejected", pinpoint_email("_email.rejected", t + 5000, "pp-5", ines),
                  {"message_id": "pp-5"}),
        # Delivered to the same person, never opened.
        Generated("pinpoint", "email_delivered", pinpoint_email("_email.delivered", t + 7000, "pp-6", jose),
                  {"message_id": "pp-6", "recipients": [jose]}),
        # Pinpoint SMS
        Generated("pinpoint", "sms_buffered", pinpoint_sms("_SMS.BUFFERED", t, "pp-sms-1", "SUCCESSFUL"),
                  {"message_id": "pp-sms-1", "record_status": "SUCCESSFUL", "price_usd": 0.00645,
                   "message_parts": 1, "destination_number": "+14255550123", "campaign_id": "campaign-sms",
                   "treatment_id": "1"}),
        Generated("pinpoint", "sms_success", pinpoint_sms("_SMS.SUCCESS", t + 5000, "pp-sms-1", "DELIVERED"),
                  {"record_status": "DELIVERED", "iso_country_code": "US"}),
        Generated("pinpoint", "sms_failure", pinpoint_sms("_SMS.FAILURE", t, "pp-sms-2", "UNREACHABLE",
                                                          price_millicents=None),
                  {"record_status": "UNREACHABLE", "price_usd": None}),
        Generated("pinpoint", "sms_optout", pinpoint_sms("_SMS.OPTOUT", t, "pp-sms-3", "OPTED_OUT"),
                  {"record_status": "OPTED_OUT", "message_id": "pp-sms-3"}),
        # Pinpoint campaign and journey
        Generated("pinpoint", "campaign_send", pinpoint(
            "_campaign.send", t, endpoint="endpoint-1", metrics={"number_of_messages": 1.0},
            attributes={"campaign_id": "campaign-a", "campaign_activity_id": "activity-1", "treatment_id": "0",
                        "campaign_send_status": "SUCCESS", "delivery_type": "EMAIL", "campaign_type": "SCHEDULED"}),
            {"campaign_id": "campaign-a", "treatment_id": "0", "delivery_type": "EMAIL", "send_status": "SUCCESS",
             "endpoint_id": "endpoint-1", "campaign_activity_id": "activity-1"}),
        Generated("pinpoint", "journey_send", pinpoint(
            "_journey.send", t, endpoint="endpoint-2",
            attributes={"journey_id": "journey-1", "journey_activity_id": "welcome", "journey_run_id": "run-1",
                        "journey_send_status": "SUCCESS", "journey_activity_type": "EMAIL"}),
            {"journey_id": "journey-1", "journey_activity_id": "welcome", "journey_run_id": "run-1",
             "send_status": "SUCCESS", "delivery_type": "EMAIL", "endpoint_id": "endpoint-2"}),
        # A custom application event: in the table, in no view.
        Generated("pinpoint", None, pinpoint("webinar.registration", t, attributes={"webinar": "w-42"})),
        # SES configuration set, straight to Firehose
        Generated("ses", "email_send", ses("Send", t, "ses-1", [jose, ines], detail={"send": {}}),
                  {"message_id": "ses-1", "recipients": [jose, ines], "campaign_id": "campaign-a",
                   "from_address": "news@shop.example.com", "event_source": "ses", "endpoint_id": None}),
        Generated("ses", "email_delivered", ses("Delivery", t + 500, "ses-1", [jose, ines], detail={
            "delivery": {"timestamp": iso(t + 700), "processingTimeMillis": 700, "recipients": [jose],
                         "smtpResponse": "250 2.6.0 Message received"}}),
            {"recipients": [jose]}),
        Generated("ses", "email_open", ses("Open", t + 5000, "ses-1", [jose, ines], detail={
            "open": {"timestamp": iso(t + 5000), "userAgent": "Mozilla/5.0 (Windows)", "ipAddress": "198.51.100.7"}}),
            {"user_agent": "Mozilla/5.0 (Windows)", "ip_address": "198.51.100.7"}),
        Generated("ses", "email_click", ses("Click", t + 6000, "ses-1", [jose, ines], detail={
            "click": {"timestamp": iso(t + 6000), "link": "https://shop.example.com/", "userAgent": "Mozilla/5.0",
                      "ipAddress": "198.51.100.7", "linkTags": {"campaign": ["nov"]}}}),
            {"link": "https://shop.example.com/"}),
        Generated("ses", "email_hardbounce", ses("Bounce", t + 700, "ses-2", ["a@example.com", "b@example.com"],
                                                 detail={"bounce": {
            "bounceType": "Permanent", "bounceSubType": "NoEmail", "timestamp": iso(t + 700),
            "feedbackId": "fb-1", "bouncedRecipients": [
                {"emailAddress": "a@example.com", "action": "failed", "status": "5.1.1",
                 "diagnosticCode": "smtp; 550 5.1.1 no such user"},
                {"emailAddress": "b@example.com", "action": "failed", "status": "5.1.1"}]}}),
            {"bounce_type": "Permanent", "bounce_subtype": "NoEmail"}, rows_in_view=2),
        Generated("ses", "email_softbounce", ses("Bounce", t + 800, "ses-3", [ines], detail={"bounce": {
            "bounceType": "Transient", "bounceSubType": "MailboxFull", "timestamp": iso(t + 800),
            "feedbackId": "fb-2", "bouncedRecipients": [{"emailAddress": ines, "status": "4.2.2"}]}}),
            {"recipient": ines, "bounce_subtype": "MailboxFull", "status": "4.2.2", "action": None}),
        Generated("ses", "email_complaint", ses("Complaint", t + 900, "ses-4", [ines], detail={"complaint": {
            "timestamp": iso(t + 900), "feedbackId": "fb-3", "complaintFeedbackType": "abuse",
            "complainedRecipients": [{"emailAddress": ines}], "userAgent": "Yahoo"}}),
            {"recipient": ines, "complaint_feedback_type": "abuse"}),
        Generated("ses", "email_unsubscribe", ses("Subscription", t + 950, "ses-1", [jose], detail={
            "subscription": {"contactList": "news", "timestamp": iso(t + 950), "source": "UnsubscribeHeader",
                             "newTopicPreferences": {"unsubscribeAll": True}}}),
            {"message_id": "ses-1"}),
        Generated("ses", "email_rejected", ses("Reject", t, "ses-5", [ines],
                                               detail={"reject": {"reason": "Bad content"}}),
                  {"reject_reason": "Bad content"}),
        Generated("ses", "email_rendering_failure", ses("Rendering Failure", t, "ses-6", [jose], subject=None, detail={
            "failure": {"templateName": "Welcome", "errorMessage": "Attribute 'name' is not present"}}),
            {"template_name": "Welcome", "error_message": "Attribute 'name' is not present", "subject": None}),
        Generated("ses", "email_delivery_delay", ses("DeliveryDelay", t + 300, "ses-7", [ines], detail={
            "deliveryDelay": {"timestamp": iso(t + 300), "delayType": "MailboxFull", "expirationTime": iso(t + DAY_MS),
                              "delayedRecipients": [{"emailAddress": ines, "status": "4.2.2",
                                                     "diagnosticCode": "smtp; 452 4.2.2 over quota"}]}}),
            {"recipient": ines, "delay_type": "MailboxFull", "diagnostic_code": "smtp; 452 4.2.2 over quota"}),
        # End User Messaging SMS configuration set
        Generated("sms", "sms_buffered", sms_v2("TEXT_PENDING", t, "sms-1", "PENDING", context={"order": "A-1"}),
                  {"message_id": "sms-1", "record_status": "PENDING", "context": {"order": "A-1"},
                   "destination_number": "+447700900123", "message_parts": 2, "price_usd": 0.0401}),
        Generated("sms", "sms_success", sms_v2("TEXT_DELIVERED", t + 4000, "sms-1", "DELIVERED",
                                               context={"order": "A-1"}),
                  {"record_status": "DELIVERED", "status_description": "Message delivered", "iso_country_code": "GB"}),
        Generated("sms", "sms_failure", sms_v2("TEXT_CARRIER_UNREACHABLE", t, "sms-2", "CARRIER_UNREACHABLE",
                                               price=None),
                  {"record_status": "CARRIER_UNREACHABLE", "price_usd": None, "context": None}),
        # Not documented to happen (End User Messaging refuses such sends at the API), but if it did:
        Generated("sms", "sms_optout", sms_v2("TEXT_BLOCKED", t, "sms-3", "OPTED_OUT"),
                  {"record_status": "OPTED_OUT"}),
    ]
    return events


def outside_the_last_30_days(now_ms: int) -> list[Generated]:
    """A message sent and delivered 40 days ago (in the views, not in what the 30-day example queries count),
    opened 3 days ago: the open counts, dated when it happened, not by the send time Pinpoint stamps on it."""
    t = now_ms - 40 * DAY_MS
    jose = "jose.muller@example.com"
    return [
        Generated("pinpoint", "email_send", pinpoint_email("_email.send", t, "pp-old", jose), {"message_id": "pp-old"}),
        Generated("pinpoint", "email_delivered", pinpoint_email("_email.delivered", t + 1000, "pp-old", jose),
                  {"message_id": "pp-old"}),
        Generated("pinpoint", "email_open", pinpoint_email("_email.open", now_ms - 3 * DAY_MS, "pp-old", jose,
                                                           sent=t), {"message_id": "pp-old"}),
    ]


def stream_test_events(now_ms: int) -> list[bytes]:
    """Dropped by the transformation: Pinpoint's check that a new stream works."""
    return [json.dumps(pinpoint("_test.event_stream", now_ms)).encode()]


def malformed() -> list[bytes]:
    """Records that become ProcessingFailed and go to the error prefix."""
    return [
        b"not json at all",
        b"[1, 2, 3]",
        "{\"event_type\": \"_email.send\", \"name\": \"Jos\xe9\"}".encode("latin-1"),  # not UTF-8
        json.dumps({"hello": "world"}).encode(),                             # no known shape
        json.dumps(pinpoint("_email.send", 0) | {"event_timestamp": "yesterday"}).encode(),
        json.dumps(ses("Bounce", 1_700_000_000_000, "x", ["a@example.com"]) | {"bounce": "no"}).encode(),
        json.dumps(sms_v2("TEXT_DELIVERED", 1, "x", "DELIVERED") | {"eventTimestamp": None}).encode(),
        b'{"event_type": "_email.send", "event_timestamp": NaN}',              # Python reads NaN; it is no time
        json.dumps(pinpoint("_email.send", 10**20)).encode(),               # no date at all
        json.dumps(sms_v2("TEXT_DELIVERED", 1_000, "x", "DELIVERED")).encode(),  # 1970: a timestamp in seconds?
    ]


def day_of_traffic(day_start_ms: int, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """A day's mix of email and SMS events for the benchmark: mostly sends, deliveries and opens."""
    kinds = ["Send"] * 40 + ["Delivery"] * 38 + ["Open"] * 15 + ["Click"] * 5 + ["Bounce"] + ["Complaint"]
    events = []
    for i in range(count):
        ts = day_start_ms + rng.randrange(DAY_MS)
        kind = rng.choice(kinds)
        message_id = f"{day_start_ms}-{i}"
        if i % 10 == 0:
            events.append(sms_v2("TEXT_DELIVERED", ts, message_id, "DELIVERED", to=f"+4477009{i % 100000:05d}"))
            continue
        detail: dict[str, Any] = {}
        if kind == "Bounce":
            detail = {"bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": iso(ts),
                                 "bouncedRecipients": [{"emailAddress": f"user{i}@example.com"}]}}
        elif kind == "Complaint":
            detail = {"complaint": {"timestamp": iso(ts),
                                    "complainedRecipients": [{"emailAddress": f"user{i}@example.com"}]}}
        elif kind in ("Open", "Click"):
            detail = {kind.lower(): {"timestamp": iso(ts), "userAgent": "Mozilla/5.0", "ipAddress": "192.0.2.1",
                                     "link": "https://shop.example.com/"}}
        events.append(ses(kind, ts, message_id, [f"user{i}@example.com"], campaign=f"campaign-{i % 7}",
                          detail=detail))
    return events
