"""FIFO send queue -> one chunk of an audience file -> send-time data -> SendBulkEmail, at most once per row.

What each row came to is written next to the file as ``<key>.results/rows-<first>-<last>-<delivery>.json`` (sent,
skipped with the reason, rejected with SES's status, set aside); rows that may have been sent by an attempt that
ended without an answer are set aside in the send dead-letter queue with the reason.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

from due import aws, batch, row_queue
from due.logs import get_logger
from due.send_markers import SetAside
from due.send_time import audience
from due.send_time.email_sender import Chunk, ChunkFailed, EmailSender, Outcome
from due.send_time.lookup import Recipient

logger = get_logger("send_time_sender")  # the results log line; each handler logs as its service too


@functools.lru_cache(maxsize=1)
def _set_aside() -> SetAside:
    return SetAside(aws.client("sqs"), os.environ["SEND_DEAD_LETTER_QUEUE_URL"])


def _results(requests: list[audience.EmailRequest], outcome: Outcome, delivery: str, error: str = "") -> None:
    """One object per delivery of a chunk (``-1``, ``-2``... the SQS receive count), so none overwrites another."""
    first = requests[0]
    bucket, key = first.file.rsplit("@", 1)[0].split("/", 1)
    body = {"file": f"s3://{bucket}/{key}", "rows": [r.row for r in requests], "sent": len(outcome.sent),
            "skipped": [{"row": int(row), "reason": reason} for row, reason in outcome.skipped],
            "rejected": [{"row": int(row), "status": status} for row, status in outcome.rejected],
            "set_aside": [int(row) for row in outcome.unknown], "calls": outcome.calls,
            **({"error": error} if error else {})}
    aws.client("s3").put_object(Bucket=bucket,
                                Key=f"{key}.results/rows-{first.row}-{requests[-1].row}-{delivery}.json",
                                Body=json.dumps(body, indent=1).encode(), ContentType="application/json")
    logger.info("chunk sent" if not error else "chunk not finished", extra={
        "file": body["file"], "rows": f"{first.row}-{requests[-1].row}", "sent": body["sent"],
        "skipped": len(body["skipped"]), "rejected": len(body["rejected"]), "set_aside": len(body["set_aside"]),
        "calls": outcome.calls, "error": error})


def handler(email_sender: Callable[[], EmailSender], service: str) -> Callable[[dict[str, Any], Any], dict]:
    logger = get_logger(service)

    def send_chunk(record: batch.Record, time_left: Callable[[], float]) -> None:
        requests = row_queue.requests_in(record["body"], audience.EmailRequest.from_dict)
        by_row = {str(r.row): r for r in requests}

        def set_aside(recipients: list[Recipient], reason: str) -> None:
            _set_aside().put(row_queue.Chunk(tuple(by_row[r.ref] for r in recipients)), reason)
            logger.error("set aside in the send dead-letter queue", extra={
                "rows": [r.ref for r in recipients], "reason": reason})

        chunk = Chunk(requests[0].file, audience.campaign_of(requests[0].file), [r.recipient() for r in requests])
        delivery = record.get("attributes", {}).get("ApproximateReceiveCount", "1")
        try:
            outcome = email_sender().send(chunk, set_aside, time_left)
        except ChunkFailed as failed:
            _results(requests, failed.outcome, delivery, str(failed))
            raise
        if not outcome.already_done:
            _results(requests, outcome, delivery)

    @logger.inject_lambda_context
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        def time_left() -> float:
            return context.get_remaining_time_in_millis() / 1000

        return batch.process_sqs(event, lambda record: send_chunk(record, time_left))

    return lambda_handler
