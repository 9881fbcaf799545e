"""Rows and hook endpoints become calls; numbers, countries and the calling window are checked."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from due.connect_channel.hook import requests_of
from due.connect_channel.requests import ROW_FORMAT, CallRequest
from due.connect_channel.rules import CallRules
from due.events import BadEvent

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "connect_as_a_channel"
SMS_HEADER = ["sms_number", "message", "external_campaign_id", "short_code", "message_type", "id_1", "id_2"]


def test_the_sms_drop_format_is_a_voice_drop():
    ROW_FORMAT.check_header(SMS_HEADER)
    parse = ROW_FORMAT.parser(SMS_HEADER)
    request = parse("b/k@v", 3, ["+14255550101", " Hello, there ", "c", "+18445550100", "TRANSACTIONAL", "p-1", ""])
    assert (request.number, request.message, request.external_id) == ("+14255550101", " Hello, there ", "p-1")
    assert request.attributes == {"external_campaign_id": "c", "short_code": "+18445550100",
                                  "message_type": "TRANSACTIONAL"}
    assert request.message_group_id == "+14255550101"
    assert CallRequest.from_json(request.to_json()) == request


def test_columns_are_found_however_the_file_spells_them():
    header = ["Phone Number", "Time-Zone", "First Name!", "External ID"]
    ROW_FORMAT.check_header(header)
    request = ROW_FORMAT.parser(header)("f", 1, ["+14255550101", "Europe/Paris", "Ana", "x-9"])
    assert (request.time_zone, request.external_id, request.message) == ("Europe/Paris", "x-9", "")
    assert request.attributes == {"First_Name": "Ana"}  # Connect: letters, digits, - and _ only
    with pytest.raises(ValueError, match="no phone number column"):
        ROW_FORMAT.check_header(["email", "message"])


def test_bad_rows_say_why_without_their_content():
    parse = ROW_FORMAT.parser(["phone", "message"])
    assert parse("f", 1, ["+14255550101"]) == "expected 2 columns, found 1"
    assert parse("f", 2, ["  ", "hi"]) == "the phone number is empty"
    assert "32768 bytes" in parse("f", 3, ["+14255550101", "x" * 32_800])


def test_the_same_row_of_the_same_file_is_the_same_call_and_nothing_else_is():
    parse = ROW_FORMAT.parser(["phone", "message"])
    one = parse("b/k@v1", 1, ["+14255550101", "hi"])
    assert one.deduplication_id == parse("b/k@v1", 1, ["+14255550101", "other words"]).deduplication_id
    others = [parse("b/k@v2", 1, ["+14255550101", "hi"]), parse("b/k@v1", 2, ["+14255550101", "hi"]),
              parse("b/k@v1", 1, ["+14255550102", "hi"])]
    assert one.deduplication_id not in {o.deduplication_id for o in others}


@pytest.mark.parametrize(("number", "outcome"), [
    ("+14255550101", None), ("+16135550101", None),  # US, CA
    ("14255550101", "invalid number"), ("+1 425 555 0101", "invalid number"), ("+1425", "invalid number"),
    ("+33142685300", "refused"), ("+447700900123", "refused")])
def test_numbers_must_be_e164_and_of_an_allowed_country(number, outcome):
    refusal = CallRules(frozenset({"US", "CA"})).refusal(number)
    assert (refusal[0] if refusal else None) == outcome


def test_any_country_when_none_are_listed():
    assert CallRules(frozenset({""})).refusal("+33142685300") is None


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def test_the_calling_window_is_the_recipients_local_hours():
    rules = CallRules(start_hour=9, end_hour=20, default_time_zone="America/New_York")
    assert rules.wait_seconds("", at("2026-11-28T15:00:00+00:00")) == 0  # 10:00 in New York
    assert rules.wait_seconds("America/Los_Angeles", at("2026-11-28T15:00:00+00:00")) == 2 * 3600  # 07:00 there
    assert rules.wait_seconds("Europe/Paris", at("2026-11-28T19:30:00+00:00")) == 12 * 3600 + 30 * 60  # 20:30
    assert rules.wait_seconds("Not/AZone", at("2026-11-28T15:00:00+00:00")) == 0  # the default zone holds


def test_a_window_across_a_daylight_saving_change_counts_real_seconds():
    rules = CallRules(start_hour=9, end_hour=20, default_time_zone="America/New_York")
    # 2026-11-01 02:00 EDT -> 01:00 EST: from 21:00 EDT on Oct 31 to 09:00 EST on Nov 1 is 13 hours.
    assert rules.wait_seconds("", at("2026-11-01T01:00:00+00:00")) == 13 * 3600


def test_the_documented_hook_event_gives_one_call_per_phone_endpoint():
    event = json.loads((EXAMPLES / "pinpoint_hook_event.json").read_text())
    calls, skipped = requests_of(event)
    assert [(c.recipient, c.number, c.message) for c in calls] == [
        ("endpoint-sms-1", "+14255550111", "Your table is ready."),
        ("endpoint-voice-2", "+14255550112", "Your table is ready.")]
    assert calls[0].time_zone == "America/Los_Angeles" and calls[0].attributes == {"FirstName": "Ana"}
    assert [(r.recipient, reason) for r, reason in skipped] == [
        ("endpoint-email-3", "no phone number: a EMAIL endpoint")]
    assert calls[0].file == ("pinpoint/3a9b1f4e6c764ba7b031e7183example/13978104ce5d6017c72552257example/0/"
                             "575cb1929d5ba43e87e2478eeexample")


def test_a_hook_event_takes_the_custom_payload_when_there_is_no_sms_body():
    event = json.loads((EXAMPLES / "pinpoint_hook_event.json").read_text())
    event["Message"] = {}
    event["Data"] = json.dumps({"message": "From the custom payload"})
    assert {c.message for c in requests_of(event)[0]} == {"From the custom payload"}
    event["Endpoints"]["endpoint-sms-1"]["OptOut"] = "ALL"
    event["Endpoints"]["endpoint-voice-2"]["EndpointStatus"] = "INACTIVE"
    assert sorted(reason for _, reason in requests_of(event)[1]) == [
        "no phone number: a EMAIL endpoint", "the endpoint is inactive", "the endpoint opted out (OptOut ALL)"]
    with pytest.raises(BadEvent):
        requests_of({"Records": []})


def test_the_zones_of_a_country_come_from_the_bundled_tzdata_where_the_os_has_none(monkeypatch):
    import zoneinfo

    from due.connect_channel import rules as rules_module

    monkeypatch.setattr(zoneinfo, "TZPATH", ())
    rules_module.zones_by_country.cache_clear()
    try:
        assert {"America/New_York", "America/Los_Angeles"} <= set(rules_module.zones_by_country()["US"])
    finally:
        rules_module.zones_by_country.cache_clear()
