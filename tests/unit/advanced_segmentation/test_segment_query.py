"""The shipped segment SQL, run by DuckDB over the data lake's table as Firehose writes it, and its filling."""

from __future__ import annotations

import base64
import time

import pytest

from due.advanced_segmentation import segment_query
from due.data_lake import transform_handler
from due_local import engagement_events as ev
from due_local.athena_local import ATHENA_DIR, LocalAthena, lines_by_partition, write_objects

DAY = ev.DAY_MS


def opens(now_ms: int) -> list[dict]:
    """Who opened what, and when: the expected answer is written beside each."""
    return [
        # ana: three messages opened in the last 30 days (one twice: counts once) -> in with 3
        ev.ses("Open", now_ms - 1 * DAY, "m-1", ["Ana@Example.com"]),
        ev.ses("Open", now_ms - 1 * DAY + 60_000, "m-1", ["ana@example.com"]),
        ev.ses("Open", now_ms - 2 * DAY, "m-2", ["ana@example.com"]),
        ev.pinpoint_email("_email.open", now_ms - 3 * DAY, "pp-3", "ana@example.com"),
        # bo: one recent open, one 40 days ago -> out (only 1 in the window)
        ev.ses("Open", now_ms - 5 * DAY, "m-4", ["bo@example.com"]),
        ev.ses("Open", now_ms - 40 * DAY, "m-5", ["bo@example.com"]),
        # cy and dee opened messages sent to both of them: not attributable -> out
        ev.ses("Open", now_ms - 1 * DAY, "m-6", ["cy@example.com", "dee@example.com"]),
        ev.ses("Open", now_ms - 2 * DAY, "m-7", ["cy@example.com", "dee@example.com"]),
        # élise: two Pinpoint opens -> in with 2
        ev.pinpoint_email("_email.open", now_ms - 4 * DAY, "pp-8", "élise@example.com"),
        ev.pinpoint_email("_email.open", now_ms - 6 * DAY, "pp-9", "élise@example.com"),
        # endpoint-9: two Pinpoint opens, the address changed in between -> one row, the latest address
        ev.pinpoint_email("_email.open", now_ms - 4 * DAY, "pp-12", "old@example.com", endpoint="endpoint-9"),
        ev.pinpoint_email("_email.open", now_ms - 2 * DAY, "pp-13", "new@example.com", endpoint="endpoint-9"),
        # gus: one open today, one exactly 30 UTC dates ago -> out (the last 30 dates are today and the 29 before)
        ev.ses("Open", now_ms, "m-14", ["gus@example.com"]),
        ev.ses("Open", now_ms - 30 * DAY, "m-15", ["gus@example.com"]),
        # fay: two deliveries, no open -> out
        ev.ses("Delivery", now_ms - 1 * DAY, "m-10", ["fay@example.com"]),
        ev.ses("Delivery", now_ms - 1 * DAY, "m-11", ["fay@example.com"]),
    ]


@pytest.fixture(scope="module", params=["JSON", "PARQUET"])
def athena(request, tmp_path_factory) -> LocalAthena:
    now_ms = int(time.time() * 1000)
    payloads = [ev.Generated("x", None, p).data() for p in opens(now_ms)] + [g.data() for g in ev.catalogue(now_ms)]
    transformed = [transform_handler.transform({"recordId": str(i), "data": base64.b64encode(p).decode()})
                   for i, p in enumerate(payloads)]
    root = tmp_path_factory.mktemp(request.param)
    write_objects(root, lines_by_partition(transformed), request.param)
    return LocalAthena().load(root, request.param).create_views()


def test_every_shipped_segment_query_is_a_single_select_over_the_table_placeholder():
    files = sorted((ATHENA_DIR / "segments").glob("*.sql"))
    assert [f.stem for f in files] == ["email_openers", "endpoint_openers", "nobody"]
    for path in files:
        assert "${table}" in path.read_text()


def test_email_openers_returns_the_people_who_opened_at_least_n_emails_in_m_days_in_key_order(athena):
    found = athena.query(segment_query.load("email_openers", "events", {"minimum_opens": "2", "days": "30"}))
    mine = [r for r in found if r["email"] in {"ana@example.com", "bo@example.com", "cy@example.com",
                                               "dee@example.com", "élise@example.com", "fay@example.com",
                                               "gus@example.com"}]
    assert [(r["email"], r["opens"]) for r in mine] == [("ana@example.com", 3), ("élise@example.com", 2)]
    assert [r["email"] for r in found] == sorted(r["email"] for r in found)  # the walk's order
    assert list(found[0]) == ["email", "opens", "last_opened_on"]


def test_the_window_and_the_threshold_are_the_values_given(athena):
    one_in_60 = athena.query(segment_query.load("email_openers", "events", {"minimum_opens": "1", "days": "60"}))
    assert {"bo@example.com": 2}.items() <= {r["email"]: r["opens"] for r in one_in_60}.items()
    three = athena.query(segment_query.load("email_openers", "events", {"minimum_opens": "3", "days": "30"}))
    assert "élise@example.com" not in {r["email"] for r in three}


def test_endpoint_openers_returns_each_endpoint_once_in_key_order_for_pinpoint_mode(athena):
    found = athena.query(segment_query.load("endpoint_openers", "events", {"minimum_opens": "2", "days": "30"}))
    by_endpoint = {r["endpoint_id"]: r for r in found}
    assert len(by_endpoint) == len(found)
    assert [r["endpoint_id"] for r in found] == sorted(by_endpoint)
    assert (by_endpoint["endpoint-9"]["email"], by_endpoint["endpoint-9"]["opens"]) == ("new@example.com", 2)
    assert list(found[0]) == ["endpoint_id", "email", "opens", "last_opened_on"]


def test_nobody_returns_a_header_and_no_rows_for_a_last_run_before_removal(athena):
    assert athena.query(segment_query.load("nobody", "events", {})) == []
    assert segment_query.parse_values("") == {}  # QueryValues empty, as nobody takes no value


def test_values_are_checked_before_they_reach_sql():
    with pytest.raises(segment_query.QueryRefused, match="needs a value for days"):
        segment_query.load("email_openers", "events", {"minimum_opens": "2"})
    with pytest.raises(segment_query.QueryRefused, match="no placeholder for colour"):
        segment_query.load("email_openers", "events", {"minimum_opens": "2", "days": "3", "colour": "red"})
    with pytest.raises(segment_query.QueryRefused, match="only letters"):
        segment_query.parse_values("days=3' OR '1'='1")
    with pytest.raises(segment_query.QueryRefused, match="table must be"):
        segment_query.load("email_openers", "events; DROP TABLE x", {"minimum_opens": "2", "days": "3"})
    with pytest.raises(segment_query.QueryRefused, match="no segment query"):
        segment_query.load("nope", "events", {})
    with pytest.raises(segment_query.QueryRefused, match="given twice"):
        segment_query.parse_values("days=1,days=2")
    assert segment_query.parse_values(" minimum_opens=2 , days=30 ") == {"minimum_opens": "2", "days": "30"}
