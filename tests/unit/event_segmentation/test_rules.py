"""Rules as data: the seed rules, every action and condition, refused rule sets, one change per person."""

from __future__ import annotations

import json

import pytest

from due.event_segmentation.events import EngagementEvent, Person
from due.event_segmentation.rules import (
    Mode,
    RuleSetError,
    changes_for,
    default_rules,
    endpoint_batches,
    load_rules,
)

ANA = Person(email="ana@example.com")


def event(event_type: str, person: Person = ANA, **attributes) -> EngagementEvent:
    return EngagementEvent(event_type, person, "2024-05-01T10:00:00.000Z", attributes,
                           {"link": "https://example.com/pricing?x=1"})


def rule_set(*rules: dict, mode: Mode = Mode.PROFILES):
    return load_rules(json.dumps({"rules": list(rules)}), mode)


# --- the seed rules ---------------------------------------------------------------------------------------

def test_seed_email_open_sets_email_opened():
    changes = changes_for([event("_email.open")], default_rules())
    assert changes.by_person["email:ana@example.com"].attributes == {"email_opened": "true"}


def test_seed_webinar_registration_is_one_attribute_per_webinar_in_the_current_mode():
    changes = changes_for([event("webinar.registration", webinar_id="webinar5"),
                           event("webinar.registration", webinar_id="Webinar 6")], default_rules())
    assert changes.by_person["email:ana@example.com"].attributes == {
        "webinar_registration_webinar5": "true", "webinar_registration_webinar_6": "true"}


def test_seed_webinar_registration_keeps_earlier_ones_in_a_duplicate_free_list_in_pinpoint_mode():
    endpoint = Person(endpoint_id="ep-1")
    rules = default_rules(Mode.PINPOINT)
    changes = changes_for([event("webinar.registration", endpoint, webinar_id="webinar5"),
                           event("webinar.registration", endpoint, webinar_id="webinar5")], rules,
                          current={"endpoint_id:ep-1": {"webinar_registration": ["webinar2"]}})
    assert changes.by_person["endpoint_id:ep-1"].attributes == {"webinar_registration": ["webinar2", "webinar5"]}


def test_seed_registration_without_a_webinar_id_is_refused_with_the_rule_and_path():
    changes = changes_for([event("webinar.registration")], default_rules())
    [refused] = changes.refused
    assert (refused.position, refused.rule) == (0, "rule 2 ('webinar registration')")
    assert "attributes.webinar_id" in refused.reason
    assert changes.by_person == {}


def test_events_no_rule_names_are_counted_as_unmatched():
    changes = changes_for([event("_email.delivered"), event("_email.open")], default_rules())
    assert (changes.unmatched, len(changes.by_person)) == (1, 1)


# --- custom rules: actions ----------------------------------------------------------------------------------

def test_set_from_a_path_takes_the_events_value():
    rules = rule_set({"event_type": "_email.click", "set": {"attribute": "last_click", "from": "timestamp"}})
    assert changes_for([event("_email.click")], rules).by_person["email:ana@example.com"].attributes == {
        "last_click": "2024-05-01T10:00:00.000Z"}


def test_remove_writes_the_empty_string_that_removes_the_attribute():
    rules = rule_set({"event_type": "webinar.cancel",
                      "remove": {"attribute": "webinar_registration", "from": "attributes.webinar_id"}})
    changes = changes_for([event("webinar.cancel", webinar_id="webinar5")], rules)
    assert changes.by_person["email:ana@example.com"].attributes == {"webinar_registration_webinar5": ""}


def test_remove_in_pinpoint_mode_drops_the_value_from_the_list():
    rules = rule_set({"event_type": "webinar.cancel",
                      "remove": {"attribute": "webinar_registration", "value": "webinar5"}}, mode=Mode.PINPOINT)
    changes = changes_for([event("webinar.cancel", Person(endpoint_id="ep-1"))], rules,
                          current={"endpoint_id:ep-1": {"webinar_registration": ["webinar2", "webinar5"]}})
    assert changes.by_person["endpoint_id:ep-1"].attributes == {"webinar_registration": ["webinar2"]}


