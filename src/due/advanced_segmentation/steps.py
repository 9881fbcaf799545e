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
``finish`` makes the new membership the kept one, deletes the old one's parts
and announces the counts; ``notify_failure`` (every task's Catch) announces
the failure and removes the membership parts the failed run wrote, so the
kept membership stays the last successful run's and the next run diffs
against it (an unfinished audience upload is aborted by the bucket's
lifecycle rule a day later).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
            raise segment_query.QueryFailed(f"query {query['id']} {found.state}: {found.reason or 'no reason given'}")
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
            key = f"{MEMBERSHIP_PREFIX}runs/{state['run']['id']}/part-{len(progress['parts']) + 1:05d}.jsonl"
            s3.put_object(Bucket=self.settings.bucket, Key=key, Body=part.body(), ContentType="application/x-ndjson")
            progress["parts"].append(key)
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
        s3, bucket = self.clients("s3"), self.settings.bucket
        # The kept membership must still be the one this run diffed against, or this run's own (a retried Finish).
        if self._kept_membership()["run"] not in (state["kept"]["run"], state["run"]["id"]):
            raise ConcurrentRun("another run replaced the kept membership while this one ran; the next run diffs "
                                "against that one")
        s3.put_object(Bucket=bucket, Key=CURRENT_MEMBERSHIP, ContentType="application/json", Body=json.dumps(
            {"run": state["run"]["id"], "parts": state["apply"]["parts"], "query": state["query"]["id"],
             "counts": state["apply"]["counts"]}).encode())
        self._delete(set(state["kept"]["parts"]) - set(state["apply"]["parts"]))
        self._announce("succeeded", state, counts=state["apply"]["counts"],
                       audience=f"s3://{bucket}/{self.settings.audience_key}")
        return state

    def notify_failure(self, state: dict[str, Any]) -> dict[str, Any]:
        error = state.get("error") or {}
        cause = str(error.get("Cause", ""))
        with contextlib.suppress(ValueError, AttributeError):  # Lambda's error: {"errorMessage": ..., ...}
            cause = json.loads(cause).get("errorMessage", cause)
        self._delete(set((state.get("apply") or {}).get("parts", [])) - set((state.get("kept") or {}).get(
            "parts", [])))
        self._announce("failed", state, error=f"{error.get('Error', 'unknown')}: {cause}"[:2000],
                       query=(state.get("query") or {}).get("id"))
        return state

    # ------------------------------------------------------------- helpers
    def _kept_membership(self) -> dict[str, Any]:
        s3 = self.clients("s3")
        try:
            current = json.loads(s3.get_object(Bucket=self.settings.bucket, Key=CURRENT_MEMBERSHIP)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return {"run": None, "parts": []}  # the first run: everybody in the result enters
        return {"run": current["run"], "parts": list(current["parts"])}

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
