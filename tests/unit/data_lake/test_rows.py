import base64
import copy
import hashlib
import json
import re

import pytest

from due.data_lake import rows
from due.events import BadEvent
from due_local import engagement_events as ev
from due_local.athena_local import table_columns, view_files

NOW = 1_795_000_000_000


def view_event_types() -> dict[str, str]:
    return {name: re.search(r"WHERE event_type = '([^']+)'", path.read_text()).group(1)
            for name, path in view_files().items()}


def row_of(generated: ev.Generated) -> dict:
    return rows.to_row(generated.payload, generated.data())


def test_row_columns_are_the_tables_columns_in_order():
    assert list(rows.COLUMNS) == [name for name, _ in table_columns()]


@pytest.mark.parametrize("generated", ev.catalogue(NOW), ids=lambda g: f"{g.source}-{g.view}")
def test_every_generated_event_is_named_for_its_view_and_keeps_its_source(generated):
    row = row_of(generated)
    assert set(row) == set(rows.COLUMNS)
    assert row["event_source"] == generated.source
    if generated.view:
        assert row["event_type"] == view_event_types()[generated.view]
    else:
        assert row["event_type"] not in view_event_types().values()


@pytest.mark.parametrize(("bounce_type", "event_type"), [
    ("Permanent", "_email.hardbounce"), ("Transient", "_email.softbounce"), ("Undetermined", "_email.softbounce"),
])
def test_ses_bounces_split_into_hard_and_soft_by_bounce_type(bounce_type, event_type):
    event = ev.ses("Bounce", NOW, "m", ["a@example.com"], detail={"bounce": {
        "bounceType": bounce_type, "bounceSubType": "General", "timestamp": ev.iso(NOW),
        "bouncedRecipients": [{"emailAddress": "a@example.com"}]}})
    assert rows.to_row(event, b"x")["event_type"] == event_type


@pytest.mark.parametrize(("sms_event", "status", "event_type"), [
    ("TEXT_PENDING", "PENDING", "_SMS.BUFFERED"),
    ("TEXT_QUEUED", "QUEUED", "_SMS.BUFFERED"),
    ("TEXT_SUCCESSFUL", "SUCCESSFUL", "_SMS.SUCCESS"),
    ("TEXT_DELIVERED", "DELIVERED", "_SMS.SUCCESS"),
    ("TEXT_BLOCKED", "OPTED_OUT", "_SMS.OPTOUT"),
    ("TEXT_BLOCKED", "BLOCKED", "_SMS.FAILURE"),
    ("TEXT_CARRIER_UNREACHABLE", "CARRIER_UNREACHABLE", "_SMS.FAILURE"),
    ("TEXT_TTL_EXPIRED", "TTL_EXPIRED", "_SMS.FAILURE"),
    ("VOICE_COMPLETED", "COMPLETED", "VOICE_COMPLETED"),  # kept in the table under its own name
])
def test_sms_v2_events_are_named_as_pinpoint_named_sms_outcomes(sms_event, status, event_type):
    row = rows.to_row(ev.sms_v2(sms_event, NOW, "m", status), b"x")
    assert (row["event_type"], row["source_event_type"], row["record_status"]) == (event_type, sms_event, status)


def test_prices_are_us_dollars_whatever_the_source():
    pinpoint = rows.to_row(ev.pinpoint_sms("_SMS.SUCCESS", NOW, "m", "DELIVERED", price_millicents=645.0), b"a")
    sms = rows.to_row(ev.sms_v2("TEXT_DELIVERED", NOW, "m", "DELIVERED", price=0.00645), b"b")
    assert pinpoint["price_usd"] == pytest.approx(0.00645)
    assert sms["price_usd"] == pytest.approx(0.00645)


def test_missing_optional_fields_are_null_not_errors():
    bare = ev.pinpoint("_email.open", NOW)  # no facets, attributes or metrics at all
    row = rows.to_row(bare, b"x")
    assert row["event_type"] == "_email.open"
    assert all(row[c] is None for c in ("campaign_id", "treatment_id", "message_id", "subject", "recipients",
                                        "attributes", "metrics", "price_usd"))


