"""Step Functions -> one step of an import ({"action": ..., "state": ...}); returns the new state."""

from __future__ import annotations

import functools
import os
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from due import aws
from due.logs import get_logger
from due.s3_triggered_import.steps import Clients, Settings, Steps

logger = get_logger("s3_triggered_import_steps")

class TransientError(Exception):
    """A passing trouble; the state machine's Retry for this error name runs the step again later."""

# A step that reads the file stops with this much of its invocation left, and goes on in the next.
STOP_WITH_MILLISECONDS_LEFT = 60_000


def settings_from_environment() -> Settings:
    return Settings(
        destination=os.environ["DESTINATION"], id_column=os.environ["ID_COLUMN"],
        email_column=os.environ["EMAIL_COLUMN"], phone_column=os.environ["PHONE_COLUMN"],
        domain_name=os.environ["DOMAIN_NAME"], object_type_name=os.environ["OBJECT_TYPE_NAME"],
        data_expiration_days=int(os.environ["DATA_EXPIRATION_DAYS"]),
        profile_writes_per_second=float(os.environ["PROFILE_WRITES_PER_SECOND"]),
        contact_list_name=os.environ["CONTACT_LIST_NAME"], topic_name=os.environ["TOPIC_NAME"],
        pinpoint_application_id=os.environ["PINPOINT_APPLICATION_ID"],
        pinpoint_import_role_arn=os.environ["PINPOINT_IMPORT_ROLE_ARN"],
        default_country=os.environ["DEFAULT_COUNTRY"],
        lookup_cache_table_name=os.environ["LOOKUP_CACHE_TABLE_NAME"],
        lookup_cache_days=int(os.environ["LOOKUP_CACHE_DAYS"]),
        lookups_per_second=float(os.environ["LOOKUPS_PER_SECOND"]),
        rate_table_name=os.environ["RATE_TABLE_NAME"],
        notifications_topic_arn=os.environ["NOTIFICATIONS_TOPIC_ARN"],
        follow_up_template_name=os.environ["FOLLOW_UP_TEMPLATE_NAME"],
        follow_up_from_address=os.environ["FOLLOW_UP_FROM_ADDRESS"],
        follow_up_configuration_set_name=os.environ["FOLLOW_UP_CONFIGURATION_SET_NAME"],
        follow_up_list_unsubscribe=os.environ["FOLLOW_UP_LIST_UNSUBSCRIBE"],
        emails_per_second=float(os.environ["EMAILS_PER_SECOND"]))


@functools.lru_cache(maxsize=1)
def _clients() -> Clients:
    settings = settings_from_environment()
    return Clients(aws.client, settings)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    clients = _clients()
    steps = Steps(clients.settings, clients,
                  lambda: context.get_remaining_time_in_millis() < STOP_WITH_MILLISECONDS_LEFT)
    state = event["state"]
    try:
        result = steps.run(event["action"], state)
    except (ClientError, BotoCoreError) as error:
        if aws.is_passing(error):
            # Still throttled after botocore's retries, or the network: the state machine's Retry runs the
            # step again later, with backoff, from the checkpoint it was given.
            raise TransientError(f"{event['action']}: {error}") from error
        raise
    logger.info("step done", extra={"action": event["action"], "key": state["file"]["key"],
                                    "step": result.get("step"), "counts": result.get("counts")})
    return result
