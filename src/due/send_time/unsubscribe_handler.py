"""The stack's List-Unsubscribe link (a Lambda function URL): a one-click POST records the opt-out."""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import os
from typing import Any

from due import aws
from due.logs import get_logger
from due.send_time import unsubscribe as links
from due.send_time.consent import Unsubscribes

logger = get_logger("send_time_unsubscribe")


@functools.lru_cache(maxsize=1)
def _secret() -> bytes:
    return links.link_secret(aws.client("kms"), os.environ["UNSUBSCRIBE_KEY_ARN"])


def _page(status: int, text: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "text/html; charset=utf-8"},
            "body": f"<!doctype html><html><body><p>{text}</p></body></html>"}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The stack's List-Unsubscribe URI (a Lambda function URL, payload format 2.0).

    RFC 8058: a POST (the mail client's one-click) unsubscribes; a GET (a person following the link, or a
    scanner checking it) only shows a button that POSTs, so link scanners unsubscribe nobody."""
    query = event.get("queryStringParameters") or {}
    try:
        address = links.decode_address(query.get("a", ""))
    except ValueError:
        address = ""
    # compare_digest takes str of ASCII only (a TypeError otherwise): bytes, so any token is a plain refusal.
    if not address or not query.get("t") or not hmac.compare_digest(
            links.sign(_secret(), address).encode(), str(query["t"]).encode()):
        return _page(400, "This unsubscribe link is not valid.")
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "GET")
    if method != "POST":
        return _page(200, '<form method="post"><button type="submit">Unsubscribe</button></form>')
    Unsubscribes(aws.client("dynamodb"), os.environ["UNSUBSCRIBES_TABLE_NAME"]).record(
        address, datetime.datetime.now(datetime.UTC).isoformat())
    # No personal data in logs: a keyed digest tells repeated clicks of one address apart, and cannot be
    # turned back into the address without the stack's KMS key.
    logger.info("unsubscribed", extra={"address_digest": hmac.new(
        _secret(), b"log\n" + address.lower().encode(), hashlib.sha256).hexdigest()[:16]})
    return _page(200, "You are unsubscribed.")


