"""Event-based segmentation's functions: the applier (Kinesis), the forwarder (SQS) and the rule check.

* ``apply_handler``: the stream's batch -> events -> one write per person (``apply.apply_batch``). A record
  that is no event, and an event a rule cannot apply (the reason names the rule), are set aside whole in the
  rejected-events queue with the reason, for a person to see: retrying could never make them work. A person
  whose lookup or write failed has the sequence numbers of their records reported as batch item failures, so
  Lambda retries from the first of them (and, with BisectBatchOnFunctionError, splits a batch that keeps failing;
  what still fails after the mapping's retries is described in the on-failure queue).
* ``forward_handler``: SES and End User Messaging events (SNS -> SQS, raw delivery) -> the stream, one record per
  person with the person's ``partition_key``, so every source's events for one person are applied in order by
  one shard's invocations, never by two functions at once (a count or a Pinpoint list read and written by two
  invocations at once would lose an update).
* ``rules_check_handler``: a custom resource that reads the rule set as the applier will and fails the stack
  with the rule set's error (which names the rule) when it is invalid.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from due import aws, batch, custom_resource
from due.event_segmentation.apply import EndpointsTarget, ProfilesTarget, apply_batch, positions_failed
from due.event_segmentation.events import EngagementEvent, forwarded, normalise_json, partition_key
from due.event_segmentation.rule_source import CachedRules, read_rules
from due.event_segmentation.rules import Mode
from due.events import BadEvent
from due.logs import get_logger
from due.profiles import ProfileStore

logger = get_logger("event_segmentation")

PUT_RECORDS_MAX = 500  # PutRecords: "Each PutRecords request can support up to 500 records" (Kinesis API reference)
PUT_ATTEMPTS = 3
SEND_BATCH_MAX = 10  # SendMessageBatch: at most 10 entries
MAX_SET_ASIDE_BYTES = 200_000  # an SQS message holds 256 KiB; a record's data is kept up to this much


# --- the applier ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _rules() -> CachedRules:
    return CachedRules(aws.client("s3"), os.environ["RULES"], os.environ["RULES_S3_URI"], os.environ["MODE"])


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
        for _ in range(PUT_ATTEMPTS):
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
def apply_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return apply_records(event.get("Records", []), _rules().get(), _target(), aws.client("sqs"),
                         os.environ["REJECTED_QUEUE_URL"])


# --- the forwarder -------------------------------------------------------------------------------------------
def forward(bodies: dict[str, str], kinesis, stream_name: str) -> set[str]:
    """Puts each message's events on the stream; returns the message ids that failed (bad or not taken)."""
    failed: set[str] = set()
    entries: list[tuple[str, dict[str, Any]]] = []
    nobody = 0
    for message_id, body in bodies.items():
        try:
            events = normalise_json(body)
        except BadEvent as bad:
            logger.error("not an SES or End User Messaging event", extra={"message_id": message_id,
                                                                          "reason": str(bad)})
            failed.add(message_id)  # retried, then in the dead-letter queue with its body
            continue
        for event in events:
            if not event.person.is_named():
                nobody += 1  # e.g. an open of a message sent to several people: never guessed
                continue
            entries.append((message_id, {"Data": forwarded(event), "PartitionKey": partition_key(event.person)}))
    for start in range(0, len(entries), PUT_RECORDS_MAX):
        pending = entries[start:start + PUT_RECORDS_MAX]
        for _ in range(PUT_ATTEMPTS):
            response = kinesis.put_records(StreamName=stream_name, Records=[entry for _, entry in pending])
            # A record Kinesis did not take carries an ErrorCode (ProvisionedThroughputExceededException or
            # InternalFailure) in its place in the response; the others were written (PutRecords API reference).
            pending = [entry for entry, result in zip(pending, response["Records"], strict=True)
                       if "ErrorCode" in result]
            if not pending:
                break
        failed.update(message_id for message_id, _ in pending)
    logger.info("events forwarded", extra={"messages": len(bodies), "records": len(entries), "without_person": nobody,
                                           "failed_messages": len(failed)})
    return failed


@logger.inject_lambda_context
def forward_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    # A message whose events were put before another's failed is sent again with it: the stream then holds it
    # twice, which a set, add or remove rule absorbs and a count rule counts twice (at-least-once, as Lambda).
    failed = forward({r["messageId"]: r["body"] for r in records}, aws.client("kinesis"), os.environ["STREAM_NAME"])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in sorted(failed)]}


# --- the deploy-time check -----------------------------------------------------------------------------------
def _check(properties: dict[str, Any], _old: dict[str, Any], physical_id: str) -> tuple[str, dict[str, Any]]:
    rules = read_rules(aws.client("s3"), properties.get("Rules", ""), properties.get("RulesS3Uri", ""),
                       properties["Mode"])
    return physical_id, {"RuleCount": len(rules.rules)}


def rules_check_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(
        event, context, create=_check, update=_check, delete=lambda _p, _o, physical_id: (physical_id, {}))
