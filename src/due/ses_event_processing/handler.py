"""SES notifications (SNS -> SQS) -> suppression list and address database; one notification per message."""

from __future__ import annotations

import functools
from typing import Any

from due import batch, ses_events
from due.logs import get_logger
from due.ses_event_processing.reputation import Reputation

logger = get_logger("ses_event_processing")


@functools.lru_cache(maxsize=1)
def _reputation() -> Reputation:
    return Reputation.from_environment()


def process_record(record: batch.Record) -> None:
    event = ses_events.parse(record["body"])
    feedback = event.feedback()
    if feedback is None:
        logger.debug("no reputation meaning", extra={"ses_event_type": event.type.value})
        return
    outcomes = _reputation().apply(feedback)
    logger.info(
        "feedback applied",
        extra={"message_id": record["messageId"], "kind": feedback.kind.value,
               "outcomes": {address: outcome.value for address, outcome in outcomes.items()}},
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch.process_sqs(event, process_record)
