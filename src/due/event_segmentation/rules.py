"""Event-based segmentation's rules: which engagement event changes which attribute of the person, as data.

A rule set is a JSON object with one key, ``rules``, a list of rules applied in order. The default, the two
seed rules::

    {"rules": [
      {"name": "email opened", "event_type": "_email.open",
       "set": {"attribute": "email_opened", "value": "true"}},
      {"name": "webinar registration", "event_type": "webinar.registration",
       "add": {"attribute": "webinar_registration", "from": "attributes.webinar_id"}}
    ]}

(A registration without ``attributes.webinar_id`` is refused with that reason, not skipped: it is a bug in the
application that sent it. A rule that should skip such events says ``"when": [{"path": "attributes.webinar_id",
"exists": true}]``.)

A rule has:

* ``name`` (optional, text): how errors and logs name it; otherwise it is "rule 3" (counted from 1).
* ``event_type`` (required): the event it applies to, exactly as named: Pinpoint's names for every source
  (``_email.open``, ``_email.click``, ``_email.delivered``, ``_email.hardbounce``, ``_SMS.SUCCESS``,
  ``_SMS.OPTOUT`` ...) or your application's own (``webinar.registration``). See ``events`` for the sources.
* ``when`` (optional): conditions that must all hold. Each names a ``path`` into the event and one test:
  ``{"path": "detail.link", "matches": "/pricing"}`` (a regular expression, found anywhere in the value),
  ``{"path": "attributes.plan", "equals": "pro"}``, ``{"path": "attributes.plan", "in": ["pro", "team"]}``,
  ``{"path": "attributes.webinar_id", "exists": true}`` (``false``: the event lacks it). A path is dotted:
  ``event_type``, ``timestamp``, ``person.email``, ``person.phone``, ``person.profile_id``,
  ``person.endpoint_id``, ``attributes.<name>[.<name>...]``, ``detail.<name>``. A value tested is compared as
  text (numbers as written, true/false in lower case); a missing value passes only ``"exists": false``.
* exactly one action, each naming the ``attribute`` it writes and, for set / add / remove, either a literal
  ``value`` or ``from``, a path whose value the event supplies (an event that lacks it is refused for that
  rule, with the reason: add a condition ``exists`` to skip such events instead):

  - ``set``: the attribute becomes the value (``{"attribute": "last_click", "from": "timestamp"}``);
  - ``add``: the value joins the attribute's list (earlier values kept, never twice);
  - ``remove``: the value leaves the attribute's list;
  - ``count``: the attribute, a whole number, goes up by one per event (``{"attribute": "email_clicks"}``).
* ``create_profile`` (optional, default false; current mode only): an event for a person who has no profile
  yet creates one with this change, when the event names an email address or number. Otherwise it creates
  nothing, and the handler counts it.

How attributes are written: in the current mode (Amazon Connect Customer Profiles, the default) a list is one
attribute per value, ``webinar_registration_webinar5 = "true"``, removed by writing "" (the profile contract,
docs/profile_contract.md); in Pinpoint mode a list is the endpoint attribute's array of values. Events of one
person are applied in order and each rule whose event type and conditions match applies, in the rule set's
order; a batch's changes for one person are one write (``changes_for``).

A rule may not write what another writer owns (the profile contract): phone validation's attributes
(``sms_messageable``, ``phone_type`` ...), the opt-outs (``email_opt_out``, ``sms_opt_out``: consent is
recorded where it is learnt, never by an engagement rule) and the import's id attribute ``customer_id``. Names
and values must fit the service: Customer Profiles attribute names 1 to 255 characters, values at most 255
(UpdateProfile's Attributes map, Customer Profiles API reference); Pinpoint attribute names at most 50
characters and values at most 100 (EndpointBatchItem.Attributes, Pinpoint API reference).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from due.event_segmentation.events import EngagementEvent, Person
from due.profiles import ID_KEY, OPT_OUT_ATTRIBUTES, PHONE_VALIDATION_ATTRIBUTES, attribute_name
from due.profiles import utf16_length as service_length  # AWS counts UTF-16 code units, as ProfileStore does


class Mode(StrEnum):
    PROFILES = "profiles"  # Amazon Connect Customer Profiles (the current mode)
    PINPOINT = "pinpoint"  # Pinpoint endpoint attributes


class Action(StrEnum):
    SET = "set"
    ADD = "add"
    REMOVE = "remove"
    COUNT = "count"


class RuleSetError(ValueError):
    """The rule set cannot be used; the message names the rule (by name, or number counted from 1)."""


RESERVED_ATTRIBUTES = frozenset({*PHONE_VALIDATION_ATTRIBUTES, *OPT_OUT_ATTRIBUTES, ID_KEY})
PATH_ROOTS = {"event_type": False, "timestamp": False, "person": True, "attributes": True, "detail": True}
PERSON_FIELDS = ("email", "phone", "profile_id", "endpoint_id")
# (longest attribute name, longest value) per mode: Customer Profiles UpdateProfile Attributes keys 1-255 and
# values 0-255; Pinpoint EndpointBatchItem.Attributes names up to 50 and values up to 100 characters.
LIMITS = {Mode.PROFILES: (255, 255), Mode.PINPOINT: (50, 100)}
# UpdateEndpointsBatch: "An array can contain a maximum of 100 items" (EndpointBatchRequest.Item).
ENDPOINT_BATCH_SIZE = 100
LIST_MEMBER = "true"  # the value of a list member's own attribute in the current mode
_TESTS = ("equals", "in", "exists", "matches")
_RULE_KEYS = {"name", "event_type", "when", "create_profile", *Action}

DEFAULT_RULES = """{"rules": [
  {"name": "email opened", "event_type": "_email.open",
   "set": {"attribute": "email_opened", "value": "true"}},
  {"name": "webinar registration", "event_type": "webinar.registration",
   "add": {"attribute": "webinar_registration", "from": "attributes.webinar_id"}}
]}"""


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    test: str
    operand: Any  # equals: str; in: frozenset[str]; exists: bool; matches: re.Pattern

    def holds(self, document: dict[str, Any]) -> bool:
        value = _text(_at(document, self.path))
        if self.test == "exists":
            return (value is not None) is self.operand
        if value is None:
            return False
        if self.test == "equals":
            return value == self.operand
        if self.test == "in":
            return value in self.operand
        return self.operand.search(value) is not None


@dataclass(frozen=True)
class Rule:
    label: str  # the name, or "rule N"
    event_type: str
    action: Action
    attribute: str
    value: str | None = None  # a literal
    source: tuple[str, ...] | None = None  # or a path into the event
    conditions: tuple[Condition, ...] = ()
    create_profile: bool = False

    def applies_to(self, event: EngagementEvent, document: dict[str, Any]) -> bool:
        return event.event_type == self.event_type and all(c.holds(document) for c in self.conditions)

    def needs_current(self, mode: Mode) -> bool:
        """Whether applying it needs the person's current value (a count; a list kept as one value in Pinpoint)."""
        return self.action is Action.COUNT or (mode is Mode.PINPOINT and self.action is not Action.SET)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    mode: Mode

    def needs_current(self) -> bool:
        return any(rule.needs_current(self.mode) for rule in self.rules)


