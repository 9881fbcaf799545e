"""One refresh of the segment, step by step; the state machine runs each step and carries the state between them.

The state (JSON, far below Step Functions' 256 KB)::

    run       {id}                        the execution's name: the query's idempotency token, the parts' folder
    config    {poll_seconds, maximum_polls}
    query     {id, polls, state, result_bucket, result_key, bytes_scanned}
    kept      {run, parts}                the previous successful run's membership (read at the start)
    apply     {position, parts, counts}   the walk's checkpoint, the new membership's parts written so far
    audience  {upload_id, parts, offset, rows, header, complete}
    step      {done}                      done=false: the state machine runs the step again
    error     {Error, Cause}              set by the state machine's Catch

``start_query`` reads which membership is kept and starts the query;
``check_query`` looks at it once per wait (raising ``QueryFailed`` when Athena
ends it FAILED or CANCELLED, and ``QueryTimedOut`` after the configured number
of looks); ``apply`` walks the result against the kept membership
(``membership.walk``), writes only who entered or left, and writes the new
membership a part per chunk; a chunk ends when the invocation's time runs
short or its part reaches ``membership.PART_BYTES``, so memory stays flat for
any number of members; ``write_audience`` writes the audience file;
``finish`` makes the new membership the kept one (its last necessary act:
the old parts' removal and the announcement after it are not undone by any
later failure); ``notify_failure`` (every task's Catch) announces the failure
and keeps a membership that matches what the run wrote (``_recover``).

The kept membership always matches what is written to profiles or endpoints:
a step retried from its checkpoint writes the same changes again (each write
sets a value, so twice is once), and a run that fails after it began to apply
keeps, in ``notify_failure``, the new membership up to its last checkpoint,
then every key the failed chunk may have changed marked uncertain
(``membership.recovered``: the next run looks them up instead of trusting the
line), then the old membership as it was. A run that fails before it applied
anything keeps the previous membership; a failure after ``finish`` wrote
``current.json`` keeps that one and deletes nothing it names.

``current.json`` is written with S3 conditional writes: ``IfMatch`` with the
ETag read when the run started (or ``IfNoneMatch="*"`` when there was none),
so two runs at once cannot both replace it: the second write fails with 412
Precondition Failed ("If the ETag values do not match, the operation returns
a 412 Precondition Failed error": S3 API reference, PutObject IfMatch; S3 User
Guide, "How to prevent object overwrites with conditional writes") and that
run fails with ``ConcurrentRun``. It also names the segment it was made for
(mode, token, domain or application, person key); a run whose stack settings
differ refuses to start (``SegmentChanged``) rather than diff another segment's
membership.

(An unfinished audience upload is aborted by the bucket's lifecycle rule a day
later.)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from due.advanced_segmentation import audience, membership, segment_query
from due.advanced_segmentation.targets import PinpointTarget, ProfilesTarget
from due.csv_stream import S3Object
from due.logs import get_logger

logger = get_logger("advanced_segmentation_steps")

MEMBERSHIP_PREFIX = "membership/"
CURRENT_MEMBERSHIP = f"{MEMBERSHIP_PREFIX}current.json"
DELETE_BATCH = 1000  # DeleteObjects: "up to 1,000 keys" per request (S3 API reference)


class QueryTimedOut(Exception):
    """The query was still running after the configured number of looks."""


class ConcurrentRun(Exception):
    """Another run changed the kept membership while this one ran; this run's result is not kept."""


class SegmentChanged(Exception):
    """The kept membership was made for another segment (the stack's SegmentToken, Mode, DomainName,
    PinpointApplicationId or PersonKey changed)."""


@dataclass
class Settings:
    mode: str  # CustomerProfiles | Pinpoint
    segment_token: str
    bucket: str
    database: str
    table: str
    workgroup: str
    query_name: str
    query_values: str = ""
    person_key: str = "email"
    domain_name: str = ""
    pinpoint_application_id: str = ""
    calls_per_second: float = 80
    rate_table_name: str = ""
    notifications_topic_arn: str = ""

    @property
    def results_location(self) -> str:
        return f"s3://{self.bucket}/athena-results/"

    @property
    def audience_key(self) -> str:
        return f"audience/{self.segment_token}.csv"

    @property
    def identity(self) -> dict[str, str]:
        """What a kept membership is a membership of: it cannot be reused when any of these changes."""
        if self.mode == "Pinpoint":
            return {"mode": self.mode, "token": self.segment_token, "application": self.pinpoint_application_id}
        return {"mode": self.mode, "token": self.segment_token, "domain": self.domain_name,
                "person_key": self.person_key}


