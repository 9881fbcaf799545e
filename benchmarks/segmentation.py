"""Segmentation: writes per 1,000 events and events a second (event-based), then the advanced segmentation's figures.

Prints measured figures (a benchmark, not a test):

* **Writes per 1,000 events** (event-based segmentation, ``due.event_segmentation.apply.apply_batch``): 1,000
  events (opens and webinar registrations, the seed rules) about D distinct people, through real boto3 clients
  and the Customer Profiles and Pinpoint fakes (``due_local.fakes``). Target: D ``UpdateProfile`` calls in the
  current mode (one per person, whatever their number of events), ceil(D / 100) ``UpdateEndpointsBatch`` calls in
  Pinpoint mode. Lookups (``SearchProfiles``, ``GetEndpoint``) are one per person too, and printed.
* **Events a second through the rules** (``rules.changes_for``: the rules alone, no calls), over 200,000 events
  about 5,000 people, batch by batch as the stream delivers them (500 a batch).
* Then ``benchmarks/segmentation_advanced.py`` (the advanced segmentation's figures), when it is there.

Usage: .venv/bin/python benchmarks/segmentation.py [--people 10 100 250 1000] [--skip-advanced]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from due import aws  # noqa: E402
from due.event_segmentation.apply import EndpointsTarget, ProfilesTarget, apply_batch  # noqa: E402
from due.event_segmentation.events import EngagementEvent, Person  # noqa: E402
from due.event_segmentation.rules import Mode, changes_for, default_rules  # noqa: E402
from due.profiles import ProfileStore  # noqa: E402
from due_local.fakes import CustomerProfilesFake, PinpointFake  # noqa: E402

EVENTS = 1000
BATCH = 500  # the template's default BatchSize, for the rules-alone rate


def events_about(people: int, count: int, mode: Mode, seed: int = 7) -> list[EngagementEvent]:
    chooser = random.Random(seed)
    found = []
    for _ in range(count):
        n = chooser.randrange(people)
        person = Person(endpoint_id=f"ep-{n}") if mode is Mode.PINPOINT else Person(email=f"person{n}@example.com")
        if chooser.random() < 0.5:
            found.append(EngagementEvent("_email.open", person, "2026-11-27T10:00:00.000Z"))
        else:
            found.append(EngagementEvent("webinar.registration", person, "2026-11-27T10:00:00.000Z",
                                         {"webinar_id": f"webinar{chooser.randrange(8)}"}))
    return found


def writes_per_thousand(people: int) -> dict[str, int]:
    figures = {}
    with mock_aws():
        aws.client.cache_clear()
        session = boto3.Session(region_name="us-east-1")
        profiles_fake, pinpoint_fake = CustomerProfilesFake().attach(session), PinpointFake().attach(session)
        profiles = session.client("customer-profiles")
        profiles.create_domain(DomainName="bench", DefaultExpirationDays=366)
        for n in range(people):
            profiles.create_profile(DomainName="bench", EmailAddress=f"person{n}@example.com")
        pinpoint = session.client("pinpoint")
        for n in range(people):
            pinpoint.update_endpoint(ApplicationId="bench", EndpointId=f"ep-{n}",
                                     EndpointRequest={"ChannelType": "EMAIL"})
        pinpoint_fake.calls.clear()
        profiles_fake.calls.clear()
        events = events_about(people, EVENTS, Mode.PROFILES)
        distinct = len({e.person for e in events})
        apply_batch(events, default_rules(), ProfilesTarget(ProfileStore(profiles, "bench", "")))
        figures["distinct people"] = distinct
        figures["UpdateProfile"] = len(profiles_fake.calls_of("UpdateProfile"))
        figures["SearchProfiles"] = len(profiles_fake.calls_of("SearchProfiles"))
        events = events_about(people, EVENTS, Mode.PINPOINT)
        apply_batch(events, default_rules(Mode.PINPOINT), EndpointsTarget(pinpoint, "bench"))
        figures["UpdateEndpointsBatch"] = len(pinpoint_fake.calls_of("UpdateEndpointsBatch"))
        figures["GetEndpoint"] = len(pinpoint_fake.calls_of("GetEndpoint"))
    return figures


def events_per_second(total: int = 200_000, people: int = 5_000) -> float:
    rules = default_rules()
    events = events_about(people, total, Mode.PROFILES)
    started = time.perf_counter()
    for start in range(0, total, BATCH):
        changes_for(events[start:start + BATCH], rules)
    return total / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10, 100, 250, 1000])
    parser.add_argument("--skip-advanced", action="store_true")
    args = parser.parse_args(argv)
    print(f"Event-based segmentation: calls for {EVENTS:,} events in one batch (BatchSize={EVENTS}; seed rules), "
          "real boto3 clients and the fakes")
    print("| people named | distinct in the events | UpdateProfile (target: distinct) | SearchProfiles "
          "| UpdateEndpointsBatch (target: ceil(distinct / 100)) | GetEndpoint |")
    print("|---|---|---|---|---|---|")
    for people in args.people:
        f = writes_per_thousand(people)
        print(f"| {people:,} | {f['distinct people']:,} | {f['UpdateProfile']:,} | {f['SearchProfiles']:,} | "
              f"{f['UpdateEndpointsBatch']:,} ({math.ceil(f['distinct people'] / 100)}) | "
              f"{f['GetEndpoint']:,} |")
    print(f"\nRules alone: {events_per_second():,.0f} events a second (200,000 events about 5,000 people, "
          f"batches of {BATCH}, one core)")
    advanced = REPO / "benchmarks" / "segmentation_advanced.py"
    if args.skip_advanced or not advanced.exists():
        return
    print("\nAdvanced segmentation (benchmarks/segmentation_advanced.py):")
    spec = importlib.util.spec_from_file_location("segmentation_advanced", advanced)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


if __name__ == "__main__":
    main()
