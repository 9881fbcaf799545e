"""SES receipt rule -> a templated, loop-safe reply; invoked asynchronously by SES."""

from __future__ import annotations

import functools
from typing import Any

from due.logs import get_logger
from due.ses_auto_reply import inbound
from due.ses_auto_reply.responder import AutoResponder

logger = get_logger("ses_auto_reply")


@functools.lru_cache(maxsize=1)
def _responder() -> AutoResponder:
    return AutoResponder.from_environment()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    mail = inbound.parse(event)
    try:
        outcome, reason = _responder().respond(mail)
    except Exception as exc:  # logged with the message id, then raised so Lambda retries it
        logger.error("reply failed", extra={"ses_message_id": mail.ses_message_id,
                                            "error_type": type(exc).__name__, "error": str(exc)})
        raise
    logger.info("inbound mail handled", extra={"ses_message_id": mail.ses_message_id, "outcome": outcome.value,
                                               "reason": reason})
    return {"outcome": outcome.value, "reason": reason}
