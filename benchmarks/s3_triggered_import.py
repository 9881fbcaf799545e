"""S3 triggered import: memory of validation and import, lookups per distinct number, write rate, API calls.

Prints measured figures (a benchmark, not a test), driving the import's steps
(due.s3_triggered_import.steps.Steps) directly, as the state machine does:

* the memory the ``validate`` and ``write_profiles`` steps use over a
  100,000-row and a 1,000,000-row CSV: each step is one invocation over the
  whole file in a process of its own, forked after a warm-up on a small file
  (imports, phonenumbers' metadata), and the figure is the growth of its peak
  resident set (Linux VmHWM): all the memory the process touched, which a
  function's memory size must hold; ``--tracemalloc`` adds Python's own
  allocations, about five times slower (target: growth under 100 MB, and
  about the same for both sizes);
* lookups per distinct number in those files, where each number is on 20 rows
  on average (1,000,000 rows over 50,000 numbers), written alternately in
  E.164 and in national format, each step in a fresh execution environment
  (target: 1, and none at all in ``write_profiles``);
* AWS calls per 1,000 rows, per API and step;
* profile writes per second against the configured rate, with the real rate
  limiter (due.rate_limit) and the real clock, through real boto3 clients
  answered by the Customer Profiles, End User Messaging and DynamoDB fakes,
  the file in moto's S3 (target: within 10%, never above in any one second).

Stand-ins in the memory runs, so that the figures are the function's and not
the emulator's: moto's S3 copies the whole object for every ranged GET (real
S3 sends only the range), so the file is served from disk by a stand-in that
reads only the requested range; what the lookup cache table and the lookup
service hold is kept in an SQLite file (in AWS it is not in the function's
memory either); the Customer Profiles client counts calls and items and keeps
nothing; the rate limiter grants every permit at once (a 1,000,000-row file at
the default 80 rows a second takes three and a half hours). The rate run uses
none of these stand-ins. Every file has a bad row (a column short) every
1,000 rows and 10% landline numbers (not messageable).

A default run takes about five minutes on two cores.

Usage: .venv/bin/python benchmarks/s3_triggered_import.py [--rows 100000 1000000] [--repeats 20]
       [--rate 50] [--seconds 20] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import collections
import io
import itertools
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
import tracemalloc
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from benchmarks.measuring import in_child  # noqa: E402
from due import aws  # noqa: E402
from due.s3_triggered_import.steps import Clients, Settings, Steps  # noqa: E402
from due_local.dynamodb_fake import DynamoDbFake  # noqa: E402
from due_local.fakes import CustomerProfilesFake, SmsVoiceV2Fake  # noqa: E402

BUCKET, KEY, VERSION = "imports", "incoming/contacts.csv", "v1"
STEPS = ("validate", "write_profiles")
HEADER = "id,email,phone,first_name,last_name,city,favourite_colour\n"
BAD_ROW_EVERY = 1000  # every 1,000th row has a column too few: a bad row, reported, never fatal
FIRST_NAMES, LAST_NAMES = ("Ana", "José", "Mei", "Oluwaseun", "Priya"), ("Silva", "Müller", "Chen", "Okafor", "Rao")
CITIES, COLOURS = ("Seattle", "Redmond", "Bellevue"), ("green", "blue", "red", "")


def settings(per_second: float = 80) -> Settings:
    return Settings(destination="CustomerProfiles", id_column="id", email_column="email", phone_column="phone",
                    domain_name="bench", profile_writes_per_second=per_second, default_country="US",
                    lookup_cache_table_name="lookups", rate_table_name="rates",
                    notifications_topic_arn="arn:aws:sns:us-east-1:123456789012:import")


def write_contacts(path: Path, rows: int, distinct: int, seed: int = 11) -> None:
    """A CSV of ``rows`` contacts over exactly ``distinct`` phone numbers (each once first, in shuffled order, then
    drawn at random); numbers are written alternately as +1425... and (425) ...-...."""
    rng = random.Random(seed)
    first = list(range(distinct))
    rng.shuffle(first)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for row in range(1, rows + 1):
            digits = f"{2_000_000 + (first[row - 1] if row <= distinct else rng.randrange(distinct)):07d}"
            phone = f"+1425{digits}" if row % 2 else f"(425) {digits[:3]}-{digits[3:]}"
            fields = [f"c-{row}", f"user{row}@example.com", phone, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES),
                      rng.choice(CITIES), rng.choice(COLOURS)]
            if row % BAD_ROW_EVERY == 0:
                fields.pop()
            out.write(",".join(fields) + "\n")


def new_state(version_id: str | None) -> dict:
    return {"file": {"bucket": BUCKET, "key": KEY, "version_id": version_id, "kind": "csv"},
            "config": {"destination": "CustomerProfiles", "validate": "true", "follow_up": "false"},
            "counts": {}, "passes": {}}


def run_step(steps: Steps, action: str, state: dict) -> dict:
    state = steps.run(action, state)
    while not state["step"]["done"]:  # only when time is short; the memory runs never stop early
        state = steps.run(action, state)
    return state


# ------------------------------------------------------------ stand-ins (memory runs)
class StoredFile:
    """S3 for one object: HeadObject, and GetObject reading only the requested byte range from disk."""

    def __init__(self, path: Path, calls: collections.Counter):
        self._path, self._size, self._calls = path, path.stat().st_size, calls

    def _check(self, Bucket, Key, VersionId):
        if (Bucket, Key, VersionId) != (BUCKET, KEY, VERSION):
            raise AssertionError(f"read of an unexpected object {Bucket}/{Key}@{VersionId}")

    def head_object(self, Bucket, Key, VersionId=None):
        self._check(Bucket, Key, VersionId)
        self._calls["s3 HeadObject"] += 1
        return {"ContentLength": self._size}

    def get_object(self, Bucket, Key, Range, VersionId=None):
        self._check(Bucket, Key, VersionId)
        self._calls["s3 GetObject"] += 1
        start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", Range).groups())
        with self._path.open("rb") as file:
            file.seek(start)
            return {"Body": io.BytesIO(file.read(end - start + 1))}


class OutsideMemory:
    """What DynamoDB and the lookup service hold, kept in an SQLite file shared by the steps' processes: in AWS it
    is not in the function's memory either. (Only SQLite's small page cache is in the process.)"""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                              "CREATE TABLE IF NOT EXISTS cache (number TEXT PRIMARY KEY, item TEXT);"
                              "CREATE TABLE IF NOT EXISTS lookups (number TEXT PRIMARY KEY, times INTEGER);")


class LookupCacheTable:
    """DynamoDB for the lookup cache table: GetItem and PutItem by ``number``."""

    def __init__(self, store: OutsideMemory, calls: collections.Counter):
        self._db, self._calls = store.db, calls

    def get_item(self, TableName, Key):
        self._calls["dynamodb GetItem"] += 1
        found = self._db.execute("SELECT item FROM cache WHERE number = ?", (Key["number"]["S"],)).fetchone()
        return {"Item": json.loads(found[0])} if found else {}

    def put_item(self, TableName, Item):
        self._calls["dynamodb PutItem"] += 1
        self._db.execute("INSERT OR REPLACE INTO cache VALUES (?, ?)", (Item["number"]["S"], json.dumps(Item)))


class CarrierLookups:
    """End User Messaging CarrierLookup: numbers ending in 0 are landlines (not messageable), others mobile."""

    def __init__(self, store: OutsideMemory, calls: collections.Counter):
        self._db, self._calls = store.db, calls

    def carrier_lookup(self, PhoneNumber):
        self._calls["pinpoint-sms-voice-v2 CarrierLookup"] += 1
        self._db.execute("INSERT INTO lookups VALUES (?, 1) ON CONFLICT (number) DO UPDATE SET times = times + 1",
                         (PhoneNumber,))
        return {"E164PhoneNumber": PhoneNumber, "IsoCountryCode": "US", "Carrier": "Example Wireless",
                "PhoneNumberType": "LANDLINE" if PhoneNumber.endswith("0") else "MOBILE"}


class NotFound(Exception):
    pass


class ProfileWrites:
    """Customer Profiles: keeps the object type, counts BatchPutProfileObject calls and items, keeps no rows."""

    exceptions = types.SimpleNamespace(ResourceNotFoundException=NotFound)

    def __init__(self, calls: collections.Counter):
        self._calls, self._object_type = calls, None
        self.items = self.most_items_in_a_call = 0

    def get_profile_object_type(self, DomainName, ObjectTypeName):
        self._calls["customer-profiles GetProfileObjectType"] += 1
        if self._object_type is None:
            raise NotFound(ObjectTypeName)
        return self._object_type

    def put_profile_object_type(self, **definition):
        self._calls["customer-profiles PutProfileObjectType"] += 1
        self._object_type = definition

    def batch_put_profile_object(self, DomainName, ObjectTypeName, Items):
        self._calls["customer-profiles BatchPutProfileObject"] += 1
        self.items += len(Items)
        self.most_items_in_a_call = max(self.most_items_in_a_call, len(Items))
        return {"Successful": [], "Failed": []}


class Permits:
    """The rate limiter, granting every permit at once (in AWS each permit is one DynamoDB UpdateItem or more)."""

    def __init__(self, calls: collections.Counter):
        self._calls = calls

    def wait(self, key: str, per_second: float) -> None:
        self._calls["rate-limit permits"] += 1


def resident_kb(name: str) -> int:
    """VmRSS (resident now) or VmHWM (the most resident since the process began: a forked child starts at its
    resident size) of this process, in kB (Linux proc(5))."""
    return int(re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE).group(1))


def one_step(action: str, state: dict, path: Path, outside_path: Path, traced: bool) -> dict:
    """Runs one step as one invocation in a fresh execution environment (the validator's memo starts empty; the
    cache table is shared); returns the new state, the calls made and the memory used."""
    calls: collections.Counter = collections.Counter()
    outside = OutsideMemory(outside_path)
    profiles = ProfileWrites(calls)
    services = {"s3": StoredFile(path, calls), "dynamodb": LookupCacheTable(outside, calls),
                "pinpoint-sms-voice-v2": CarrierLookups(outside, calls), "customer-profiles": profiles,
                "sns": types.SimpleNamespace(publish=lambda **_: calls.update(["sns Publish"]))}
    clients = Clients(services.__getitem__, settings(), limiter=Permits(calls))
    steps = Steps(clients.settings, clients, lambda: False)
    resident_before = resident_kb("VmRSS")
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    state = run_step(steps, action, state)
    figures = {"state": state, "calls": calls, "seconds": time.perf_counter() - started,
               "resident growth": (resident_kb("VmHWM") - resident_before) * 1024,
               "items": profiles.items, "most items in a call": profiles.most_items_in_a_call}
    if traced:
        figures["traced peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    outside.db.commit()
    return figures



def memory_run(rows: int, repeats: int, workdir: Path, traced: bool = False, fork: bool = True) -> dict:
    """Runs validate then write_profiles over a ``rows``-row file, each in its own process; returns the figures."""
    path, outside_path = workdir / f"contacts-{rows}.csv", workdir / f"outside-{rows}.sqlite"
    distinct = max(rows // repeats, 1)
    write_contacts(path, rows, distinct)
    state = new_state(VERSION)
    figures = {"rows": rows, "distinct": distinct, "bytes": path.stat().st_size}
    for action in STEPS:
        step = (in_child if fork else lambda function, *args: function(*args))(
            one_step, action, state, path, outside_path, traced)
        figures[action], state = step, step["state"]
    bad_rows = rows // BAD_ROW_EVERY
    counts = state["counts"]
    assert counts["imported"] == figures["write_profiles"]["items"] == rows - bad_rows, counts
    assert state["passes"]["validate"]["bad_row_count"] == bad_rows
    figures["counts"] = counts
    figures["looked up"] = OutsideMemory(outside_path).db.execute(
        "SELECT COUNT(*), COALESCE(MAX(times), 0) FROM lookups").fetchone()
    path.unlink()
    outside_path.unlink()
    return figures


# ------------------------------------------------------------ the rate run (real clients, fakes, moto's S3)
def rate_run(per_second: float, seconds: float, repeats: int, workdir: Path) -> dict:
    rows = round(per_second * seconds)
    distinct = max(rows // repeats, 1)
    path = workdir / "rate.csv"
    write_contacts(path, rows, distinct)
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        profiles_fake, sms_fake = CustomerProfilesFake().attach(session), SmsVoiceV2Fake().attach(session)
        DynamoDbFake().attach(session)
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        version_id = s3.put_object(Bucket=BUCKET, Key=KEY, Body=path.read_bytes())["VersionId"]
        dynamodb = session.client("dynamodb")
        for table, key in (("lookups", "number"), ("rates", "key")):
            dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
        session.client("customer-profiles").create_domain(DomainName="bench", DefaultExpirationDays=366)

        calls: collections.Counter = collections.Counter()
        session.events.register("before-call", lambda model, **_: calls.update(
            [f"{model.service_model.service_name} {model.name}"]))
        writes: list[tuple[float, int]] = []  # (when the call is made, items in it)
        session.events.register("before-parameter-build.customer-profiles.BatchPutProfileObject",
                                lambda params, **_: writes.append((time.monotonic(), len(params["Items"]))))
        state = new_state(version_id)
        calls_by_step = {}
        for action in STEPS:
            calls.clear()
            made = {}  # one client per service per environment, as due.aws makes them

            def make(service, made=made):
                if service not in made:
                    made[service] = session.client(service, config=aws.RETRY_CONFIG)
                return made[service]

            clients = Clients(make, settings(per_second))  # the real RateLimiter, over the DynamoDB fake
            state = run_step(Steps(clients.settings, clients, lambda: False), action, state)
            calls_by_step[action] = collections.Counter(calls)
        bad_rows = rows // BAD_ROW_EVERY
        assert state["counts"]["imported"] == rows - bad_rows, state["counts"]
        assert len(profiles_fake.profiles) == rows - bad_rows  # one profile per id
        assert len(sms_fake.calls_of("CarrierLookup")) == distinct  # each number looked up once
    path.unlink()
    times = [when for when, _ in writes]
    items = [n for _, n in writes]
    achieved = sum(items[:-1]) / (times[-1] - times[0])  # the last call's items are written after the span
    busiest = max(sum(n for when, n in writes if start <= when < start + 1.0) for start in times)
    return {"rows": rows, "distinct": distinct, "calls": calls_by_step, "achieved": achieved, "busiest": busiest,
            "write_calls": len(writes), "seconds": times[-1] - times[0],
            "shortest_gap": min(b - a for a, b in itertools.pairwise(times))}


# ------------------------------------------------------------ printing
def print_calls(title: str, rows: int, calls_by_step: dict[str, collections.Counter]) -> None:
    print(title)
    apis = sorted({api for calls in calls_by_step.values() for api in calls})
    width = max(len(api) for api in apis)
    print(f"  {'API':<{width}}  " + "  ".join(f"{step:>15}" for step in STEPS))
    for api in apis:
        print(f"  {api:<{width}}  " + "  ".join(f"{calls_by_step[step][api] * 1000 / rows:>15,.2f}" for step in STEPS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="file sizes to measure")
    parser.add_argument("--repeats", type=int, default=20, help="rows per distinct phone number, on average")
    parser.add_argument("--rate", type=float, default=50.0, help="configured profile writes (rows) per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the rate run")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also measure Python's allocations with tracemalloc (about 5 times slower)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        # Warm-up, in this process so that the steps' processes inherit it: imports, phonenumbers' metadata.
        memory_run(1_000, args.repeats, Path(workdir), fork=False)
        runs = [memory_run(rows, args.repeats, Path(workdir), args.tracemalloc) for rows in args.rows]
        rate = rate_run(args.rate, args.seconds, args.repeats, Path(workdir))

    print("Memory of each step, one invocation over the whole file in its own process: growth of the peak resident "
          "set" + (" (and tracemalloc's peak of Python allocations)" if args.tracemalloc else "")
          + " (target: growth < 100 MB):")
    for run in runs:
        print(f"  {run['rows']:>9,} rows ({run['bytes'] / 1e6:.0f} MB, {run['distinct']:,} distinct numbers): "
              + "; ".join(
            f"{step} {run[step]['resident growth'] / 1e6:.1f} MB"
            + (f" ({run[step]['traced peak'] / 1e6:.1f} MB traced)" if args.tracemalloc else "")
            + f", {run[step]['seconds']:.0f} s ({run['rows'] / run[step]['seconds']:,.0f} rows/s"
            + (", traced" if args.tracemalloc else "") + ")" for step in STEPS))
    print("Lookups per distinct number (target 1; and 0 in write_profiles, which the cache table answers):")
    for run in runs:
        looked_up, most = run["looked up"]
        lookups = {step: run[step]["calls"]["pinpoint-sms-voice-v2 CarrierLookup"] for step in STEPS}
        print(f"  {run['rows']:>9,} rows: {sum(lookups.values()) / run['distinct']:.2f} "
              f"({lookups['validate']:,} in validate, {lookups['write_profiles']:,} in write_profiles, for "
              f"{run['distinct']:,} distinct numbers, written +1425... on odd rows and (425) ... on even ones; "
              f"{looked_up:,} numbers looked up, at most {most} times each); "
              f"invalid numbers {run['counts'].get('invalid_numbers', 0):,}, bad rows "
              f"{run['write_profiles']['state']['passes']['validate']['bad_row_count']:,}")
    big = runs[-1]
    print_calls(f"AWS calls per 1,000 rows, {big['rows']:,}-row file, by step (stand-ins, see the docstring; at most "
                f"{big['write_profiles']['most items in a call']} rows per BatchPutProfileObject):",
                big["rows"], {step: big[step]["calls"] for step in STEPS})
    print_calls(f"AWS calls per 1,000 rows, {rate['rows']:,}-row file, by step (real boto3 clients, fakes, moto's S3, "
                "the real rate limiter):", rate["rows"], rate["calls"])
    limit = args.rate
    print(f"Profile writes at {limit:g} rows/s configured ({limit / 10:g} BatchPutProfileObject calls/s of 10 rows), "
          f"real clock (target: within 10%, never above in any one second):")
    print(f"  achieved {rate['achieved']:.2f} rows/s ({rate['achieved'] / limit:.1%}) over {rate['seconds']:.1f} s, "
          f"{rate['write_calls']} calls; most rows in any one second {rate['busiest']} (limit {limit:g}); "
          f"shortest gap between two calls {rate['shortest_gap'] * 1000:.1f} ms (permits "
          f"{1000 / (limit / 10):.0f} ms apart)")
    default = settings().profile_writes_per_second
    print(f"At the default {default:g} rows/s, writing 1,000,000 rows takes {1_000_000 / default / 3600:.1f} hours.")


if __name__ == "__main__":
    main()
