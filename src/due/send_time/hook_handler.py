"""Pinpoint mode, both architectures: the project's campaign hook (FILTER), the endpoints Pinpoint hands over with
their send-time data added (``due.send_time.hook``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from due.logs import get_logger
from due.send_time import hook as campaign_hook
from due.send_time.lookup import Lookup, MissingDataPolicy


def handler(settings: Callable[[], tuple[Lookup, MissingDataPolicy, Any]], service: str, *,
            key_source: Callable[[], str] = lambda: "EndpointId", escape_for_html: bool = True):
    """``settings()``: (the lookup, the missing-data policy, the UseDefault data or a function giving it)."""
    logger = get_logger(service)

    @logger.inject_lambda_context
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        lookup, policy, default = settings()
        answer = campaign_hook.filter_endpoints(event, lookup, policy, default, key_source=key_source(),
                                                escape_for_html=escape_for_html)
        logger.info("endpoints returned", extra={"campaign_id": event.get("CampaignId"),
                                                  "endpoints_in": len(event.get("Endpoints") or {}),
                                                  "endpoints_out": len(answer)})
        return answer

    return lambda_handler
