"""CloudFormation custom resources that always answer.

A custom resource that never answers leaves its stack waiting for an hour. So
``respond_to_cloudformation`` answers SUCCESS, or FAILED with the error as the
reason, for Create, Update and Delete alike; and if the function is about to
time out it answers FAILED first.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from due.logs import get_logger

logger = get_logger("custom_resource")

# Operation signature: (properties, old_properties, physical_id) -> (physical_id, data)
Operation = Callable[[dict[str, Any], dict[str, Any], str], tuple[str, dict[str, Any]]]

TIMEOUT_MARGIN_SECONDS = 10
MAX_REASON = 1000


def respond_to_cloudformation(event: dict[str, Any], context: Any, *, create: Operation, update: Operation,
                              delete: Operation) -> None:
    request_type = event.get("RequestType")
    operation = {"Create": create, "Update": update, "Delete": delete}.get(request_type)
    physical_id = (event.get("PhysicalResourceId")
                   or f"{event.get('LogicalResourceId', 'resource')}-{context.aws_request_id}")
    answered = threading.Event()

    def answer(status: str, reason: str, resource_id: str, data: dict[str, Any]) -> None:
        if answered.is_set():
            return
        answered.set()
        _send(event, status, reason[:MAX_REASON], resource_id, data)

    timer = threading.Timer(
        max(context.get_remaining_time_in_millis() / 1000 - TIMEOUT_MARGIN_SECONDS, 1),
        lambda: answer("FAILED", "timed out before the operation finished", physical_id, {}),
    )
    timer.daemon = True
    timer.start()
    try:
        if operation is None:
            raise ValueError(f"unknown RequestType {request_type!r}")
        physical_id, data = operation(event.get("ResourceProperties", {}), event.get("OldResourceProperties", {}),
                                      physical_id)
        answer("SUCCESS", "", physical_id, data)
    except Exception as exc:  # every failure must reach CloudFormation as FAILED
        logger.exception("custom resource failed", extra={"request_type": request_type})
        answer("FAILED", f"{type(exc).__name__}: {exc}", physical_id, {})
    finally:
        timer.cancel()


def _send(event: dict[str, Any], status: str, reason: str, physical_id: str, data: dict[str, Any]) -> None:
    body = json.dumps({
        "Status": status,
        "Reason": reason or status,
        "PhysicalResourceId": physical_id,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": data,
    }).encode()
    request = urllib.request.Request(  # noqa: S310 (the URL is CloudFormation's presigned https URL)
        event["ResponseURL"], data=body, method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    for attempt in range(1, 4):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (as above)
                logger.info("answered CloudFormation", extra={"status": status, "http_status": response.status})
                return
        except OSError as exc:
            logger.warning("could not answer CloudFormation", extra={"attempt": attempt, "error": str(exc)})
            time.sleep(attempt)
    logger.error("gave up answering CloudFormation", extra={"status": status})