def test_treatment_id_is_spelled_right_and_taken_from_the_attributes():
    row = row_of(ev.catalogue(NOW)[0])
    assert row["treatment_id"] == "0"
    assert "treament_id" not in json.dumps(row)


def test_event_id_is_the_same_for_the_same_record_and_differs_otherwise():
    generated = ev.catalogue(NOW)[0]
    assert rows.to_row(generated.payload, generated.data())["event_id"] == hashlib.sha256(
        generated.data()).hexdigest()[:32]
    other = ev.catalogue(NOW)[1]
    assert row_of(generated)["event_id"] != row_of(other)["event_id"]


@pytest.mark.parametrize(("ms", "day"), [
    (1_795_219_199_999, "2026-11-20"),   # 23:59:59.999 UTC
    (1_795_219_200_000, "2026-11-21"),   # midnight UTC
])
def test_the_partition_is_the_utc_date_of_the_event(ms, day):
    row = rows.to_row(ev.sms_v2("TEXT_DELIVERED", ms, "m", "DELIVERED"), b"x")
    assert rows.event_date(row) == day


def test_ses_events_take_the_time_of_the_event_not_of_the_send():
    event = ev.ses("Open", NOW, "m", ["a@example.com"], detail={"open": {"timestamp": ev.iso(NOW + 5000)}})
    assert rows.to_row(event, b"x")["event_timestamp"] == NOW + 5000


@pytest.mark.parametrize("payload", [
    {"hello": "world"},
    {"eventType": "Received", "mail": {"messageId": "m", "destination": ["a@example.com"],
                                        "timestamp": "2026-11-20T00:00:00Z"}},
    {"eventType": "Open", "mail": {"messageId": "m", "destination": ["a@example.com"], "timestamp": "soon"}},
    {"eventType": "", "destinationPhoneNumber": "+14255550100", "eventTimestamp": 1},
])
def test_what_is_no_known_event_is_refused_with_a_reason(payload):
    with pytest.raises(BadEvent):
        rows.to_row(payload, base64.b64encode(json.dumps(payload).encode()))


def test_a_bounce_naming_no_usable_recipient_falls_back_to_the_messages_destination():
    event = ev.pinpoint_email("_email.hardbounce", NOW, "m", "a@example.com",
                              section={"bounce": {"bounced_recipients": [{"status": "5.1.1"}, "garbage"]}})
    row = rows.to_row(event, b"x")
    assert (row["recipients"], row["recipient_details"]) == (["a@example.com"], None)


def test_numbers_that_would_break_the_output_are_null():
    event = ev.sms_v2("TEXT_DELIVERED", NOW, "m", "DELIVERED", price=float("nan")) | {"totalMessageParts": 2**40}
    row = rows.to_row(event, b"x")
    assert (row["price_usd"], row["message_parts"]) == (None, None)
    pinpoint = rows.to_row(ev.pinpoint("_custom.event", NOW, metrics={"a": float("inf"), "b": 2}), b"y")
    assert pinpoint["metrics"] == {"b": 2.0}
    json.dumps(row, allow_nan=False)  # valid JSON for Firehose's Parquet converter


@pytest.mark.parametrize("timestamp", [1_000, 10**20, float("nan")])
def test_a_timestamp_that_names_no_day_of_this_century_is_refused(timestamp):
    with pytest.raises(BadEvent):
        rows.to_row(ev.pinpoint("_email.send", timestamp), b"x")


def _paths(value, prefix=()):
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield (*prefix, key)
        yield from _paths(inner, (*prefix, key))


