"""Custom resource: point a Pinpoint project's event stream at this stack's stream, through IAM propagation.

CloudFormation's ``AWS::Pinpoint::EventStream`` calls ``PutEventStream`` once. Pinpoint checks the stream's role
when that call is made, and a role or policy the same stack created seconds before is often not visible to it
yet (IAM User Guide, troubleshooting: "Changes that I make are not always immediately visible"): Pinpoint then
answers ``BadRequestException`` and the first deploy fails. The messages reported for it ("make sure the IAM Role
is configured correctly", retried for two minutes by hashicorp/terraform-provider-aws PR #18305; "Destination
stream validation failed", issue #27096) are not documented, so every ``BadRequestException`` is retried until
``RETRY_BUDGET_SECONDS`` have passed, and then the service's message is the failure's reason. Throttling
(``TooManyRequestsException``) that outlasts botocore's own retries is retried the same way.

On delete, the project's stream is removed only if it still points at this stack's destination
(``GetEventStream``): a project someone has pointed elsewhere since keeps its stream. A project has one event
stream; ``GetEventStream`` and ``DeleteEventStream`` answer ``NotFoundException`` when it has none (Pinpoint API
reference, "Event stream" resource).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from due import aws, custom_resource
from due.logs import get_logger

logger = get_logger("pinpoint_event_stream")

RETRIED = frozenset({"BadRequestException", "TooManyRequestsException"})
RETRY_BUDGET_SECONDS = 150.0  # IAM changes usually show within seconds; the function's timeout leaves room
FIRST_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 20.0
NOT_FOUND = "NotFoundException"


class EventStreamRefused(Exception):
    """Pinpoint would not take the event stream; the message names the project and carries Pinpoint's reason."""


def point(pinpoint, application_id: str, destination_arn: str, role_arn: str, *,
          budget_seconds: float = RETRY_BUDGET_SECONDS, sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic) -> int:
    """Set the project's event stream, retrying while the role propagates. Returns the number of attempts."""
    started = clock()
    delay = FIRST_DELAY_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            pinpoint.put_event_stream(ApplicationId=application_id, WriteEventStream={
                "DestinationStreamArn": destination_arn, "RoleArn": role_arn})
            logger.info("event stream set", extra={"application_id": application_id, "attempts": attempt})
            return attempt
        except ClientError as error:
            code, message = error.response["Error"].get("Code", ""), error.response["Error"].get("Message", "")
            elapsed = clock() - started
            if code not in RETRIED:
                raise EventStreamRefused(
                    f"Pinpoint refused the event stream of project {application_id}: {code}: {message}") from error
            if elapsed + delay > budget_seconds:
                raise EventStreamRefused(
                    f"Pinpoint still refused the event stream of project {application_id} after {attempt} attempts "
                    f"over {elapsed:.0f} s: {code}: {message}") from error
            logger.info("event stream refused; retrying (the role may not have propagated yet)",
                        extra={"application_id": application_id, "attempt": attempt, "error": code,
                               "retry_in_seconds": delay})
        sleep(delay)
        delay = min(delay * 2, MAX_DELAY_SECONDS)


def remove(pinpoint, application_id: str, destination_arn: str) -> bool:
    """Delete the project's event stream if it still points at ``destination_arn``. True if it was deleted."""
    try:
        current = pinpoint.get_event_stream(ApplicationId=application_id)["EventStream"]
    except ClientError as error:
        if error.response["Error"].get("Code") != NOT_FOUND:
            raise
        logger.info("project has no event stream; nothing to remove", extra={"application_id": application_id})
        return False
    if current.get("DestinationStreamArn") != destination_arn:
        logger.warning("project's event stream points elsewhere now; left alone",
                       extra={"application_id": application_id, "destination": current.get("DestinationStreamArn")})
        return False
    try:
        pinpoint.delete_event_stream(ApplicationId=application_id)
    except ClientError as error:
        if error.response["Error"].get("Code") != NOT_FOUND:
            raise
        return False
    logger.info("event stream removed", extra={"application_id": application_id})
    return True


def _put(properties: dict[str, Any], _old: dict[str, Any], _physical_id: str) -> tuple[str, dict[str, str]]:
    application_id = properties["ApplicationId"]
    attempts = point(aws.client("pinpoint"), application_id, properties["DestinationStreamArn"],
                     properties["RoleArn"])
    # The physical id names the project: moving to another project makes CloudFormation delete the old one's.
    return f"{application_id}/event-stream", {"Attempts": str(attempts)}


def _delete(properties: dict[str, Any], _old: dict[str, Any], physical_id: str) -> tuple[str, dict[str, str]]:
    removed = remove(aws.client("pinpoint"), properties["ApplicationId"], properties["DestinationStreamArn"])
    return physical_id, {"Removed": str(removed).lower()}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(event, context, create=_put, update=_put, delete=_delete)
