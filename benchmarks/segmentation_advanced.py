"""Advanced segmentation (#10), measured: writes per refresh and the applier's memory over 1,000,000 members.

The real steps (``due.advanced_segmentation.steps.Steps.apply``: the streamed
merge, the checkpoints, the membership parts) run against S3 in moto
(in-process), with a target that counts what it would write instead of
calling Customer Profiles. Three refreshes: the first over 1,000,000 members
(all enter), the second over the same result (target: 0 writes), the third with
1% of the members changed (5,000 left, 5,000 new: target 10,000 writes).
Peak memory is tracemalloc's peak of the Python heap during each refresh,
moto's copies of the objects it is sent included. Figures, not tests.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections import Counter

MEMBERS = 1_000_000
CHANGED_SHARE = 0.01
BUCKET = "segment-benchmark"
SEGMENT = "bench"


class CountingTarget:
    """Writes nothing; counts a write for each person who enters or leaves, as ProfilesTarget would with one
    profile per key."""

    pending = 0

    def __init__(self):
        self.counts: Counter[str] = Counter()

    def enter(self, key):
        from due.advanced_segmentation.membership import Member

        self.counts["writes"] += 1
        return Member(key, [f"p-{key}"])

    def stay(self, member):
        return member

    def leave(self, member):
        self.counts["writes"] += len(member.targets)

    def flush(self):
        pass


def _result(s3, key: str, numbers) -> str:
    """A result file as Athena writes it, keys in order, written in one PUT (built in memory: ~30 MB)."""
    body = ['"email","opens"\n'] + [f'"person{n:07d}@example.com","3"\n' for n in numbers]
    s3.put_object(Bucket=BUCKET, Key=key, Body="".join(body).encode())
    return key


def _refresh(steps, s3, run: str, result_key: str) -> tuple[int, float, float, int]:
    """(writes, seconds, peak MiB, chunks) of one refresh's apply and finish."""
    state = {"run": {"id": run}, "config": {}, "kept": steps._kept_membership(),
             "query": {"id": run, "result_bucket": BUCKET, "result_key": result_key}}
    tracemalloc.start()
    started, chunks = time.perf_counter(), 0
    while True:
        state = steps.run("apply", state)
        chunks += 1
        if state["step"]["done"]:
            break
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    state["audience"] = {}
    steps._announce = lambda *args, **kwargs: None  # no topic here
    steps.run("finish", state)
    return state["apply"]["counts"].get("writes", 0), elapsed, peak, chunks


def main() -> None:
    import boto3
    from moto import mock_aws

    from due.advanced_segmentation.steps import Clients, Settings, Steps

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        settings = Settings(mode="CustomerProfiles", segment_token=SEGMENT, bucket=BUCKET, database="d",
                            table="t", workgroup="w", query_name="email_openers")
        steps = Steps(settings, Clients(lambda service: s3 if service == "s3" else None, settings))
        steps._target = CountingTarget  # type: ignore[method-assign]
        everyone = range(MEMBERS)
        changed = int(MEMBERS * CHANGED_SHARE) // 2
        # 1% changed: the first `changed` members leave, as many new people (numbers past the end) enter.
        shifted = list(range(changed, MEMBERS)) + list(range(MEMBERS, MEMBERS + changed))
        runs = [("first", _result(s3, "r1.csv", everyone)), ("unchanged", _result(s3, "r2.csv", everyone)),
                ("1% changed", _result(s3, "r3.csv", shifted))]
        print(f"advanced segmentation: {MEMBERS:,} members, the real merge and parts on moto S3, a counting target")
        for number, (name, key) in enumerate(runs, 1):
            writes, seconds, peak, chunks = _refresh(steps, s3, f"run{number}", key)
            target = {"first": MEMBERS, "unchanged": 0, "1% changed": 2 * changed}[name]
            print(f"  refresh {number} ({name}): {writes:,} writes (target {target:,}), {chunks} chunk(s), "
                  f"{seconds:.1f} s, peak Python heap {peak:.1f} MiB")


if __name__ == "__main__":
    main()
