"""The missing-data policy and the time budget, the same for both architectures."""

import threading

import pytest

from due.send_time.lookup import Found, MissingDataPolicy, Recipient, TooLate, apply_policy, within_budget

PEOPLE = [Recipient("1", "a"), Recipient("2", "b"), Recipient("3", "c")]
FOUND = Found(data={"1": {"Offer": "boots"}}, missing={"2"}, late={"3"})


def test_send_without_keeps_everyone_and_adds_nothing_to_those_without_data():
    decided = apply_policy(PEOPLE, FOUND, MissingDataPolicy.SEND_WITHOUT)
    assert [(r.ref, data) for r, data in decided.send] == [("1", {"Offer": "boots"}), ("2", {}), ("3", {})]
    assert decided.skipped == []


def test_use_default_gives_the_default_to_missing_and_late_recipients_only():
    decided = apply_policy(PEOPLE, FOUND, MissingDataPolicy.USE_DEFAULT, {"Offer": "10% off"})
    assert [data for _, data in decided.send] == [{"Offer": "boots"}, {"Offer": "10% off"}, {"Offer": "10% off"}]


def test_use_default_asks_a_default_function_once_and_only_when_needed():
    asked = []
    decided = apply_policy(PEOPLE, FOUND, MissingDataPolicy.USE_DEFAULT, lambda: asked.append(1) or {"x": "y"})
    assert asked == [1] and decided.send[2][1] == {"x": "y"}
    apply_policy(PEOPLE[:1], FOUND, MissingDataPolicy.USE_DEFAULT, lambda: asked.append(2) or {})
    assert asked == [1]


def test_skip_reports_each_recipient_with_why():
    decided = apply_policy(PEOPLE, FOUND, MissingDataPolicy.SKIP)
    assert [r.ref for r, _ in decided.send] == ["1"]
    assert decided.skipped == [(PEOPLE[1], "the store has no data for this recipient (policy Skip)"),
                               (PEOPLE[2], "the store did not answer within the time budget (policy Skip)")]


def test_within_budget_returns_the_answer_or_raises_too_late_and_raises_failures():
    assert within_budget(lambda: 42, 1) == 42
    release = threading.Event()
    with pytest.raises(TooLate):
        within_budget(release.wait, 0.01)
    release.set()
    with pytest.raises(KeyError):
        within_budget(lambda: {}["missing"], 1)