def default_rules(mode: Mode = Mode.PROFILES) -> RuleSet:
    return load_rules(DEFAULT_RULES, mode)


def load_rules(text: str | bytes, mode: Mode = Mode.PROFILES) -> RuleSet:
    """Parses and checks a whole rule set; RuleSetError names the first rule that is wrong and what is wrong."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise RuleSetError(f"the rule set is not JSON: {error}") from None
    if not isinstance(document, dict) or set(document) != {"rules"}:
        raise RuleSetError('the rule set must be a JSON object with one key, "rules", holding a list of rules')
    if not isinstance(document["rules"], list) or not document["rules"]:
        raise RuleSetError('"rules" must be a list of at least one rule')
    rules, names = [], set()
    for number, raw in enumerate(document["rules"], start=1):
        rule = _rule(raw, number, Mode(mode))
        name = raw.get("name", "").strip()
        if name in names:
            raise RuleSetError(f"{rule.label}: another rule has this name; names must be unique")
        names.add(name or None)
        rules.append(rule)
    return RuleSet(tuple(rules), Mode(mode))


def _rule(raw: Any, number: int, mode: Mode) -> Rule:
    label = f"rule {number}"
    if not isinstance(raw, dict):
        raise RuleSetError(f"{label}: a rule must be a JSON object")
    name = raw.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise RuleSetError(f"{label}: name must be non-empty text")
        label = f"rule {number} ({name.strip()!r})"

    def refuse(problem: str) -> RuleSetError:
        return RuleSetError(f"{label}: {problem}")

    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise refuse(f"unknown keys {sorted(unknown)}; a rule has name, event_type, when, create_profile and one "
                     f"action of {', '.join(Action)}")
    event_type = raw.get("event_type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise refuse('event_type is missing (the event it applies to, e.g. "_email.open")')
    actions = [action for action in Action if action in raw]
    if len(actions) != 1:
        raise refuse(f"a rule has exactly one action of {', '.join(Action)}; it has {len(actions)}")
    action = actions[0]
    spec = raw[action]
    if not isinstance(spec, dict):
        raise refuse(f"{action} must be an object naming the attribute")
    allowed = {"attribute"} if action is Action.COUNT else {"attribute", "value", "from"}
    if set(spec) - allowed:
        raise refuse(f"{action} has unknown keys {sorted(set(spec) - allowed)}; it takes {sorted(allowed)}")
    attribute = _attribute(spec.get("attribute"), mode, refuse)
    value, source = spec.get("value"), spec.get("from")
    if action is not Action.COUNT:
        if (value is None) == (source is None):
            raise refuse(f'{action} takes either "value" (text) or "from" (a path into the event), not both')
        if value is not None:
            value = _literal(value, mode, refuse)
            if action is not Action.SET:
                _member_attribute(attribute, value, mode, refuse)
        else:
            source = _path(source, refuse)
    create_profile = raw.get("create_profile", False)
    if not isinstance(create_profile, bool):
        raise refuse("create_profile must be true or false")
    if create_profile and mode is Mode.PINPOINT:
        # An endpoint made from an event would have no channel or address to send to.
        raise refuse("create_profile is for the current mode: Pinpoint mode does not create endpoints")
    return Rule(label, event_type.strip(), action, attribute, value, source,
                _conditions(raw.get("when", []), refuse), create_profile)


def _attribute(name: Any, mode: Mode, refuse) -> str:
    longest, _ = LIMITS[mode]
    if not isinstance(name, str) or not name.strip():
        raise refuse("attribute is missing: name the attribute the rule writes")
    name = name.strip()
    if service_length(name) > longest:
        raise refuse(f"attribute {name[:40]!r}... is longer than {longest} characters, the most the {mode} mode "
                     "takes")
    if name in RESERVED_ATTRIBUTES:
        raise refuse(f"attribute {name!r} belongs to another writer (phone validation, the opt-outs or the "
                     "import's id): a rule may not write it")
    return name


def _literal(value: Any, mode: Mode, refuse) -> str:
    _, longest = LIMITS[mode]
    text = _text(value)
    if text is None or isinstance(value, (dict, list)):
        raise refuse("value must be text, a number or true/false")
    if service_length(text) > longest:
        raise refuse(f"value is longer than {longest} characters, the most the {mode} mode takes")
    return text


def member_attribute(attribute: str, value: str) -> str:
    """The current mode's attribute for one list member: ``webinar_registration_webinar5``."""
    return f"{attribute}_{attribute_name(value)}"


