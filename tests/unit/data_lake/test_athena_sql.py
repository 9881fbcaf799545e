"""The athena/ SQL, executed: generated events -> transformation -> files as Firehose writes them -> DuckDB.

Every view and both example queries run over the same events written as GZIP
JSON and as Parquet, and their answers are compared with what was generated.
"""

import base64
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from due.data_lake import rows, transform_handler
from due_local import engagement_events as ev
from due_local.athena_local import (
    ATHENA_DIR,
    LocalAthena,
    lines_by_partition,
    query_files,
    view_files,
    write_objects,
)

# The views the reference architecture defines, plus SES's own rendering failure and delivery delay.
REQUIRED_VIEWS = {
    "email_send", "email_delivered", "email_open", "email_click", "email_hardbounce", "email_softbounce",
    "email_complaint", "email_unsubscribe", "email_rejected", "email_rendering_failure", "email_delivery_delay",
    "sms_buffered", "sms_success", "sms_failure", "sms_optout", "campaign_send", "journey_send",
}


@dataclass
class Lake:
    athena: LocalAthena
    generated: list[ev.Generated]
    rows: list[dict]
    now: datetime

    def event_id(self, generated: ev.Generated) -> str:
        return rows.to_row(generated.payload, generated.data())["event_id"]


@pytest.fixture(scope="module", params=["JSON", "PARQUET"])
def lake(request, tmp_path_factory) -> Lake:
    now_ms = int(time.time() * 1000)
    generated = ev.catalogue(now_ms) + ev.outside_the_last_30_days(now_ms)
    payloads = [g.data() for g in generated] + ev.stream_test_events(now_ms) + ev.malformed()
    transformed = [transform_handler.transform({"recordId": str(i), "data": base64.b64encode(p).decode()})
                   for i, p in enumerate(payloads)]
    root = tmp_path_factory.mktemp(request.param)
    write_objects(root, lines_by_partition(transformed), request.param)
    athena = LocalAthena().load(root, request.param).create_views()
    table_rows = [rows.to_row(g.payload, g.data()) for g in generated]
    return Lake(athena, generated, table_rows, datetime.fromtimestamp(now_ms / 1000, tz=UTC))


def test_there_is_one_view_per_event_type_the_reference_names():
    assert set(view_files()) == REQUIRED_VIEWS


@pytest.mark.parametrize("name", sorted(view_files()))
def test_each_file_creates_the_view_it_is_named_after_and_reads_maps_safely(name):
    sql = view_files()[name].read_text()
    assert re.search(rf"CREATE OR REPLACE VIEW {name} AS", sql)
    assert "[" not in sql, "a map subscript fails on a missing key in Athena; use element_at"


def test_no_file_repeats_the_references_treament_id_typo():
    for path in [*ATHENA_DIR.rglob("*.sql"), *ATHENA_DIR.parent.joinpath("templates").glob("*.yaml")]:
        assert "treament" not in path.read_text(), path


def test_the_table_holds_every_event_once_and_no_test_or_malformed_record(lake):
    found = lake.athena.query("SELECT event_id, event_type FROM events")
    assert sorted(r["event_id"] for r in found) == sorted(r["event_id"] for r in lake.rows)
    assert not [r for r in found if r["event_type"].startswith("_test.")]


@pytest.mark.parametrize("view", sorted(REQUIRED_VIEWS))
def test_each_view_returns_exactly_its_events_with_the_values_generated(lake, view):
    found = lake.athena.query(f"SELECT * FROM {view}")
    expected = [g for g in lake.generated if g.view == view]
    assert expected, f"no generated event for {view}"
    assert len(found) == sum(g.rows_in_view for g in expected)
    for generated in expected:
        mine = [r for r in found if r["event_id"] == lake.event_id(generated)]
        assert len(mine) == generated.rows_in_view, generated.payload
        if "recipient" in generated.expected:  # views with a row per recipient: check that recipient's row
            mine = [r for r in mine if r["recipient"] == generated.expected["recipient"]]
            assert mine, (view, generated.expected["recipient"])
        for column, value in generated.expected.items():
            assert all(r[column] == value for r in mine), (view, column, mine)


@pytest.mark.parametrize("view", sorted(REQUIRED_VIEWS))
def test_event_time_is_a_timestamp_equal_to_the_events_own(lake, view):
    by_id = {r["event_id"]: r for r in lake.rows}
    for found in lake.athena.query(f"SELECT event_id, event_time, dt FROM {view}"):
        expected = datetime.fromtimestamp(by_id[found["event_id"]]["event_timestamp"] / 1000, tz=UTC)
        assert found["event_time"] == expected
        assert found["dt"] == expected.strftime("%Y-%m-%d")


def test_every_recipient_of_a_bounce_has_its_own_row_with_its_own_diagnosis(lake):
    found = lake.athena.query(
        "SELECT recipient, status, diagnostic_code FROM email_hardbounce WHERE event_source = 'ses' ORDER BY recipient")
    assert found == [
        {"recipient": "a@example.com", "status": "5.1.1", "diagnostic_code": "smtp; 550 5.1.1 no such user"},
        {"recipient": "b@example.com", "status": "5.1.1", "diagnostic_code": None},
    ]


def test_a_missing_map_key_reads_as_null(lake):
    found = lake.athena.query("SELECT element_at(attributes, 'no_such_key') AS missing FROM journey_send")
    assert found == [{"missing": None}]


def test_an_email_opened_weeks_after_it_was_sent_counts_on_the_day_it_was_opened(lake):
    found = lake.athena.query("SELECT event_time, dt FROM email_open WHERE message_id = 'pp-old'")
    opened = lake.now - timedelta(days=3)
    assert [r["dt"] for r in found] == [opened.strftime("%Y-%m-%d")]


def test_campaign_engagement_query_counts_each_campaigns_messages_over_30_days(lake):
    first_day = (lake.now.date() - timedelta(days=30)).isoformat()
    kind = {"_email.send": "sends", "_email.open": "opened", "_email.click": "clicked",
            "_email.hardbounce": "bounced", "_email.softbounce": "bounced", "_email.unsubscribe": "unsubscribed"}
    messages: dict[str, dict[str, set]] = {}
    for row in lake.rows:
        if row["event_type"] in kind and row["campaign_id"] and rows.event_date(row) >= first_day:
            per_kind = messages.setdefault(row["campaign_id"], {k: set() for k in set(kind.values())})
            per_kind[kind[row["event_type"]]].add(row["message_id"])
    expected = [{"campaign_id": campaign, **{k: len(v) for k, v in counts.items()}}
                for campaign, counts in messages.items()]
    expected.sort(key=lambda r: (-r["sends"], r["campaign_id"]))
    assert expected[0]["campaign_id"] == "campaign-a" and expected[0]["sends"] == 2  # the 40-day-old send is out

    found = lake.athena.query(query_files()["campaign_engagement"].read_text())
    assert found == expected


def test_emails_received_by_an_address_query_lists_deliveries_and_whether_each_was_opened(lake):
    found = lake.athena.query(query_files()["emails_received_by_address"].read_text())
    assert [(r["message_id"], r["opened"]) for r in found] == [("pp-6", False), ("pp-1", True), ("ses-1", True)]
    assert {r["subject"] for r in found} == {ev.SUBJECT}
    assert [r["delivered_at"] for r in found] == sorted((r["delivered_at"] for r in found), reverse=True)
