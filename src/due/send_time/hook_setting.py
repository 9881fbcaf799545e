"""Custom resource: make this stack's function the Pinpoint project's campaign hook, and give the old one back.

A project has one default campaign hook, in its application settings (Pinpoint API reference, Settings:
``CampaignHook`` with ``LambdaFunctionName`` and ``Mode``, set by ``UpdateApplicationSettings``, read by
``GetApplicationSettings``); a campaign may name its own hook instead, which this stack leaves alone. So:

* on create, a project whose hook names another function (or a web URL) is refused, unless ``ReplaceExisting``
  is ``true``; the hook found is kept, in the resource's physical id, to give back later;
* on delete, the project's hook is restored to what was there before, but only while it still names this
  stack's function (someone who pointed it elsewhere since keeps their choice). A project that had no hook
  gets an empty ``CampaignHook``: what clears a hook is not documented, and the empty object is what
  ``GetApplicationSettings`` answers for a project without one;
* moving the stack to another project (a new ``ApplicationId``) gives a new physical id, so CloudFormation
  deletes the old one: the old project gets its hook back.

Pinpoint checks that it may invoke the function when the hook is set; the function's permission is created by
the same stack seconds before, so a refusal (``BadRequestException``) is retried for a while, as
``due.pinpoint_event_stream`` does for its role.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from due import aws, custom_resource
from due.logs import get_logger

logger = get_logger("send_time_hook_setting")

RETRY_BUDGET_SECONDS = 120.0
FIRST_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 20.0
MODE = "FILTER"
_PREVIOUS = "/previous/"


class HookInUse(Exception):
    """The project's campaign hook is another function's, and replacing it was not allowed."""


def current_hook(pinpoint, application_id: str) -> dict[str, str]:
    settings = pinpoint.get_application_settings(ApplicationId=application_id)["ApplicationSettingsResource"]
    hook = settings.get("CampaignHook") or {}
    return {k: v for k, v in hook.items() if v}


def _same_function(named: str, function_arn: str) -> bool:
    """A hook may name the function by name or ARN (with or without a version or alias)."""
    if not named:
        return False
    name = function_arn.split(":")[6] if function_arn.count(":") >= 6 else function_arn
    return named in (function_arn, name) or named.startswith(f"{function_arn}:")


def set_hook(pinpoint, application_id: str, function_arn: str, replace_existing: bool, *,
             budget_seconds: float = RETRY_BUDGET_SECONDS, sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic) -> dict[str, str]:
    """Points the project's hook at ``function_arn``; returns the hook it replaced ({} for none)."""
    previous = current_hook(pinpoint, application_id)
    if _same_function(previous.get("LambdaFunctionName", ""), function_arn):
        previous = {}  # ours already (an update, or a retried create): nothing of someone else's to keep
    elif previous and not replace_existing:
        named = previous.get("LambdaFunctionName") or previous.get("WebUrl")
        raise HookInUse(
            f"Pinpoint project {application_id} already has a campaign hook ({named}, "
            f"mode {previous.get('Mode', '?')}); a project has one. Set ReplaceExistingHook to true to replace it "
            "(it is restored when this stack is deleted), or use another project")
    _update(pinpoint, application_id, {"LambdaFunctionName": function_arn, "Mode": MODE}, budget_seconds, sleep,
            clock)
    logger.info("campaign hook set", extra={"application_id": application_id, "replaced": bool(previous)})
    return previous


def restore_hook(pinpoint, application_id: str, function_arn: str, previous: dict[str, str]) -> bool:
    """Gives the project its previous hook back if the hook is still ours. True if it was restored."""
    try:
        now = current_hook(pinpoint, application_id)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NotFoundException":
            return False  # the project is gone, and its settings with it
        raise
    if not _same_function(now.get("LambdaFunctionName", ""), function_arn):
        logger.warning("the project's campaign hook is no longer this stack's; left alone",
                       extra={"application_id": application_id})
        return False
    pinpoint.update_application_settings(ApplicationId=application_id,
                                         WriteApplicationSettingsRequest={"CampaignHook": previous})
    return True


def _update(pinpoint, application_id, hook, budget_seconds, sleep, clock) -> None:
    started, delay = clock(), FIRST_DELAY_SECONDS
    while True:
        try:
            pinpoint.update_application_settings(ApplicationId=application_id,
                                                 WriteApplicationSettingsRequest={"CampaignHook": hook})
            return
        except ClientError as error:
            code = error.response["Error"].get("Code", "")
            if code not in ("BadRequestException", "TooManyRequestsException") or clock() - started + delay > \
                    budget_seconds:
                raise
            logger.info("campaign hook refused; retrying (the function's permission may not have propagated)",
                        extra={"application_id": application_id, "error": code, "retry_in_seconds": delay})
        sleep(delay)
        delay = min(delay * 2, MAX_DELAY_SECONDS)


def physical_id(application_id: str, previous: dict[str, str]) -> str:
    kept = base64.urlsafe_b64encode(json.dumps(previous, sort_keys=True).encode()).decode()
    return f"{application_id}/campaign-hook{_PREVIOUS}{kept}"


def previous_of(physical: str) -> dict[str, str]:
    if _PREVIOUS not in physical:
        return {}
    return json.loads(base64.urlsafe_b64decode(physical.split(_PREVIOUS, 1)[1]))


def _put(properties: dict[str, Any], old: dict[str, Any], physical: str) -> tuple[str, dict[str, str]]:
    application_id = properties["ApplicationId"]
    replace = str(properties.get("ReplaceExisting", "false")).lower() == "true"
    same_project = old.get("ApplicationId") == application_id and physical.startswith(f"{application_id}/")
    previous = set_hook(aws.client("pinpoint"), application_id, properties["FunctionArn"], replace)
    if same_project and not previous:
        previous = previous_of(physical)  # an update keeps what the create found
    return physical_id(application_id, previous), {"Replaced": previous.get("LambdaFunctionName", "")}


def _delete(properties: dict[str, Any], _old: dict[str, Any], physical: str) -> tuple[str, dict[str, str]]:
    if "/campaign-hook" not in physical:
        return physical, {"Restored": "false"}  # the create failed before it set anything
    application_id = physical.split("/", 1)[0]
    restored = restore_hook(aws.client("pinpoint"), application_id, properties["FunctionArn"], previous_of(physical))
    return physical, {"Restored": str(restored).lower()}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.respond_to_cloudformation(event, context, create=_put, update=_put, delete=_delete)