def test_count_goes_on_from_the_current_value_once_per_event():
    rules = rule_set({"event_type": "_email.click", "count": {"attribute": "email_clicks"}})
    assert rules.needs_current()
    changes = changes_for([event("_email.click")] * 3, rules, current={"email:ana@example.com": {"email_clicks": "4"}})
    assert changes.by_person["email:ana@example.com"].attributes == {"email_clicks": "7"}


def test_count_of_a_person_without_a_profile_starts_at_one():
    rules = rule_set({"event_type": "_email.click", "count": {"attribute": "email_clicks"}})
    changes = changes_for([event("_email.click")], rules, current={"email:ana@example.com": {}})
    assert changes.by_person["email:ana@example.com"].attributes == {"email_clicks": "1"}


def test_count_over_a_value_that_is_not_a_number_refuses_the_event():
    rules = rule_set({"event_type": "_email.click", "count": {"attribute": "email_clicks"}})
    changes = changes_for([event("_email.click")], rules, current={"email:ana@example.com": {"email_clicks": "x"}})
    assert "not a whole number" in changes.refused[0].reason


def test_count_without_the_current_attributes_is_a_programming_error_not_a_guess():
    rules = rule_set({"event_type": "_email.click", "count": {"attribute": "email_clicks"}})
    with pytest.raises(ValueError, match="needs the person's current attributes"):
        changes_for([event("_email.click")], rules)


def test_create_profile_is_carried_to_the_change_and_off_by_default():
    rules = rule_set({"event_type": "signup", "create_profile": True, "set": {"attribute": "signed_up",
                                                                              "value": True}},
                     {"event_type": "_email.open", "set": {"attribute": "email_opened", "value": "true"}})
    changes = changes_for([event("signup"), event("_email.open", Person(email="bo@example.com"))], rules)
    assert changes.by_person["email:ana@example.com"].create_profile is True
    assert changes.by_person["email:ana@example.com"].attributes == {"signed_up": "true"}
    assert changes.by_person["email:bo@example.com"].create_profile is False


# --- custom rules: conditions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("condition", "applies"), [
    ({"path": "attributes.plan", "equals": "pro"}, True),
    ({"path": "attributes.plan", "equals": "team"}, False),
    ({"path": "attributes.plan", "in": ["team", "pro"]}, True),
    ({"path": "attributes.plan", "in": ["team"]}, False),
    ({"path": "attributes.plan", "exists": True}, True),
    ({"path": "attributes.missing", "exists": True}, False),
    ({"path": "attributes.missing", "exists": False}, True),
    ({"path": "detail.link", "matches": "/pricing"}, True),
    ({"path": "detail.link", "matches": "^/pricing"}, False),
    ({"path": "attributes.missing", "matches": ".*"}, False),
    ({"path": "attributes.seats", "equals": 3}, True),
    ({"path": "attributes.trial", "equals": True}, True),
    ({"path": "attributes.nested.level", "equals": "gold"}, True),
    ({"path": "person.email", "matches": "@example\\.com$"}, True),
])
def test_a_condition_decides_whether_the_rule_applies(condition, applies):
    rules = rule_set({"event_type": "_email.click", "when": [condition],
                      "set": {"attribute": "clicked", "value": "true"}})
    changes = changes_for([event("_email.click", plan="pro", seats=3, trial=True, nested={"level": "gold"})], rules)
    assert bool(changes.by_person) is applies
    assert changes.unmatched == (0 if applies else 1)


def test_every_matching_rule_applies_in_rule_set_order():
    rules = rule_set({"name": "first", "event_type": "_email.click", "set": {"attribute": "a", "value": "1"}},
                     {"name": "second", "event_type": "_email.click", "set": {"attribute": "a", "value": "2"}})
    assert changes_for([event("_email.click")], rules).by_person["email:ana@example.com"].attributes == {"a": "2"}


# --- people -------------------------------------------------------------------------------------------------

def test_an_event_naming_nobody_is_counted_and_changes_nothing():
    changes = changes_for([event("_email.open", Person()), event("_email.open")], default_rules())
    assert changes.without_person == 1
    assert list(changes.by_person) == ["email:ana@example.com"]


def test_pinpoint_mode_writes_only_to_endpoints():
    changes = changes_for([event("_email.open")], default_rules(Mode.PINPOINT))
    assert (changes.without_person, changes.by_person) == (1, {})