def _member_attribute(attribute: str, value: str, mode: Mode, refuse) -> str:
    """Checks that a list member can be written; returns the attribute it is written to (current mode)."""
    if mode is Mode.PINPOINT:
        return attribute
    longest, _ = LIMITS[mode]
    try:
        name = member_attribute(attribute, value)
    except ValueError:
        raise refuse(f"a list member's value ({len(value)} characters) must hold a letter or digit and give "
                     "a name of at most 64 characters (the value names its own attribute)") from None
    if service_length(name) > longest:
        raise refuse(f"the list member's attribute would be longer than {longest} characters")
    if name in RESERVED_ATTRIBUTES:
        raise refuse(f"the list member's attribute {name!r} belongs to another writer")
    return name


def _path(raw: Any, refuse) -> tuple[str, ...]:
    if not isinstance(raw, str) or not raw.strip():
        raise refuse("a path must be dotted text, e.g. attributes.webinar_id")
    parts = tuple(raw.strip().split("."))
    if parts[0] not in PATH_ROOTS or any(not part for part in parts):
        raise refuse(f"path {raw!r} does not point into the event: it starts with one of "
                     f"{', '.join(PATH_ROOTS)} and has no empty part")
    if PATH_ROOTS[parts[0]] != (len(parts) > 1):
        raise refuse(f"path {raw!r}: {parts[0]} " + ("needs a field after it" if PATH_ROOTS[parts[0]]
                                                      else "has no fields"))
    if parts[0] == "person" and (len(parts) != 2 or parts[1] not in PERSON_FIELDS):
        raise refuse(f"path {raw!r}: a person has {', '.join(PERSON_FIELDS)}")
    return parts


