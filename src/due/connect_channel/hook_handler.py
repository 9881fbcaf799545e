"""Pinpoint mode: a campaign's DELIVERY hook -> one queued call per phone endpoint; the rest reported as skipped."""

from __future__ import annotations

import functools
import os
from typing import Any

from due import aws
from due.connect_channel.hook import requests_of
from due.connect_channel.outcomes import Outcome, OutcomeReport
from due.logs import get_logger
from due.row_queue import Chunk, queue_chunks

logger = get_logger("connect_channel_hook")


@functools.lru_cache(maxsize=1)
def _report() -> OutcomeReport:
    return OutcomeReport(aws.client("s3"), os.environ["BUCKET_NAME"], aws.client("sns"),
                         os.environ["OUTCOME_TOPIC_ARN"])


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls, skipped = requests_of(event)
    queue_chunks(aws.client("sqs"), os.environ["SEND_QUEUE_URL"], [Chunk((request,)) for request in calls])
    for request, reason in skipped:
        _report().add(Outcome.of(request, "skipped", reason))
    _report().flush()
    logger.info("campaign run queued", extra={"campaign_id": event.get("CampaignId"), "queued": len(calls),
                                             "skipped": len(skipped)})
    return {"queued": len(calls), "skipped": len(skipped)}
