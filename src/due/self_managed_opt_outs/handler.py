"""Two-way SMS (SNS -> SQS) -> opt-out or opt-in recorded, other systems told, the customer answered."""

from __future__ import annotations

import functools
import os
from typing import Any

from due import aws, batch, sms_events
from due.archiving import SentArchive, seconds_left
from due.logs import get_logger
from due.self_managed_opt_outs.keywords import Intent, KeywordRules
from due.self_managed_opt_outs.opt_out_store import PinpointEndpoints, SmsOptOutList
from due.self_managed_opt_outs.processor import OptOutProcessor, ProcessedSteps, Texts
from due.sms_sending import EndUserMessagingSms, PinpointSms

logger = get_logger("self_managed_opt_outs")


@functools.lru_cache(maxsize=1)
def _processor() -> OptOutProcessor:
    if os.environ.get("MODE", "EndUserMessaging") == "Pinpoint":
        application_id = os.environ["PINPOINT_APPLICATION_ID"]
        store = PinpointEndpoints(aws.client("pinpoint"), application_id)
        replies = PinpointSms(aws.client("pinpoint"), application_id)
    else:
        store = SmsOptOutList(aws.client("pinpoint-sms-voice-v2"), os.environ["OPT_OUT_LIST_NAME"])
        replies = EndUserMessagingSms(aws.client("pinpoint-sms-voice-v2"))
    return OptOutProcessor(
        rules=KeywordRules(os.environ.get("EXTRA_OPT_OUT_KEYWORDS", "").split(",")),
        store=store, replies=replies, sns=aws.client("sns"),
        notifications_topic_arn=os.environ["NOTIFICATIONS_TOPIC_ARN"],
        steps=ProcessedSteps(aws.client("dynamodb"), os.environ["PROCESSED_TABLE_NAME"]),
        texts=Texts(os.environ.get("OPT_OUT_CONFIRMATION", ""), os.environ.get("OPT_IN_CONFIRMATION", ""),
                    os.environ.get("HELP_TEXT", ""), os.environ.get("OPT_IN_REFUSED", "")),
        archive=SentArchive.from_environment(),
    )


def process_record(record: batch.Record) -> None:
    sms = sms_events.parse_sqs_body(record["body"])
    intent, keyword = _processor().handle(sms)
    if intent is not Intent.NONE:
        logger.info("keyword handled", extra={"inbound_message_id": sms.inbound_message_id,
                                              "intent": intent.value, "keyword": keyword,
                                              "customer_number": sms.customer_number})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = batch.process_sqs(event, process_record)
    # the batch's replies, for the message archive: after them, never failing one, within the time left
    _processor().archive.flush(seconds_left(context))
    return response