class Clients:
    """The AWS clients a step needs, made on first use, and the pace of the paced APIs."""

    def __init__(self, make_client: Callable[[str], Any], settings: Settings, limiter=None):
        self._make, self.settings, self._made, self._limiter = make_client, settings, {}, limiter

    def __call__(self, service: str):
        if service not in self._made:
            self._made[service] = self._make(service)
        return self._made[service]

    def pace(self, key: str) -> Callable[[], None]:
        if self._limiter is None:
            from due.rate_limit import RateLimiter

            self._limiter = RateLimiter(self("dynamodb"), self.settings.rate_table_name)
        return lambda: self._limiter.wait(key, self.settings.calls_per_second)


class Steps:
    def __init__(self, settings: Settings, clients: Clients, stop: Callable[[], bool] = lambda: False):
        self.settings, self.clients, self.stop = settings, clients, stop

    def run(self, action: str, state: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, action, None)
        if action.startswith("_") or action == "run" or not callable(handler):
            raise ValueError(f"unknown step {action!r}")
        state = dict(state)
        state["step"] = {"done": True}
        return handler(state)

    # --------------------------------------------------------------- query
    def start_query(self, state: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        sql = segment_query.load(s.query_name, s.table, segment_query.parse_values(s.query_values))
        # The template substitutes numbers into the definition as text; a Wait's SecondsPath needs a number.
        state["config"] = {name: int(value) for name, value in state["config"].items()}
        state["kept"] = self._kept_membership()
        made_for = state["kept"].pop("segment", None)
        if made_for is not None and made_for != s.identity:
            changed = sorted(name for name in {*made_for, *s.identity} if made_for.get(name) != s.identity.get(name))
            raise SegmentChanged(
                f"the kept membership was made for another segment ({', '.join(changed)} changed): these are fixed "
                "for a stack's life; deploy a new stack for the new segment (docs: Remove it)")
        token = hashlib.sha256(f"{s.bucket}/{state['run']['id']}".encode()).hexdigest()  # 64 of Athena's 32-128
        execution_id = segment_query.start(self.clients("athena"), sql, database=s.database, workgroup=s.workgroup,
                                           output_location=s.results_location, token=token)
        state["query"] = {"id": execution_id, "polls": 0, "state": "QUEUED"}
        return state

    def check_query(self, state: dict[str, Any]) -> dict[str, Any]:
        query = state["query"]
        found = segment_query.status(self.clients("athena"), query["id"])
        query.update(state=found.state, polls=query["polls"] + 1)
        if found.state in ("FAILED", "CANCELLED"):
            # A failure's reason is not repeated: it can quote a value of the data (a failed cast does); the query
            # id finds it in the Athena console or GetQueryExecution. A cancellation's reason is Athena's own (the
            # workgroup's data usage limit, or whoever stopped it), so it is said.
            said = (f": {found.reason or 'no reason given'}" if found.state == "CANCELLED"
                    else f"{found.category}: its reason is in Athena (console or GetQueryExecution)")
            raise segment_query.QueryFailed(f"query {query['id']} {found.state}{said}")
        if found.state == "SUCCEEDED":
            query.update(result_bucket=found.result_bucket, result_key=found.result_key,
                         bytes_scanned=found.bytes_scanned)
            return state
        if query["polls"] >= int(state["config"]["maximum_polls"]):
            raise QueryTimedOut(f"query {query['id']} still {found.state} after {query['polls']} looks")
        state["step"]["done"] = False
        return state

    # --------------------------------------------------------------- apply
    def _target(self) -> ProfilesTarget | PinpointTarget:
        s = self.settings
        if s.mode == "Pinpoint":
            return PinpointTarget(self.clients("pinpoint"), s.pinpoint_application_id, s.segment_token,
                                  self.clients.pace("pinpoint-endpoints"))
        return ProfilesTarget(self.clients("customer-profiles"), s.domain_name, s.segment_token, s.person_key,
                              self.clients.pace("customer-profiles"))

    def apply(self, state: dict[str, Any]) -> dict[str, Any]:
        progress = state.setdefault("apply", {"position": None, "parts": [], "counts": {}})
        position = membership.Position.from_dict(progress["position"])
        s3, target, part = self.clients("s3"), self._target(), membership.PartWriter()
        counts: Counter[str] = Counter(progress["counts"])
        result = S3Object(state["query"]["result_bucket"], state["query"]["result_key"])
        finished = True
        for change, row, member in membership.walk(s3, result, self.settings.bucket, state["kept"]["parts"],
                                                   position):
            counts[change] += 1
            if change == membership.ENTERED:
                part.add(target.enter(row.key))
            elif change == membership.STAYED:
                part.add(target.stay(member))
            elif change == membership.LEFT:
                target.leave(member)
            if target.pending == 0:
                part.settle()
            if part.size >= membership.PART_BYTES or self.stop():
                finished = False
                break
        target.flush()
        part.settle()
        counts.update(target.counts)
        if part.size:
            progress["parts"].append(self._put_part(state["run"]["id"], "part", len(progress["parts"]) + 1,
                                                    part.body()))
        progress.update(position=position.to_dict(), counts=dict(counts))
        state["step"]["done"] = finished
        return state

    # ------------------------------------------------------------ audience
    def write_audience(self, state: dict[str, Any]) -> dict[str, Any]:
        progress = state.setdefault("audience", {})
        result = S3Object(state["query"]["result_bucket"], state["query"]["result_key"])
        state["step"]["done"] = audience.write(self.clients("s3"), result, self.settings.bucket,
                                               self.settings.audience_key, progress, self.stop)
        return state

    # ------------------------------------------------------------- the end
    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        bucket, run = self.settings.bucket, state["run"]["id"]
        current = self._kept_membership()
        if current["run"] != run:  # not a retried Finish whose first try wrote current.json
            if current["run"] != state["kept"]["run"]:
                raise ConcurrentRun("another run replaced the kept membership while this one ran; the next run "
                                    "diffs against that one")
            self._write_current(state, state["apply"]["parts"], counts=state["apply"]["counts"])
        # current.json now names this run: nothing below may undo it, and nothing fails the run for a leftover.
        left = self._delete_quietly(set(state["kept"]["parts"]) - set(state["apply"]["parts"]))
        self._announce("succeeded", state, counts=state["apply"]["counts"],
                       audience=f"s3://{bucket}/{self.settings.audience_key}",
                       **({"old_parts_left": left} if left else {}))
        return state

    def notify_failure(self, state: dict[str, Any]) -> dict[str, Any]:
        error = state.get("error") or {}
        cause = str(error.get("Cause", ""))
        with contextlib.suppress(ValueError, AttributeError):  # Lambda's error: {"errorMessage": ..., ...}
            cause = json.loads(cause).get("errorMessage", cause)
        kept = self._keep_what_was_written(state)
        self._announce("failed", state, error=f"{error.get('Error', 'unknown')}: {cause}"[:2000],
                       query=(state.get("query") or {}).get("id"), membership=kept)
        return state

    # ------------------------------------------------------------- helpers
    def _keep_what_was_written(self, state: dict[str, Any]) -> str:
        """Makes the kept membership match what the failed run wrote; says which membership is kept."""
        run, kept = state["run"]["id"], state.get("kept") or {}
        apply = state.get("apply") or {}
        current = self._kept_membership()
        if current["run"] == run:  # Finish (or an earlier try of this step) already made this run's the kept one
            self._delete_quietly(set(kept.get("parts", [])) - set(current["parts"]))
            return "this run's"
        if not (state.get("query") or {}).get("result_key"):
            return "the previous run's (this run wrote nothing)"
        if current["run"] != kept.get("run"):
            # Another run finished meanwhile (two refreshes at once: the page says not to); what this run wrote
            # past that run's reading cannot be told apart, so its keys are left to that membership.
            return "another run's (it finished while this one ran; this run's writes are not in it)"
        parts = self._recover(state)
        self._write_current(state, parts, counts=apply.get("counts", {}), recovered=True)
        unfinished_part = self._part_key(run, "part", len(apply.get("parts", [])) + 1)  # the failed chunk's, if any
        self._delete_quietly((set(kept.get("parts", [])) | {unfinished_part}) - set(parts))
        return "this run's up to its last checkpoint, the keys it may have changed marked uncertain"

    def _recover(self, state: dict[str, Any]) -> list[str]:
        """The failed run's parts up to its checkpoint, then parts for the rest: every key the failed chunk may
        have changed, uncertain, and past where it must have stopped the old membership as it is."""
        s3, bucket, run = self.clients("s3"), self.settings.bucket, state["run"]["id"]
        apply = state.get("apply") or {}
        parts, kept_parts = list(apply.get("parts", [])), state["kept"]["parts"]
        position = membership.Position.from_dict(apply.get("position"))
        result = S3Object(state["query"]["result_bucket"], state["query"]["result_key"])
        writer = membership.PartWriter()
        number = 0

        def add(member: membership.Member) -> None:
            nonlocal writer, number
            writer.add(member)
            writer.settle()
            if writer.size >= membership.PART_BYTES:
                number += 1
                parts.append(self._put_part(run, "recovered", number, writer.body()))
                writer = membership.PartWriter()

        try:
            for change, row, member in membership.walk(s3, result, bucket, kept_parts, position):
                if (found := membership.recovered(change, row, member)) is not None:
                    add(found)
        except membership.OutOfOrder:
            # The failed run met the same disorder at the same row (the walk is the same over the same files) and
            # wrote nothing past it: the rest of the old membership is still true.
            for member in membership.kept_from(s3, bucket, kept_parts, position):
                add(member)
        if writer.size:
            number += 1
            parts.append(self._put_part(run, "recovered", number, writer.body()))
        return parts

    def _part_key(self, run: str, kind: str, number: int) -> str:
        return f"{MEMBERSHIP_PREFIX}runs/{run}/{kind}-{number:05d}.jsonl"

    def _put_part(self, run: str, kind: str, number: int, body: bytes) -> str:
        key = self._part_key(run, kind, number)
        self.clients("s3").put_object(Bucket=self.settings.bucket, Key=key, Body=body,
                                      ContentType="application/x-ndjson")
        return key

    def _write_current(self, state: dict[str, Any], parts: list[str], **details: Any) -> None:
        """current.json names these parts, only if it is still what this run read when it started."""
        etag = (state.get("kept") or {}).get("etag")
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        s3 = self.clients("s3")
        try:
            s3.put_object(Bucket=self.settings.bucket, Key=CURRENT_MEMBERSHIP, ContentType="application/json",
                          Body=json.dumps({"run": state["run"]["id"], "parts": parts, "query": state["query"]["id"],
                                           "segment": self.settings.identity, **details}).encode(), **condition)
        except ClientError as error:
            # 412: another run wrote it since this one read it; 409 ConditionalRequestConflict: at the same time
            # (S3 API reference, PutObject).
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise ConcurrentRun("another run replaced the kept membership while this one ran; the next run "
                                    "diffs against that one") from None
            raise

    def _kept_membership(self) -> dict[str, Any]:
        s3 = self.clients("s3")
        try:
            answer = s3.get_object(Bucket=self.settings.bucket, Key=CURRENT_MEMBERSHIP)
        except s3.exceptions.NoSuchKey:
            return {"run": None, "parts": [], "etag": None}  # the first run: everybody in the result enters
        current = json.loads(answer["Body"].read())
        kept = {"run": current["run"], "parts": list(current["parts"]), "etag": answer["ETag"]}
        if "segment" in current:  # written since the membership names its segment
            kept["segment"] = current["segment"]
        return kept

    def _delete_quietly(self, keys: set[str]) -> int:
        """Deletes these parts; returns how many are left (a leftover costs storage, never correctness)."""
        try:
            self._delete(keys)
        except (ClientError, BotoCoreError, RuntimeError):
            logger.warning("membership parts left behind", extra={"parts": len(keys)})
            return len(keys)
        return 0

    def _delete(self, keys: set[str]) -> None:
        ordered = sorted(keys)
        for start in range(0, len(ordered), DELETE_BATCH):
            answer = self.clients("s3").delete_objects(Bucket=self.settings.bucket, Delete={
                "Objects": [{"Key": key} for key in ordered[start:start + DELETE_BATCH]], "Quiet": True})
            if answer.get("Errors"):
                raise RuntimeError(f"S3 kept {len(answer['Errors'])} membership parts: {answer['Errors'][0]}")

    def _announce(self, outcome: str, state: dict[str, Any], **details: Any) -> None:
        message = {"outcome": outcome, "segment": self.settings.segment_token, "run": state["run"]["id"], **details}
        self.clients("sns").publish(
            TopicArn=self.settings.notifications_topic_arn,
            Subject=f"Segment {self.settings.segment_token}: {outcome}",
            Message=json.dumps(message),
            MessageAttributes={"outcome": {"DataType": "String", "StringValue": outcome}})
        logger.info("segment refresh %s", outcome, extra={"run": state["run"]["id"],
                                                          "counts": details.get("counts")})
