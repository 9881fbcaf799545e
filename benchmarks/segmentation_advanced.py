"""Advanced segmentation (#10), measured: writes per refresh and the applier's memory, up to 1,000,000 members.

The real steps (``due.advanced_segmentation.steps.Steps``: the streamed merge of
the query's result with the kept membership, the chunks and their checkpoints,
the membership parts, the finish) run against a stand-in for S3 that keeps
objects on disk and serves ranged GETs from there (in AWS the objects are not
in the function's memory either), with a target that counts what it would
write instead of calling Customer Profiles (one profile per key). For each
size, three refreshes: the first (everyone enters), the same result again
(target: 0 writes), then 1% of the members changed (half left, as many new:
target that 1% in writes); then a run of that 1% change that fails before its
first checkpoint, whose NotifyFailure walks both files to keep a membership
matching what it may have written (no writes; target: the 1% marked
uncertain). Each refresh runs in a forked process, so its peak
resident growth (Linux VmHWM minus VmRSS at the start) is its own. Figures,
not tests.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
import time
import types
from collections import Counter
from pathlib import Path

from benchmarks.measuring import in_child

SIZES = (100_000, 1_000_000)
CHANGED_SHARE = 0.01
BUCKET = "segment-benchmark"
SEGMENT = "bench"


def etag(body: bytes) -> str:
    """An opaque tag that changes with the content, as S3's ETag does for a PutObject."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


class DiskS3:
    """S3 for one bucket, objects as files: HeadObject, GetObject (whole or one byte range), PutObject,
    DeleteObjects."""

    class NoSuchKey(Exception):
        pass

    def __init__(self, root: Path):
        self.root = root
        self.exceptions = types.SimpleNamespace(NoSuchKey=self.NoSuchKey)
        self.calls: Counter[str] = Counter()

    def _path(self, bucket: str, key: str) -> Path:
        assert bucket == BUCKET, bucket
        return self.root / key

    def head_object(self, Bucket, Key):
        self.calls["HeadObject"] += 1
        return {"ContentLength": self._path(Bucket, Key).stat().st_size}

    def get_object(self, Bucket, Key, Range=None):
        self.calls["GetObject"] += 1
        path = self._path(Bucket, Key)
        if not path.exists():
            raise self.NoSuchKey(Key)
        if Range is None:
            body = path.read_bytes()
            return {"Body": io.BytesIO(body), "ETag": etag(body)}
        start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", Range).groups())
        with path.open("rb") as file:
            file.seek(start)
            return {"Body": io.BytesIO(file.read(end - start + 1))}

    def put_object(self, Bucket, Key, Body, IfMatch=None, IfNoneMatch=None, **_kwargs):
        self.calls["PutObject"] += 1
        path = self._path(Bucket, Key)
        if IfNoneMatch == "*" and path.exists():
            raise RuntimeError(f"{Key} exists (412)")
        if IfMatch is not None and (not path.exists() or IfMatch != etag(path.read_bytes())):
            raise RuntimeError(f"{Key} changed (412)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Body)

    def delete_objects(self, Bucket, Delete):
        self.calls["DeleteObjects"] += 1
        for item in Delete["Objects"]:
            self._path(Bucket, item["Key"]).unlink(missing_ok=True)  # S3 deletes a missing key without error
        return {}


class CountingTarget:
    """Writes nothing; a write per person who enters or leaves, as ProfilesTarget with one profile per key."""

    pending = 0

    def __init__(self):
        self.counts: Counter[str] = Counter()

    def enter(self, key):
        from due.advanced_segmentation.membership import Member

        self.counts["writes"] += 1
        return Member(key, [f"p{key[6:13]}"])

    def stay(self, member):
        return member

    def leave(self, member):
        self.counts["writes"] += len(member.targets)

    def flush(self):
        pass


def write_result(root: Path, key: str, numbers) -> str:
    """A result file as Athena writes it (a header, every value quoted), keys in order, written as it goes."""
    with (root / key).open("w", encoding="utf-8") as file:
        file.write('"email","opens"\n')
        for number in numbers:
            file.write(f'"person{number:07d}@example.com","3"\n')
    return key


def resident_kb(name: str) -> int:
    """VmRSS (now) or VmHWM (the most since the process began; a forked child starts at its parent's size)."""
    return int(re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE).group(1))