def test_profile_id_is_preferred_to_address_and_number():
    person = Person(email="ana@example.com", phone="+14255550100", profile_id="p-1")
    assert list(changes_for([event("_email.open", person)], default_rules()).by_person) == ["profile_id:p-1"]


# --- coalescing and order -----------------------------------------------------------------------------------

def test_ten_events_of_one_person_are_one_change():
    batch = [event("webinar.registration", webinar_id=f"webinar{n}") for n in range(9)] + [event("_email.open")]
    changes = changes_for(batch, default_rules())
    [change] = changes.by_person.values()
    assert change.events == list(range(10))
    assert len(change.attributes) == 10


def test_one_persons_events_apply_in_order_set_then_remove_is_removed():
    rules = rule_set({"event_type": "webinar.registration",
                      "add": {"attribute": "webinar_registration", "from": "attributes.webinar_id"}},
                     {"event_type": "webinar.cancel",
                      "remove": {"attribute": "webinar_registration", "from": "attributes.webinar_id"}})
    registered_then_cancelled = [event("webinar.registration", webinar_id="w5"),
                                 event("webinar.cancel", webinar_id="w5")]
    cancelled_then_registered = list(reversed(registered_then_cancelled))
    key = "email:ana@example.com"
    assert changes_for(registered_then_cancelled, rules).by_person[key].attributes == {"webinar_registration_w5": ""}
    assert changes_for(cancelled_then_registered, rules).by_person[key].attributes == {
        "webinar_registration_w5": "true"}


def test_a_refused_event_leaves_the_persons_other_events_applied():
    batch = [event("_email.open"), event("webinar.registration"), event("webinar.registration", webinar_id="w1")]
    changes = changes_for(batch, default_rules())
    assert [refused.position for refused in changes.refused] == [1]
    assert changes.by_person["email:ana@example.com"].events == [0, 2]


def test_list_member_named_like_another_writers_attribute_is_refused_at_event_time():
    rules = rule_set({"event_type": "pref", "add": {"attribute": "sms", "from": "attributes.what"}})
    changes = changes_for([event("pref", what="opt out")], rules)
    assert "'sms_opt_out' belongs to another writer" in changes.refused[0].reason
    assert changes.by_person == {}


def test_value_from_the_event_longer_than_the_mode_takes_is_refused():
    rules = rule_set({"event_type": "_email.click", "set": {"attribute": "last_link", "from": "attributes.link"}},
                     mode=Mode.PINPOINT)
    changes = changes_for([event("_email.click", Person(endpoint_id="e"), link="x" * 101)], rules)
    assert "longer than 100 characters" in changes.refused[0].reason


def test_length_is_counted_as_aws_counts_it_in_utf16_code_units():
    rules = rule_set({"event_type": "_email.click", "set": {"attribute": "note", "from": "attributes.note"}})
    changes = changes_for([event("_email.click", note="\N{GRINNING FACE}" * 128)], rules)  # 128 characters, 256 units
    assert "longer than 255 characters" in changes.refused[0].reason


def test_endpoint_batches_are_one_item_per_endpoint_and_100_a_call():
    batch = [event("_email.open", Person(endpoint_id=f"ep-{n}")) for n in range(250)]
    changes = changes_for(batch + batch, default_rules(Mode.PINPOINT))
    calls = list(endpoint_batches(changes.by_person.values()))
    assert [len(call) for call in calls] == [100, 100, 50]
    assert calls[0][0] == {"Id": "ep-0", "Attributes": {"email_opened": ["true"]}}


# --- rule sets that are refused -----------------------------------------------------------------------------

GOOD = {"name": "ok", "event_type": "_email.open", "set": {"attribute": "email_opened", "value": "true"}}


