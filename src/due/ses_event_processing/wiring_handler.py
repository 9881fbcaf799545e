"""Point every verified SES identity's bounce and complaint notifications at the stack's topic.

Two callers, one logic:

* CloudFormation (custom resource): Create and Update wire (idempotently);
  Delete restores what was there before.
* An EventBridge schedule, whose constant input is ``{"TopicArn", "Overwrite"}``:
  wires identities verified since (SES publishes no event when an identity's
  verification succeeds: it is asynchronous, a link click or a DNS check that
  can take up to 72 hours, so polling is what finds them).

Both stop before the function's time runs out; the next scheduled run continues.
"""

from __future__ import annotations

import os
from typing import Any

from due import aws, custom_resource
from due.logs import get_logger
from due.ses_event_processing import identity_wiring

logger = get_logger("ses_identity_wiring")

# Stop wiring this long before the function times out: answering CloudFormation and logging need a moment.
TIME_MARGIN_MILLIS = 60_000


def _replaced() -> identity_wiring.ReplacedTopics:
    return identity_wiring.ReplacedTopics(aws.client("dynamodb"), os.environ["WIRING_STATE_TABLE_NAME"])


def _pacer() -> identity_wiring.Pacer:
    return identity_wiring.Pacer()


def wire(properties: dict[str, Any], context: Any) -> identity_wiring.WiringReport:
    overwrite = str(properties.get("Overwrite", "false")).lower() == "true"
    report = identity_wiring.wire(
        aws.client("ses"), _replaced(), properties["TopicArn"], overwrite, pacer=_pacer(),
        out_of_time=lambda: context.get_remaining_time_in_millis() < TIME_MARGIN_MILLIS,
    )
    _log(report)
    return report


def _log(report: identity_wiring.WiringReport) -> None:
    logger.info("identities wired", extra=report.as_data())
    if report.kept:
        logger.warning("identities keep another topic (Overwrite is false)", extra={"kept": report.kept})
    if report.not_verified:
        logger.info("identities not verified yet: wired by a later run once verified",
                    extra={"not_verified": report.not_verified})
    if report.failed:
        logger.warning("identities SES refused to wire; the next run tries again", extra={"failed": report.failed})
    if not report.complete:
        logger.warning("stopped before the function's time ran out; the next scheduled run continues")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str] | None:
    if "RequestType" not in event:  # the schedule
        return wire(event, context).as_data()

    def create_or_update(properties, _old, physical_id):
        return physical_id, wire(properties, context).as_data()

    def delete(properties, _old, physical_id):
        if "TopicArn" not in properties:  # a Create that failed validation recorded nothing
            return physical_id, {}
        report = identity_wiring.unwire(aws.client("ses"), _replaced(), properties["TopicArn"], _pacer())
        _log(report)
        return physical_id, report.as_data()

    custom_resource.respond_to_cloudformation(
        event, context, create=create_or_update, update=create_or_update, delete=delete
    )
    return None