@pytest.mark.parametrize("generated", ev.catalogue(NOW), ids=lambda g: f"{g.source}-{g.view}")
def test_any_field_of_the_wrong_type_gives_a_row_or_badevent_never_a_crash(generated):
    """A crash would fail the whole Firehose batch; a BadEvent fails only this record."""
    for path in _paths(generated.payload):
        for wrong in (None, [], {}, "x", 1, True, [1], {"a": 1}, float("nan")):
            event = copy.deepcopy(generated.payload)
            parent = event
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = wrong
            try:
                row = rows.to_row(event, b"x")
            except BadEvent:
                continue
            json.dumps(row, allow_nan=False)


def test_arrival_is_pinpoints_own_when_it_reports_one_else_firehoses():
    with_arrival = ev.pinpoint("_email.send", NOW)
    without_arrival = {k: v for k, v in with_arrival.items() if k != "arrival_timestamp"}
    assert rows.to_row(with_arrival, b"a", arrival_ms=NOW + 9)["arrival_timestamp"] == NOW + 350
    assert rows.to_row(without_arrival, b"b", arrival_ms=NOW + 9)["arrival_timestamp"] == NOW + 9
    assert rows.to_row(ev.sms_v2("TEXT_DELIVERED", NOW, "m", "DELIVERED"), b"c", arrival_ms=NOW + 9)[
        "arrival_timestamp"] == NOW + 9


def test_pinpoint_email_engagement_is_dated_by_its_arrival_not_by_the_send_pinpoint_stamps_on_it():
    sent, opened = NOW - 20 * ev.DAY_MS, NOW - 60_000
    open_event = ev.pinpoint_email("_email.open", opened, "m", "a@example.com", sent=sent)
    assert open_event["event_timestamp"] == sent  # as in AWS's example: every event of a message carries the send
    assert rows.to_row(open_event, b"o")["event_timestamp"] == opened
    send = ev.pinpoint_email("_email.send", sent, "m", "a@example.com")
    assert rows.to_row(send, b"s")["event_timestamp"] == sent


def test_a_pinpoint_email_event_without_its_own_arrival_is_dated_by_firehoses():
    event = ev.pinpoint_email("_email.click", NOW, "m", "a@example.com", sent=NOW - ev.DAY_MS)
    del event["arrival_timestamp"]
    assert rows.to_row(event, b"c", arrival_ms=NOW + 5)["event_timestamp"] == NOW + 5


@pytest.mark.parametrize(("written", "stored"), [
    ("Example Shop <news@shop.example.com>", "news@shop.example.com"),
    ('"Shop, Example" <News@Shop.example.com>', "News@Shop.example.com"),
    ("news@shop.example.com", "news@shop.example.com"),
    ("", None),
])
def test_the_from_address_is_stored_bare_whatever_the_source_wrote(written, stored):
    ses = ev.ses("Send", NOW, "m", ["a@example.com"], detail={"send": {}})
    ses["mail"]["source"] = written
    pinpoint = ev.pinpoint_email("_email.send", NOW, "m", "a@example.com")
    pinpoint["facets"]["email_channel"]["mail_event"]["mail"]["from_address"] = written
    assert rows.to_row(ses, b"s")["from_address"] == stored
    assert rows.to_row(pinpoint, b"p")["from_address"] == stored


@pytest.mark.parametrize(("event_ms", "accepted"), [
    (rows.EARLIEST_MS - 1, False),                  # 2019-12-31: before the first projected partition
    (rows.EARLIEST_MS, True),
    (NOW + ev.DAY_MS, True),                        # tomorrow: within NOW+1DAYS
    (NOW + 2 * ev.DAY_MS, False),                   # the day after tomorrow: no partition yet
])
def test_only_events_dated_within_the_projected_partitions_make_rows(event_ms, accepted):
    event = ev.sms_v2("TEXT_DELIVERED", event_ms, "m", "DELIVERED")
    if accepted:
        assert rows.to_row(event, b"x", arrival_ms=NOW)["event_timestamp"] == event_ms
    else:
        with pytest.raises(BadEvent, match="outside the table's partitions"):
            rows.to_row(event, b"x", arrival_ms=NOW)