@pytest.mark.parametrize(("rule", "problem"), [
    ({"name": "r", "event_type": "x", "append": {"attribute": "a", "value": "v"}}, "unknown keys \\['append'\\]"),
    ({"name": "r", "event_type": "x"}, "exactly one action"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "value": "1"}, "count": {"attribute": "b"}},
     "exactly one action"),
    ({"name": "r", "set": {"attribute": "a", "value": "1"}}, "event_type is missing"),
    ({"name": "r", "event_type": "x", "set": {"value": "1"}}, "attribute is missing"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a"}}, "either \"value\""),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "value": "1", "from": "timestamp"}},
     "either \"value\""),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "value": {"k": 1}}}, "value must be text"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "from": "body.text"}}, "does not point into"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "from": "attributes..x"}}, "does not point into"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "from": "attributes"}}, "needs a field"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "from": "timestamp.day"}}, "has no fields"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "from": "person.name"}}, "a person has"),
    ({"name": "r", "event_type": "x", "when": [{"path": "detail.link", "matches": "("}],
      "set": {"attribute": "a", "value": "1"}}, "regular expression does not compile"),
    ({"name": "r", "event_type": "x", "when": [{"path": "detail.link"}],
      "set": {"attribute": "a", "value": "1"}}, "exactly one test"),
    ({"name": "r", "event_type": "x", "when": [{"path": "detail.link", "equals": "a", "exists": True}],
      "set": {"attribute": "a", "value": "1"}}, "exactly one test"),
    ({"name": "r", "event_type": "x", "when": [{"path": "detail.link", "in": []}],
      "set": {"attribute": "a", "value": "1"}}, "non-empty list"),
    ({"name": "r", "event_type": "x", "when": [{"path": "detail.link", "exists": "yes"}],
      "set": {"attribute": "a", "value": "1"}}, "exists takes true or false"),
    ({"name": "r", "event_type": "x", "when": {"path": "detail.link", "exists": True},
      "set": {"attribute": "a", "value": "1"}}, "when must be a list"),
    ({"name": "r", "event_type": "x", "create_profile": "yes", "set": {"attribute": "a", "value": "1"}},
     "create_profile must be true or false"),
    ({"name": "r", "event_type": "x", "count": {"attribute": "a", "value": "1"}}, "count has unknown keys"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "sms_messageable", "value": "true"}},
     "belongs to another writer"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "email_opt_out", "value": "true"}},
     "belongs to another writer"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "customer_id", "value": "1"}},
     "belongs to another writer"),
    ({"name": "r", "event_type": "x", "add": {"attribute": "sms", "value": "opt-out"}}, "belongs to another writer"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a" * 256, "value": "1"}}, "longer than 255"),
    ({"name": "r", "event_type": "x", "set": {"attribute": "a", "value": "v" * 256}}, "longer than 255"),
    ({"name": "r", "event_type": "x", "add": {"attribute": "a", "value": "!!!"}}, "must hold a letter or digit"),
    ({"name": "", "event_type": "x", "set": {"attribute": "a", "value": "1"}}, "name must be non-empty"),
    ({"name": "ok", "event_type": "x", "set": {"attribute": "a", "value": "1"}}, "another rule has this name"),
    ("set email_opened", "must be a JSON object"),
])
def test_an_invalid_rule_is_refused_naming_the_rule_and_the_problem(rule, problem):
    with pytest.raises(RuleSetError, match=problem) as refused:
        rule_set(GOOD, rule)
    assert str(refused.value).startswith("rule 2")
    if isinstance(rule, dict) and rule.get("name"):
        assert f"rule 2 ({rule['name']!r})" in str(refused.value)


@pytest.mark.parametrize(("rule", "problem"), [
    ({"event_type": "x", "set": {"attribute": "a" * 51, "value": "1"}}, "longer than 50"),
    ({"event_type": "x", "set": {"attribute": "a", "value": "v" * 101}}, "longer than 100"),
])
def test_pinpoint_mode_refuses_what_endpoint_attributes_cannot_hold(rule, problem):
    with pytest.raises(RuleSetError, match=f"rule 1: .*{problem}"):
        rule_set(rule, mode=Mode.PINPOINT)
    rule_set(rule)  # the current mode takes it


@pytest.mark.parametrize(("text", "problem"), [
    ("{", "not JSON"),
    ("[]", "one key, \"rules\""),
    ('{"rules": [], "version": 1}', "one key, \"rules\""),
    ('{"rules": []}', "at least one rule"),
])
def test_a_rule_set_that_is_not_a_list_of_rules_is_refused(text, problem):
    with pytest.raises(RuleSetError, match=problem):
        load_rules(text)
