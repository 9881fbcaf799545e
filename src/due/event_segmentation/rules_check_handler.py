"""The deploy-time check: a custom resource that reads the rule set as the applier will and fails the stack with
the rule set's error (which names the rule) when it is invalid."""

from __future__ import annotations

from typing import Any

from due import aws, custom_resource
from due.event_segmentation.rule_source import read_rules


# --- the deploy-time check -----------------------------------------------------------------------------------
def _check(properties: dict[str, Any], _old: dict[str, Any], physical_id: str) -> tuple[str, dict[str, Any]]:
    rules = read_rules(aws.client("s3"), properties.get("Rules", ""), properties.get("RulesBucket", ""),
                       properties.get("RulesKey", ""), properties.get("RulesVersion", ""), properties["Mode"])
    return physical_id, {"RuleCount": len(rules.rules)}


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(
        event, context, create=_check, update=_check, delete=lambda _p, _o, physical_id: (physical_id, {}))
