"""Custom resource: activate the stack's receipt rule set; restore the previous one on delete."""

from __future__ import annotations

from typing import Any

from due import aws, custom_resource
from due.logs import get_logger
from due.ses_auto_reply import rule_set_activation

logger = get_logger("ses_rule_set_activation")


def _create(properties, _old, _physical_id):
    return rule_set_activation.activate(aws.client("ses"), properties["RuleSetName"])


def _update(properties, _old, physical_id):
    return rule_set_activation.activate(aws.client("ses"), properties["RuleSetName"], updating=physical_id)


def _delete(_properties, _old, physical_id):
    return physical_id, rule_set_activation.restore(aws.client("ses"), physical_id)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(event, context, create=_create, update=_update,
                                              delete=_delete)
