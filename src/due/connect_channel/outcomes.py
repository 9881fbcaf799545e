"""Per-recipient outcomes: a result file in S3 and a message on the SNS topic, for each call decided.

An outcome is one of ``called``, ``throttled then called`` (Connect or End User Messaging throttled the call
before it went), ``invalid number``, ``refused`` (not an allowed country, opted out, refused by the service),
``skipped`` (a Pinpoint endpoint without a phone number) or ``set aside`` (an earlier attempt may have placed
the call; it is in the send dead-letter queue), with the reason, the source, row or endpoint, the external id,
the number and the service's id for the call.

``OutcomeReport.flush()`` writes what one invocation decided as JSON lines, one object per source, at
``results/<source>/<first row>-<invocation>.jsonl`` in the stack's bucket (a file's source is its key and
version), and publishes each outcome on the topic with PublishBatch, 10 at a time (SNS API reference,
PublishBatch: up to 10 entries, 256 KiB in all), with message attributes ``outcome`` and ``source`` to filter
subscriptions on. An entry SNS did not take is sent again once, then the invocation fails.
The number is personal data: it goes to the user's own bucket and topic, never to a log line (``masked``
takes numbers out of the text a service answered, which may quote the destination).
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass

from due.connect_channel.requests import CallRequest

PUBLISH_BATCH = 10
# A phone number inside free text (a service's refusal message): 7 or more digits, perhaps after "+" and with
# spaces, dots, dashes or brackets between them. Masked before anything reaches a log line.
_NUMBER_IN_TEXT = re.compile(r"\+?\d(?:[\s.()-]{0,2}\d){6,}")


def masked(text: str) -> str:
    """``text`` with every phone-number-like run of digits replaced by ``<number>``."""
    return _NUMBER_IN_TEXT.sub("<number>", text)


OUTCOMES = ("called", "throttled then called", "invalid number", "refused", "skipped", "set aside")


@dataclass(frozen=True)
class Outcome:
    outcome: str
    reason: str
    source: str
    row: int
    recipient: str
    external_id: str
    number: str
    call_id: str = ""

    @classmethod
    def of(cls, request: CallRequest, outcome: str, reason: str = "", call_id: str = "") -> Outcome:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        return cls(outcome, reason, request.file, request.row, request.recipient, request.external_id,
                   request.number, call_id)


def _source_path(source: str) -> str:
    """bucket/key@version -> key/version; pinpoint/... stays as it is."""
    if source.startswith("pinpoint/"):
        return source
    _, _, key_version = source.partition("/")
    key, _, version = key_version.rpartition("@")
    return f"{key}/{version}"


class OutcomeReport:
    def __init__(self, s3, bucket: str, sns, topic_arn: str):
        self._s3, self._bucket, self._sns, self._topic = s3, bucket, sns, topic_arn
        self.pending: list[Outcome] = []

    def add(self, outcome: Outcome) -> None:
        self.pending.append(outcome)

    def flush(self) -> None:
        if not self.pending:
            return
        outcomes, self.pending = self.pending, []
        at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        by_source: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in outcomes:
            by_source[outcome.source].append(outcome)
        invocation = uuid.uuid4().hex[:12]
        for source, items in by_source.items():
            lines = "".join(json.dumps({**asdict(o), "at": at}, ensure_ascii=False) + "\n" for o in items)
            key = f"results/{_source_path(source)}/{items[0].row:09d}-{invocation}.jsonl"
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=lines.encode(), ContentType="application/x-ndjson")
        for start in range(0, len(outcomes), PUBLISH_BATCH):
            self._publish(outcomes[start:start + PUBLISH_BATCH], at)

    def _publish(self, outcomes: list[Outcome], at: str) -> None:
        entries = {str(i): {"Id": str(i), "Message": json.dumps({**asdict(o), "at": at}, ensure_ascii=False),
                            "MessageAttributes": {
                                "outcome": {"DataType": "String", "StringValue": o.outcome},
                                "source": {"DataType": "String", "StringValue": o.source[:1000]}}}
                   for i, o in enumerate(outcomes)}
        for _ in range(2):
            response = self._sns.publish_batch(TopicArn=self._topic, PublishBatchRequestEntries=list(entries.values()))
            entries = {f["Id"]: entries[f["Id"]] for f in response.get("Failed", [])}
            if not entries:
                return
        raise RuntimeError(f"SNS did not take {len(entries)} outcome(s) after two tries")
