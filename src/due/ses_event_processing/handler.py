"""SES notifications (SNS -> SQS) -> suppression list and address database.

Two entry points:
* ``lambda_handler``: the SQS consumer, one notification per message.
* ``wire_identities_handler``: the custom resource that points every SES
  identity's bounce and complaint notifications at the stack's topic.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from due import aws, batch, custom_resource, ses_events
from due.logs import get_logger
from due.ses_event_processing import identity_wiring
from due.ses_event_processing.reputation import Reputation

logger = get_logger("ses_event_processing")


@functools.lru_cache(maxsize=1)
def _reputation() -> Reputation:
    return Reputation.from_environment()


def process_record(record: SQSRecord) -> None:
    event = ses_events.parse(record.body)
    feedback = event.feedback()
    if feedback is None:
        logger.debug("no reputation meaning", extra={"ses_event_type": event.type.value})
        return
    outcomes = _reputation().apply(feedback)
    logger.info(
        "feedback applied",
        extra={"message_id": record.message_id, "kind": feedback.kind.value,
               "outcomes": {address: outcome.value for address, outcome in outcomes.items()}},
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch.process_sqs(event, context, process_record)


def _wiring_operations():
    replaced = identity_wiring.ReplacedTopics(aws.client("dynamodb"), os.environ["WIRING_STATE_TABLE_NAME"])
    ses = aws.client("ses")

    def create_or_update(properties, _old, physical_id):
        overwrite = str(properties.get("Overwrite", "false")).lower() == "true"
        report = identity_wiring.wire(ses, replaced, properties["TopicArn"], overwrite)
        if report.kept:
            logger.warning("identities keep another topic (Overwrite is false)", extra={"kept": report.kept})
        return physical_id, report.as_data()

    def delete(properties, _old, physical_id):
        if "TopicArn" not in properties:  # a Create that failed validation recorded nothing
            return physical_id, {}
        return physical_id, identity_wiring.unwire(ses, replaced, properties["TopicArn"]).as_data()

    return create_or_update, delete


@logger.inject_lambda_context
def wire_identities_handler(event: dict[str, Any], context: Any) -> None:
    create_or_update, delete = _wiring_operations()
    custom_resource.respond_to_cloudformation(
        event, context, create=create_or_update, update=create_or_update, delete=delete
    )
