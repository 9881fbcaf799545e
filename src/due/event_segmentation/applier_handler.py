"""The applier: the stream's batch -> events -> one write per person (``apply.apply_batch``).

A record that is no event, and an event a rule cannot apply (the reason names the rule), are set aside whole in
the rejected-events queue with the reason, for a person to see: retrying could never make them work. A person
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

SEND_BATCH_MAX = 10  # SendMessageBatch: at most 10 entries
SEND_ATTEMPTS = 3
MAX_SET_ASIDE_BYTES = 200_000  # an SQS message holds 256 KiB; a record's data is kept up to this much


# --- the applier ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _rules() -> CachedRules:
    return CachedRules(aws.client("s3"), os.environ["RULES"], os.environ["RULES_BUCKET"], os.environ["RULES_KEY"],
                       os.environ["MODE"])


@functools.lru_cache(maxsize=1)
def _target():
    if Mode(os.environ["MODE"]) is Mode.PINPOINT:
        return EndpointsTarget(aws.client("pinpoint"), os.environ["PINPOINT_APPLICATION_ID"])
    return ProfilesTarget(ProfileStore(aws.client("customer-profiles"), os.environ["DOMAIN_NAME"], ""))


def set_aside(sqs, queue_url: str, items: list[dict[str, Any]]) -> None:
    """Puts records that can never be applied in the rejected-events queue, each with its reason."""
    for start in range(0, len(items), SEND_BATCH_MAX):
        entries = {str(i): {"Id": str(i), "MessageBody": json.dumps(item)}
                   for i, item in enumerate(items[start:start + SEND_BATCH_MAX])}
        for _ in range(SEND_ATTEMPTS):
            failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=list(entries.values())).get("Failed", [])
            entries = {f["Id"]: entries[f["Id"]] for f in failed}
            if not entries:
                break
        else:
            raise RuntimeError(f"the rejected-events queue did not take {len(entries)} records")


def apply_records(records: list[dict[str, Any]], rules, target, sqs, rejected_queue_url: str) -> dict[str, Any]:
    events: list[EngagementEvent] = []
    sequence_of: list[str] = []  # per event: its record's sequence number
    data_of: dict[str, str] = {}
    rejected: list[dict[str, Any]] = []
    for record in records:
        sequence = record["kinesis"]["sequenceNumber"]
        data = batch.kinesis_data(record)
        data_of[sequence] = data.decode("utf-8", "replace")[:MAX_SET_ASIDE_BYTES]
        try:
            found = normalise_json(data)
        except BadEvent as bad:
            rejected.append({"reason": str(bad), "sequence_number": sequence, "data": data_of[sequence]})
            continue
        events += found
        sequence_of += [sequence] * len(found)
    outcome = apply_batch(events, rules, target)
    for refused in outcome.refused:
        sequence = sequence_of[refused.position]
        rejected.append({"reason": f"{refused.rule}: {refused.reason}", "sequence_number": sequence,
                         "data": data_of[sequence]})
    if rejected:
        set_aside(sqs, rejected_queue_url, rejected)
    failed = sorted({sequence_of[position] for position in positions_failed(outcome)}, key=int)
    logger.info("batch applied", extra={**outcome.counts(), "records": len(records), "rejected": len(rejected),
                                        "errors": sorted({error for _, error in outcome.failed.values()})})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return apply_records(event.get("Records", []), _rules().get(), _target(), aws.client("sqs"),
                         os.environ["REJECTED_QUEUE_URL"])


