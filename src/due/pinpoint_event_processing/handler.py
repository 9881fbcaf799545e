"""Pinpoint event stream (Kinesis) -> the same reputation logic as SES Event Processing."""

from __future__ import annotations

import functools
from typing import Any

from due import batch, pinpoint_events
from due.logs import get_logger
from due.ses_event_processing.reputation import Reputation

logger = get_logger("pinpoint_event_processing")


@functools.lru_cache(maxsize=1)
def _reputation() -> Reputation:
    return Reputation.from_environment()


def process_record(record: batch.Record) -> None:
    event = pinpoint_events.parse(batch.kinesis_data(record))
    feedback = event.feedback()
    if feedback is None:
        return
    outcomes = _reputation().apply(feedback)
    logger.info(
        "feedback applied",
        extra={"sequence_number": record["kinesis"]["sequenceNumber"], "event_type": event.event_type,
               "endpoint_id": event.endpoint_id,
               "outcomes": {address: outcome.value for address, outcome in outcomes.items()}},
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch.process_kinesis(event, process_record)