def _conditions(raw: Any, refuse) -> tuple[Condition, ...]:
    if not isinstance(raw, list):
        raise refuse("when must be a list of conditions")
    conditions = []
    for number, condition in enumerate(raw, start=1):
        if not isinstance(condition, dict) or "path" not in condition:
            raise refuse(f"condition {number} must be an object with a path and one test of {', '.join(_TESTS)}")
        tests = [test for test in _TESTS if test in condition]
        if len(tests) != 1 or set(condition) != {"path", *tests}:
            raise refuse(f"condition {number} must have a path and exactly one test of {', '.join(_TESTS)}")
        test, operand = tests[0], condition[tests[0]]
        path = _path(condition["path"], refuse)
        if test == "equals":
            if _text(operand) is None or isinstance(operand, (dict, list)):
                raise refuse(f"condition {number}: equals takes text, a number or true/false")
            operand = _text(operand)
        elif test == "in":
            if not isinstance(operand, list) or not operand or any(
                    _text(item) is None or isinstance(item, (dict, list)) for item in operand):
                raise refuse(f"condition {number}: in takes a non-empty list of text values")
            operand = frozenset(_text(item) for item in operand)
        elif test == "exists":
            if not isinstance(operand, bool):
                raise refuse(f"condition {number}: exists takes true or false")
        else:
            if not isinstance(operand, str):
                raise refuse(f"condition {number}: matches takes a regular expression as text")
            try:
                operand = re.compile(operand)
            except re.error as error:
                raise refuse(f"condition {number}: the regular expression does not compile: {error}") from None
        conditions.append(Condition(path, test, operand))
    return tuple(conditions)


