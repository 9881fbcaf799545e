"""Custom resource: two-way channel and self-managed opt-outs on a phone number; restored on delete."""

from __future__ import annotations

from typing import Any

from due import aws, custom_resource
from due.logs import get_logger
from due.self_managed_opt_outs import phone_number_setup

logger = get_logger("sms_phone_number_setup")


def _create_or_update(properties, old, physical_id):
    sms = aws.client("pinpoint-sms-voice-v2")
    if physical_id.startswith("phone-number-setup:") and old.get("PhoneNumberId") != properties["PhoneNumberId"]:
        phone_number_setup.restore(sms, physical_id)  # moved to another number: give the old one back
    elif physical_id.startswith("phone-number-setup:"):
        return physical_id, {}
    return phone_number_setup.configure(sms, properties["PhoneNumberId"], properties["TopicArn"])


def _delete(_properties, _old, physical_id):
    return physical_id, phone_number_setup.restore(aws.client("pinpoint-sms-voice-v2"), physical_id)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(event, context, create=_create_or_update, update=_create_or_update,
                                              delete=_delete)
