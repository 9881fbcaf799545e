"""The applier: the stream's batch -> events -> one write per person (``apply.apply_batch``).

A record that is no event, an event a rule cannot apply (the reason names the rule), one that names nobody the
mode can write to, and one whose person the service refused for good are set aside whole in the rejected-events
queue with the reasons, one message per record, for a person to see: retrying could never make them work. (A
record after a retried one is applied again on the retry, and may be set aside twice.) A person
whose lookup or write failed has the sequence numbers of their records reported as batch item failures, so Lambda
retries from the first of them (and, with BisectBatchOnFunctionError, splits a batch that keeps failing; what
still fails after the mapping's retries is described in the on-failure queue).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from due import aws, batch
from due.event_segmentation.apply import EndpointsTarget, ProfilesTarget, apply_batch, positions_failed
from due.event_segmentation.events import EngagementEvent, normalise_json
from due.event_segmentation.rule_source import CachedRules
from due.event_segmentation.rules import Mode
from due.events import BadEvent
from due.logs import get_logger
from due.profiles import ProfileStore

logger = get_logger("event_segmentation_applier")

SEND_BATCH_MAX = 10  # SendMessageBatch: at most 10 entries ...
SEND_BATCH_BYTES = 250_000  # ... of at most 262,144 bytes together (SendMessageBatch, SQS API reference)
MAX_SET_ASIDE_BYTES = 60_000  # one set-aside message; a longer record's data is cut and marked so
SEND_ATTEMPTS = 3


# --- the applier ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _rules() -> CachedRules:
    return CachedRules(aws.client("s3"), os.environ["RULES"], os.environ["RULES_BUCKET"], os.environ["RULES_KEY"],
                       os.environ["RULES_VERSION"], os.environ["MODE"])


@functools.lru_cache(maxsize=1)
def _target():
    if Mode(os.environ["MODE"]) is Mode.PINPOINT:
        return EndpointsTarget(aws.client("pinpoint"), os.environ["PINPOINT_APPLICATION_ID"])
    return ProfilesTarget(ProfileStore(aws.client("customer-profiles"), os.environ["DOMAIN_NAME"], ""))


def set_aside_body(sequence: str, reasons: list[str], data: bytes) -> str:
    """One set-aside record as a message body that fits SQS with room to batch: the record's data is kept
    (cut at MAX_SET_ASIDE_BYTES, marked ``data_truncated``) so a person can replay it once the cause is fixed."""
    text = data.decode("utf-8", "replace")
    while True:
        body = json.dumps({"sequence_number": sequence, "reasons": reasons, "data": text,
                           "data_truncated": len(text) < len(data.decode("utf-8", "replace"))}, ensure_ascii=False)
        if len(body.encode()) <= MAX_SET_ASIDE_BYTES:
            return body
        text = text[:len(text) // 2]


def set_aside(sqs, queue_url: str, bodies: list[str]) -> None:
    """Puts records that can never be applied in the rejected-events queue, batched by count and bytes."""
    batches: list[list[str]] = [[]]
    for body in bodies:
        size = sum(len(b.encode()) for b in batches[-1])
        if len(batches[-1]) == SEND_BATCH_MAX or size + len(body.encode()) > SEND_BATCH_BYTES:
            batches.append([])
        batches[-1].append(body)
    for group in batches:
        entries = {str(i): {"Id": str(i), "MessageBody": body} for i, body in enumerate(group)}
        for _ in range(SEND_ATTEMPTS):
            if not entries:
                break
            failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=list(entries.values())).get("Failed", [])
            entries = {f["Id"]: entries[f["Id"]] for f in failed}
        if entries:
            raise RuntimeError(f"the rejected-events queue did not take {len(entries)} records")


def apply_records(records: list[dict[str, Any]], rules, target, sqs, rejected_queue_url: str,
                  mode: Mode = Mode.PROFILES) -> dict[str, Any]:
    events: list[EngagementEvent] = []
    sequence_of: list[str] = []  # per event: its record's sequence number
    data_of: dict[str, bytes] = {}
    reasons: dict[str, list[str]] = {}  # sequence number -> why (some of) its events were set aside
    for record in records:
        sequence = record["kinesis"]["sequenceNumber"]
        data_of[sequence] = batch.kinesis_data(record)
        try:
            found = normalise_json(data_of[sequence])
        except BadEvent as bad:
            reasons.setdefault(sequence, []).append(str(bad))
            continue
        events += found
        sequence_of += [sequence] * len(found)
    outcome = apply_batch(events, rules, target)
    for refused in outcome.refused:
        reasons.setdefault(sequence_of[refused.position], []).append(f"{refused.rule}: {refused.reason}")
    for position in outcome.unaddressed:
        reasons.setdefault(sequence_of[position], []).append(
            f"a rule applies but the event names nobody the {mode} mode can write to (current mode: email, phone or "
            "profile_id; Pinpoint mode: the endpoint)")
    for positions, why in outcome.rejected.values():
        for position in positions:
            reasons.setdefault(sequence_of[position], []).append(f"the service refused the person's change: {why}")
    if reasons:
        set_aside(sqs, rejected_queue_url, [set_aside_body(sequence, why, data_of[sequence])
                                            for sequence, why in reasons.items()])
    failed = sorted({sequence_of[position] for position in positions_failed(outcome)}, key=int)
    logger.info("batch applied", extra={**outcome.counts(), "records": len(records), "set_aside": len(reasons),
                                        "errors": sorted({error for _, error in outcome.failed.values()})})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return apply_records(event.get("Records", []), _rules().get(), _target(), aws.client("sqs"),
                         os.environ["REJECTED_QUEUE_URL"], Mode(os.environ["MODE"]))


