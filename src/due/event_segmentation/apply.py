"""One batch of engagement events applied to the people they name: one lookup and at most one write per person.

``apply_batch`` finds each person a rule applies to (``Target.look_up``), works out every person's change from
all their events in order (``rules.changes_for``), and writes each change once (``Target.write``). So 1,000
events about 40 people cost 40 lookups and at most 40 writes in the current mode, and ceil(40 / 100) write calls
in Pinpoint mode.

Current mode, Amazon Connect Customer Profiles (``ProfilesTarget``): a person is found by SearchProfiles on the
predefined key of what the event names (``_profileId``, ``_email``, ``_phone``); the change is one
``UpdateProfile`` (its Attributes map; "" removes an attribute) or, for a person with no profile when a rule says
``create_profile``, one ``CreateProfile``. An address or number that more than one profile holds is not guessed
between: the person is counted as ambiguous and not written (the import keeps two people who share an address
as two profiles; docs/profile_contract.md).

Pinpoint mode (``EndpointsTarget``): ``GetEndpoint`` per endpoint (a missing one answers NotFoundException), then
``UpdateEndpointsBatch``, 100 endpoints a call. That call creates an endpoint that does not exist, so an endpoint
that was not found is only written when a rule says ``create_profile``.

A person whose lookup or write fails for a passing reason (throttling beyond botocore's retries, a 5xx, the
network) is reported in ``failed`` with the positions of their events, so the handler has exactly those records
retried; the others are done. A person the service refuses for a reason retrying cannot change (another 4xx: a
malformed id, a profile merged away between lookup and write, an attribute Pinpoint will not take) is reported
in ``rejected`` instead, and their events are set aside with the error code: retrying them would hold up the
shard for every retry and then skip the rest of the batch. Each step of the outcome is counted for the logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from due import aws
from due.event_segmentation.events import EngagementEvent, Person
from due.event_segmentation.rules import (
    BatchChanges,
    Change,
    Mode,
    RefusedEvent,
    RuleSet,
    changes_for,
    endpoint_batches,
    person_key,
)
from due.profiles import ProfileStore


@dataclass(frozen=True)
class Found:
    """A person as the target knows them: ``ref`` is the profile id or endpoint id, ``None`` when there is none."""

    ref: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    ambiguous: bool = False


class Target(Protocol):
    mode: Mode

    def look_up(self, key: str, person: Person) -> Found: ...

    def write(self, changes: Sequence[tuple[Change, Found]]) -> dict[int, Exception]:
        """Writes the changes; returns index in ``changes`` -> error for those that failed."""
        ...


@dataclass
class Outcome:
    events: int = 0
    unmatched: int = 0  # events no rule applies to
    without_person: int = 0  # events a rule matched that name nobody this mode can write to
    refused: list[RefusedEvent] = field(default_factory=list)  # events a rule could not apply (the reason)
    people: int = 0  # distinct people a rule applied to
    written: int = 0  # people updated
    created: int = 0  # people created (a create_profile rule)
    no_profile: int = 0  # people with no profile or endpoint, whom no rule creates: nothing written
    ambiguous: int = 0  # an address or number several profiles hold: nothing written
    write_calls: int = 0
    failed: dict[str, tuple[list[int], str]] = field(default_factory=dict)  # person key -> (positions, error)
    rejected: dict[str, tuple[list[int], str]] = field(default_factory=dict)  # refused for good: (positions, why)
    unaddressed: list[int] = field(default_factory=list)  # positions of matched events naming nobody writable

    def settle(self, key: str, change: Change, error: ClientError) -> None:
        """A person whose call failed: retried when the reason may pass, set aside when it cannot."""
        where = self.failed if retryable(error) else self.rejected
        where[key] = (change.events, _describe(error))

    def counts(self) -> dict[str, int]:
        return {"events": self.events, "unmatched": self.unmatched, "without_person": self.without_person,
                "refused": len(self.refused), "people": self.people, "written": self.written,
                "profiles_created": self.created, "no_profile": self.no_profile, "ambiguous": self.ambiguous,
                "write_calls": self.write_calls, "failed_people": len(self.failed),
                "rejected_people": len(self.rejected)}


def retryable(error: Exception) -> bool:
    """Throttling left after the client's retries, the network, or the service's own fault (5xx)."""
    return aws.is_passing(error) or aws.is_service_fault(error)


def apply_batch(events: Sequence[EngagementEvent], rules: RuleSet, target: Target) -> Outcome:
    outcome = Outcome(events=len(events))
    found: dict[str, Found] = {}
    lookup_errors: dict[str, ClientError] = {}
    for position, event in enumerate(events):
        if not _matched(event, rules):
            continue
        key = person_key(event.person, rules.mode)
        if key is None:
            outcome.unaddressed.append(position)
        elif key not in found and key not in lookup_errors:
            try:
                found[key] = target.look_up(key, event.person)
            except ClientError as error:
                lookup_errors[key] = error
    changes: BatchChanges = changes_for(events, rules, {key: f.attributes for key, f in found.items()}
                                        | {key: {} for key in lookup_errors})
    outcome.unmatched, outcome.without_person, outcome.refused = (changes.unmatched, changes.without_person,
                                                                  changes.refused)
    outcome.people = len(changes.by_person)
    to_write: list[tuple[str, Change, Found]] = []
    for key, change in changes.by_person.items():
        if key in lookup_errors:
            outcome.settle(key, change, lookup_errors[key])
        elif found[key].ambiguous:
            outcome.ambiguous += 1
        elif found[key].ref is None and not change.create_profile:
            outcome.no_profile += 1
        elif found[key].ref is None and not (change.person.email or change.person.phone):
            # A profile made for an id alone would get a new id of its own: the next event naming that id would
            # not find it and make another.
            outcome.rejected[key] = (change.events, "a profile is created only for an email address or number")
        elif change.attributes:
            to_write.append((key, change, found[key]))
    errors = target.write([(change, person) for _, change, person in to_write]) if to_write else {}
    outcome.write_calls = getattr(target, "calls", 0)
    for index, (key, change, person) in enumerate(to_write):
        if index in errors:
            outcome.settle(key, change, errors[index])
        elif person.ref is None:
            outcome.created += 1
        else:
            outcome.written += 1
    return outcome


def _matched(event: EngagementEvent, rules: RuleSet) -> bool:
    document = event.as_document()
    return any(rule.applies_to(event, document) for rule in rules.rules)


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "ClientError")
    return type(error).__name__


class ProfilesTarget:
    mode = Mode.PROFILES

    def __init__(self, store: ProfileStore):
        self._store = store
        self.calls = 0  # write calls made

    def look_up(self, key: str, person: Person) -> Found:
        kind, _, value = key.partition(":")
        profiles = self._store.find(**{kind: value}, limit=2)  # two already make the person ambiguous
        if len(profiles) > 1:
            return Found(None, ambiguous=True)
        if not profiles:
            return Found(None)
        return Found(profiles[0]["ProfileId"], dict(profiles[0].get("Attributes") or {}))

    def write(self, changes: Sequence[tuple[Change, Found]]) -> dict[int, Exception]:
        errors: dict[int, Exception] = {}
        for index, (change, person) in enumerate(changes):
            self.calls += 1
            try:
                if person.ref is None:
                    self._store.create(change.attributes, email=change.person.email, phone=change.person.phone)
                else:
                    self._store.set_attributes(person.ref, change.attributes)
            except ClientError as error:
                errors[index] = error
        return errors


class EndpointsTarget:
    mode = Mode.PINPOINT

    def __init__(self, pinpoint, application_id: str):
        self._pinpoint, self._application = pinpoint, application_id
        self.calls = 0

    def look_up(self, key: str, person: Person) -> Found:
        try:
            endpoint = self._pinpoint.get_endpoint(ApplicationId=self._application,
                                                   EndpointId=person.endpoint_id)["EndpointResponse"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NotFoundException":
                return Found(None)
            raise
        return Found(person.endpoint_id, dict(endpoint.get("Attributes") or {}))

    def write(self, changes: Sequence[tuple[Change, Found]]) -> dict[int, Exception]:
        errors: dict[int, Exception] = {}
        start = 0
        for items in endpoint_batches(change for change, _ in changes):
            error = self._update(items)
            if error is not None and not retryable(error) and len(items) > 1:
                # UpdateEndpointsBatch takes up to 100 endpoints and answers for the whole batch: a 400 names no
                # endpoint (Pinpoint API reference). One at a time, only the endpoint it was about is refused.
                for offset, item in enumerate(items):
                    if (single := self._update([item])) is not None:
                        errors[start + offset] = single
            elif error is not None:
                errors.update({start + offset: error for offset in range(len(items))})
            start += len(items)
        return errors

    def _update(self, items: list[dict[str, Any]]) -> ClientError | None:
        self.calls += 1
        try:
            self._pinpoint.update_endpoints_batch(ApplicationId=self._application, EndpointBatchRequest={"Item": items})
        except ClientError as error:
            return error
        return None


def positions_failed(outcome: Outcome) -> Iterable[int]:
    for positions, _ in outcome.failed.values():
        yield from positions