def _at(document: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def _text(value: Any) -> str | None:
    """A value as rules compare and write it: text as is, numbers as written, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)  # tested as text; refused where a value must be written
    return None


# --- applying rules to a batch ----------------------------------------------------------------------------


@dataclass
class Change:
    """One person's write for a batch: what the handler sends in one call.

    ``attributes``: the current mode, name -> text for UpdateProfile's Attributes ("" removes an attribute:
    "specifying an empty string value means that any existing value will be removed", UpdateProfile, Customer
    Profiles API reference); Pinpoint mode, name -> the whole list of values, since UpdateEndpointsBatch
    "replaces (overwrites) any existing values with the new values" (Pinpoint API reference). ``events``: the
    batch positions of the events applied, in order (for partial batch failure reporting)."""

    person: Person
    attributes: dict[str, Any] = field(default_factory=dict)
    create_profile: bool = False
    events: list[int] = field(default_factory=list)


@dataclass
class RefusedEvent:
    position: int  # in the batch
    rule: str
    reason: str  # never the personal data


@dataclass
class BatchChanges:
    by_person: dict[str, Change] = field(default_factory=dict)  # person key -> one change
    refused: list[RefusedEvent] = field(default_factory=list)
    without_person: int = 0  # events a rule matched that name nobody the mode can write to
    unmatched: int = 0  # events no rule applies to


def person_key(person: Person, mode: Mode) -> str | None:
    """Who a change is for: the endpoint in Pinpoint mode; else the profile id, the address or the number (the
    first the event has), which the handler finds the profile by (ProfileStore.find)."""
    if mode is Mode.PINPOINT:
        return f"endpoint_id:{person.endpoint_id}" if person.endpoint_id else None
    for kind in ("profile_id", "email", "phone"):
        if getattr(person, kind):
            return f"{kind}:{getattr(person, kind)}"
    return None


def changes_for(events: Iterable[EngagementEvent], rules: RuleSet,
                current: Mapping[str, Mapping[str, Any]] | None = None) -> BatchChanges:
    """Applies the rules to a batch in order; one ``Change`` per person, whatever the number of events.

    ``current``: person key -> the person's attributes now (SearchProfiles' Attributes, or the endpoint's), for
    every person the batch names when ``rules.needs_current()``: a count goes on from the current value, and a
    Pinpoint list keeps its earlier values. A person with no profile yet has ``{}``."""
    result = BatchChanges()
    mode = rules.mode
    for position, event in enumerate(events):
        document = event.as_document()
        matching = [rule for rule in rules.rules if rule.applies_to(event, document)]
        if not matching:
            result.unmatched += 1
            continue
        key = person_key(event.person, mode)
        if key is None:
            result.without_person += 1
            continue
        change = result.by_person.get(key) or Change(event.person)
        working = dict(change.attributes)
        try:
            for rule in matching:
                _apply(rule, document, working, key, current, mode)
        except _Refused as refused:
            result.refused.append(RefusedEvent(position, refused.rule, refused.reason))
            continue  # the event's other rules are not applied either: an event applies whole or not at all
        change.attributes = working
        change.create_profile = change.create_profile or any(rule.create_profile for rule in matching)
        change.events.append(position)
        result.by_person[key] = change
    return result


def endpoint_batches(changes: Iterable[Change]) -> Iterator[list[dict[str, Any]]]:
    """UpdateEndpointsBatch items (Pinpoint mode), 100 a call: each endpoint's id and changed attributes."""
    batch: list[dict[str, Any]] = []
    for change in changes:
        if not change.person.endpoint_id:
            raise ValueError("a Pinpoint mode change names no endpoint")
        batch.append({"Id": change.person.endpoint_id, "Attributes": change.attributes})
        if len(batch) == ENDPOINT_BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


class _Refused(Exception):
    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule, self.reason = rule, reason


def _apply(rule: Rule, document: dict[str, Any], working: dict[str, Any], key: str,
           current: Mapping[str, Mapping[str, Any]] | None, mode: Mode) -> None:
    def refuse(reason: str) -> _Refused:
        return _Refused(rule.label, reason)

    def now(attribute: str) -> Any:
        if attribute in working:
            return working[attribute]
        if current is None or key not in current:
            raise ValueError(f"{rule.label} needs the person's current attributes: pass them as current "
                             f"(rules.needs_current() is true), {{}} for a person without a profile")
        return current[key].get(attribute)

    value = rule.value
    if rule.source is not None:
        raw = _at(document, rule.source)
        value = None if isinstance(raw, (dict, list)) else _text(raw)
        if value is None:
            raise refuse(f"the event has no text at {'.'.join(rule.source)}")
        _, longest = LIMITS[mode]
        if service_length(value) > longest:
            raise refuse(f"the value at {'.'.join(rule.source)} is longer than {longest} characters")
        if rule.action in (Action.ADD, Action.REMOVE):
            _member_attribute(rule.attribute, value, mode, lambda problem: refuse(problem))

    if rule.action is Action.COUNT:
        before = now(rule.attribute)
        if isinstance(before, list):  # Pinpoint: one value in the list
            before = before[0] if before else None
        try:
            count = int(before or 0)
        except ValueError:
            raise refuse(f"attribute {rule.attribute!r} holds something that is not a whole number") from None
        working[rule.attribute] = [str(count + 1)] if mode is Mode.PINPOINT else str(count + 1)
    elif mode is Mode.PROFILES:
        if rule.action is Action.SET:
            working[rule.attribute] = value
        else:
            working[member_attribute(rule.attribute, value)] = LIST_MEMBER if rule.action is Action.ADD else ""
    elif rule.action is Action.SET:
        working[rule.attribute] = [value]
    else:
        members = list(now(rule.attribute) or [])
        if rule.action is Action.ADD and value not in members:
            members.append(value)
        elif rule.action is Action.REMOVE:
            members = [member for member in members if member != value]
        working[rule.attribute] = members
