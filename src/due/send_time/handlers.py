"""The Lambda handlers of #11 and #12 (the same four for both; ``configuration`` tells them apart).

* ``reader``: an audience file dropped under ``incoming/`` -> checked rows -> chunks on the FIFO send queue
  (the shared pipeline, ``due.row_queue_reader``); a file whose campaign cannot be sent is refused whole,
  announced on the notifications topic, and nothing of it is queued;
* ``sender``: a chunk -> send-time data -> SendBulkEmail (``email_sender``); what each row came to is written
  next to the file as ``<key>.results/rows-<first>-<last>.json``;
* ``hook``: Pinpoint mode, the project's campaign hook (FILTER);
* ``unsubscribe``: the stack's List-Unsubscribe link (a Lambda function URL).
"""

from __future__ import annotations

import datetime
import functools
import hmac
import json
import os
from typing import Any

from due import aws, batch, row_queue, row_queue_reader
from due.dropped_file import FileRefused
from due.logs import get_logger
from due.send_markers import SetAside
from due.send_time import audience
from due.send_time import hook as campaign_hook
from due.send_time import unsubscribe as links
from due.send_time.configuration import EXTERNAL_ATTRIBUTES, configuration
from due.send_time.configuration import sender as email_sender
from due.send_time.consent import Unsubscribes
from due.send_time.content_store import BadContent, CampaignContentMissing
from due.send_time.email_sender import Chunk, ChunkFailed, Outcome
from due.send_time.lookup import Recipient

logger = get_logger("send_time")


def _announce(message: dict[str, Any]) -> None:
    topic = os.environ.get("NOTIFICATIONS_TOPIC_ARN")
    if topic:
        aws.client("sns").publish(TopicArn=topic, Message=json.dumps(message, ensure_ascii=False),
                                  Subject=f"{configuration().architecture}: {message['outcome']}"[:100])


def check_file(file: str) -> None:
    """Refuses a file whose campaign cannot be sent, before any of its rows is queued."""
    config = configuration()
    campaign = audience.campaign_of(file)
    try:
        if config.content_store is not None:
            config.content_store.require(campaign)
        elif os.environ.get("TEMPLATE_NAME"):
            aws.client("sesv2").get_email_template(TemplateName=os.environ["TEMPLATE_NAME"])
    except (CampaignContentMissing, BadContent) as problem:
        reason = str(problem)
    except aws.client("sesv2").exceptions.NotFoundException:
        reason = f"the SES template {os.environ['TEMPLATE_NAME']} does not exist"
    else:
        return
    _announce({"outcome": "refused", "file": f"s3://{file.rsplit('@', 1)[0]}", "campaign": campaign,
               "reason": f"nothing was sent: {reason}"})
    raise FileRefused(f"nothing was sent: {reason}")


@functools.lru_cache(maxsize=1)
def _reader():
    config = configuration()
    row_format = audience.row_format(chunk_size=int(os.environ.get("CHUNK_SIZE", "50")),
                                     key_column=config.key_column, locale_column=config.locale_column,
                                     check_file=check_file, s3=aws.client("s3"))
    return row_queue_reader.handler(row_format, f"{config.architecture}_reader")


def reader(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _reader()(event, context)


# ---------------------------------------------------------------------------------------------- sender
@functools.lru_cache(maxsize=1)
def _set_aside() -> SetAside:
    return SetAside(aws.client("sqs"), os.environ["SEND_DEAD_LETTER_QUEUE_URL"])


def _results(requests: list[audience.EmailRequest], outcome: Outcome, error: str = "") -> None:
    first = requests[0]
    bucket, key = first.file.rsplit("@", 1)[0].split("/", 1)
    body = {"file": f"s3://{bucket}/{key}", "rows": [r.row for r in requests], "sent": len(outcome.sent),
            "skipped": [{"row": int(row), "reason": reason} for row, reason in outcome.skipped],
            "rejected": [{"row": int(row), "status": status} for row, status in outcome.rejected],
            "set_aside": [int(row) for row in outcome.unknown], "calls": outcome.calls,
            **({"error": error} if error else {})}
    aws.client("s3").put_object(Bucket=bucket, Key=f"{key}.results/rows-{first.row}-{requests[-1].row}.json",
                                Body=json.dumps(body, indent=1).encode(), ContentType="application/json")
    logger.info("chunk sent" if not error else "chunk not finished", extra={
        "file": body["file"], "rows": f"{first.row}-{requests[-1].row}", "sent": body["sent"],
        "skipped": len(body["skipped"]), "rejected": len(body["rejected"]), "set_aside": len(body["set_aside"]),
        "calls": outcome.calls, "error": error})


def _send_chunk(record: batch.Record) -> None:
    requests = row_queue.requests_in(record["body"], audience.EmailRequest.from_dict)
    by_row = {str(r.row): r for r in requests}

    def set_aside(recipients: list[Recipient], reason: str) -> None:
        _set_aside().put(row_queue.Chunk(tuple(by_row[r.ref] for r in recipients)), reason)
        logger.error("set aside in the send dead-letter queue", extra={
            "rows": [r.ref for r in recipients], "reason": reason})

    chunk = Chunk(requests[0].file, audience.campaign_of(requests[0].file), [r.recipient() for r in requests])
    try:
        outcome = email_sender().send(chunk, set_aside)
    except ChunkFailed as failed:
        _results(requests, failed.outcome, str(failed))
        raise
    if not outcome.already_done:
        _results(requests, outcome)


def sender(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch.process_sqs(event, _send_chunk)


# ------------------------------------------------------------------------------------------------ hook
def hook(event: dict[str, Any], context: Any) -> dict[str, Any]:
    config = configuration()
    answer = campaign_hook.filter_endpoints(event, config.lookup, config.policy, config.default,
                                            key_source=config.hook_key_source,
                                            escape_for_html=config.escape_hook_values)
    logger.info("endpoints returned", extra={"campaign_id": event.get("CampaignId"),
                                              "endpoints_in": len(event.get("Endpoints") or {}),
                                              "endpoints_out": len(answer)})
    return answer


# ----------------------------------------------------------------------------------------- unsubscribe
@functools.lru_cache(maxsize=1)
def _secret() -> bytes:
    return aws.client("secretsmanager").get_secret_value(
        SecretId=os.environ["UNSUBSCRIBE_SECRET_ARN"])["SecretString"].encode()


def _page(status: int, text: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "text/html; charset=utf-8"},
            "body": f"<!doctype html><html><body><p>{text}</p></body></html>"}


def unsubscribe(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The stack's List-Unsubscribe URI (a Lambda function URL, payload format 2.0).

    RFC 8058: a POST (the mail client's one-click) unsubscribes; a GET (a person following the link, or a
    scanner checking it) only shows a button that POSTs, so link scanners unsubscribe nobody."""
    query = event.get("queryStringParameters") or {}
    try:
        address = links.decode_address(query.get("a", ""))
    except ValueError:
        address = ""
    if not address or not query.get("t") or not hmac.compare_digest(
            links.sign(_secret(), address), query["t"]):
        return _page(400, "This unsubscribe link is not valid.")
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "GET")
    if method != "POST":
        return _page(200, '<form method="post"><button type="submit">Unsubscribe</button></form>')
    Unsubscribes(aws.client("dynamodb"), os.environ["UNSUBSCRIBES_TABLE_NAME"]).record(
        address, datetime.datetime.now(datetime.UTC).isoformat())
    logger.info("unsubscribed", extra={"address": address})
    return _page(200, "You are unsubscribed.")


__all__ = ["EXTERNAL_ATTRIBUTES", "hook", "reader", "sender", "unsubscribe"]