def refresh(root: Path, run: str, result_key: str) -> dict:
    """One refresh's apply chunks and finish, as the state machine runs them; its writes, chunks, time, memory."""
    from due.advanced_segmentation.steps import Clients, Settings, Steps

    s3 = DiskS3(root)
    settings = Settings(mode="CustomerProfiles", segment_token=SEGMENT, bucket=BUCKET, database="d", table="t",
                        workgroup="w", query_name="email_openers")
    steps = Steps(settings, Clients({"s3": s3}.__getitem__, settings))
    steps._target = CountingTarget  # type: ignore[method-assign]
    steps._announce = lambda *args, **kwargs: None  # type: ignore[method-assign]
    before = resident_kb("VmRSS")
    started = time.perf_counter()
    state = {"run": {"id": run}, "config": {}, "kept": steps._kept_membership(),
             "query": {"id": run, "result_bucket": BUCKET, "result_key": result_key}}
    chunks = 0
    while True:
        state = steps.run("apply", state)
        chunks += 1
        if state["step"]["done"]:
            break
    steps.run("finish", state)
    return {"writes": state["apply"]["counts"].get("writes", 0), "chunks": chunks,
            "seconds": time.perf_counter() - started, "growth_mib": (resident_kb("VmHWM") - before) / 1024,
            "gets": s3.calls["GetObject"]}


def failed_refresh(root: Path, run: str, result_key: str) -> dict:
    """A run that failed before its first checkpoint: NotifyFailure's walk; its time, memory, uncertain keys."""
    from due.advanced_segmentation.steps import CURRENT_MEMBERSHIP, Clients, Settings, Steps

    s3 = DiskS3(root)
    settings = Settings(mode="CustomerProfiles", segment_token=SEGMENT, bucket=BUCKET, database="d", table="t",
                        workgroup="w", query_name="email_openers")
    steps = Steps(settings, Clients({"s3": s3}.__getitem__, settings))
    steps._announce = lambda *args, **kwargs: None  # type: ignore[method-assign]
    before = resident_kb("VmRSS")
    started = time.perf_counter()
    steps.run("notify_failure", {"run": {"id": run}, "config": {}, "kept": steps._kept_membership(),
                                 "query": {"id": run, "result_bucket": BUCKET, "result_key": result_key},
                                 "error": {"Error": "Lambda.Unknown", "Cause": "the first chunk timed out"}})
    seconds = time.perf_counter() - started
    import json

    parts = json.loads((root / CURRENT_MEMBERSHIP).read_bytes())["parts"]
    uncertain = sum((root / part).read_bytes().count(b'"u":1') for part in parts)
    return {"writes": 0, "chunks": 1, "seconds": seconds, "growth_mib": (resident_kb("VmHWM") - before) / 1024,
            "gets": s3.calls["GetObject"], "uncertain": uncertain}



def measure(members: int, root: Path) -> list[tuple[str, int, dict]]:
    changed = int(members * CHANGED_SHARE) // 2
    # 1% changed: the first `changed` members leave, as many new people (numbers past the end) enter.
    shifted = [*range(changed, members), *range(members, members + changed)]
    runs = [("first", members, write_result(root, "r1.csv", range(members))),
            ("unchanged", 0, write_result(root, "r2.csv", range(members))),
            ("1% changed", 2 * changed, write_result(root, "r3.csv", shifted))]
    measured = [(name, target, in_child(refresh, root, f"run{number}", key))
                for number, (name, target, key) in enumerate(runs, 1)]
    # The same change again, against the 1%-changed membership: back to the first result, failed at once.
    return [*measured, ("failed", 2 * changed, in_child(failed_refresh, root, "run4", "r1.csv"))]


def main() -> None:
    from due.advanced_segmentation import membership

    print("advanced segmentation: the real merge, chunks and membership parts over S3 kept on disk, a target that "
          f"counts writes; membership parts of {membership.PART_BYTES // 2**20} MiB; each refresh in its own process")
    for members in SIZES:
        root = Path(tempfile.mkdtemp(prefix="due-segment-bench-"))
        try:
            for name, target, figures in measure(members, root):
                what = (f"{figures['uncertain']:>9,} uncertain (target {target:,}), NotifyFailure's walk"
                        if "uncertain" in figures else
                        f"{figures['writes']:>9,} writes (target {target:,}), {figures['chunks']} chunk(s)")
                print(f"  {members:>9,} members, refresh {name:<10}: {what}, {figures['seconds']:6.1f} s, "
                      f"{figures['gets']:,} ranged GETs, peak resident growth {figures['growth_mib']:.1f} MiB")
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
