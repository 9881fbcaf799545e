"""Custom resource: point every SES identity's bounce and complaint notifications at the stack's topic.

Create and Update wire (idempotently); Delete restores what was there before.
"""

from __future__ import annotations

import os
from typing import Any

from due import aws, custom_resource
from due.logs import get_logger
from due.ses_event_processing import identity_wiring

logger = get_logger("ses_identity_wiring")


def _operations():
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
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    create_or_update, delete = _operations()
    custom_resource.respond_to_cloudformation(
        event, context, create=create_or_update, update=create_or_update, delete=delete
    )
