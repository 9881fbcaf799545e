"""Step Functions -> one step of a segment refresh ({"action": ..., "state": ...}); returns the new state."""

from __future__ import annotations

import functools
import os
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from due import aws
from due.advanced_segmentation.steps import Clients, Settings, Steps
from due.logs import get_logger

logger = get_logger("advanced_segmentation_steps")

# A chunk stops with this much of its invocation left and goes on in the next.
STOP_WITH_MILLISECONDS_LEFT = 60_000


class TransientError(Exception):
    """A passing trouble; the state machine's Retry for this error name runs the step again later."""


class ServiceError(Exception):
    """An AWS call failed for good. Its message names the call and the error code only: a service's message can
    quote a value it refused (a key, which may be an address), and this message becomes the Step Functions
    error's Cause and the failed notification."""


def _described(action: str, error: Exception) -> str:
    if isinstance(error, ClientError):
        return (f"{action}: {error.operation_name} answered {error.response.get('Error', {}).get('Code', '?')} "
                f"(HTTP {error.response.get('ResponseMetadata', {}).get('HTTPStatusCode', '?')})")
    return f"{action}: {type(error).__name__}"


def settings_from_environment() -> Settings:
    return Settings(
        mode=os.environ["MODE"], segment_token=os.environ["SEGMENT_TOKEN"], bucket=os.environ["BUCKET_NAME"],
        database=os.environ["DATABASE"], table=os.environ["TABLE"], workgroup=os.environ["WORKGROUP"],
        query_name=os.environ["QUERY_NAME"], query_values=os.environ["QUERY_VALUES"],
        person_key=os.environ["PERSON_KEY"], domain_name=os.environ["DOMAIN_NAME"],
        pinpoint_application_id=os.environ["PINPOINT_APPLICATION_ID"],
        calls_per_second=float(os.environ["CALLS_PER_SECOND"]), rate_table_name=os.environ["RATE_TABLE_NAME"],
        notifications_topic_arn=os.environ["NOTIFICATIONS_TOPIC_ARN"])


@functools.lru_cache(maxsize=1)
def _clients() -> Clients:
    return Clients(aws.client, settings_from_environment())


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    clients = _clients()
    steps = Steps(clients.settings, clients,
                  lambda: context.get_remaining_time_in_millis() < STOP_WITH_MILLISECONDS_LEFT)
    try:
        result = steps.run(event["action"], event["state"])
    except (ClientError, BotoCoreError) as error:
        if aws.is_passing(error):
            # Still throttled after botocore's retries, or the network: the state machine's Retry runs the
            # step again later, with backoff, from the checkpoint it was given.
            raise TransientError(_described(event["action"], error)) from None
        raise ServiceError(_described(event["action"], error)) from None
    logger.info("step done", extra={"action": event["action"], "run": result["run"]["id"],
                                    "done": result["step"]["done"], "counts": (result.get("apply") or {}).get(
                                        "counts")})
    return result
