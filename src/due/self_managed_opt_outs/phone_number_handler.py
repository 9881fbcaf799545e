"""Custom resource: two-way channel and self-managed opt-outs on a phone number or pool; restored on delete."""

from __future__ import annotations

from typing import Any

from due import aws, custom_resource
from due.logs import get_logger
from due.self_managed_opt_outs import phone_number_setup
from due.self_managed_opt_outs.phone_number_setup import Origination

logger = get_logger("sms_phone_number_setup")


def _create_or_update(properties, _old, physical_id):
    sms = aws.client("pinpoint-sms-voice-v2")
    wanted = Origination.of(properties.get("PhoneNumberId", ""), properties.get("PoolId", ""))
    configured = phone_number_setup.recorded_origination(physical_id)
    if configured == wanted:
        return physical_id, {}
    if configured is not None:
        phone_number_setup.restore(sms, physical_id)  # moved to another number or pool: give the old one back
    return phone_number_setup.configure(sms, wanted, properties["TopicArn"], properties["TwoWayChannelRoleArn"])


def _delete(_properties, _old, physical_id):
    return physical_id, phone_number_setup.restore(aws.client("pinpoint-sms-voice-v2"), physical_id)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(event, context, create=_create_or_update, update=_create_or_update,
                                              delete=_delete)
