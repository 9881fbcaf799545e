"""FIFO send queue -> one SMS per message, at the configured rate per origination identity, never twice."""

from __future__ import annotations

import functools
import os
from typing import Any

from due import aws, batch
from due.archiving import SentArchive, seconds_left
from due.logs import get_logger
from due.rate_limit import RateLimiter
from due.send_markers import SentMarkers, SetAside
from due.sms_s3_drop.requests import SmsRequest
from due.sms_s3_drop.send import Sender
from due.sms_sending import EndUserMessagingSms, PinpointSms

logger = get_logger("sms_s3_drop_sender")


@functools.lru_cache(maxsize=1)
def _sender() -> Sender:
    if os.environ.get("CHANNEL", "EndUserMessaging") == "Pinpoint":
        channel = PinpointSms(aws.client("pinpoint"), os.environ["PINPOINT_APPLICATION_ID"])
    else:
        channel = EndUserMessagingSms(aws.client("pinpoint-sms-voice-v2"), os.environ.get("CONFIGURATION_SET_NAME", ""))
    return Sender(channel, SentMarkers(aws.client("dynamodb"), os.environ["SENT_TABLE_NAME"]),
                  RateLimiter(aws.client("dynamodb"), os.environ["RATE_TABLE_NAME"]),
                  float(os.environ["MESSAGES_PER_SECOND"]),
                  SetAside(aws.client("sqs"), os.environ["SEND_DEAD_LETTER_QUEUE_URL"]),
                  SentArchive.from_environment())


def _process(record: batch.Record) -> None:
    request = SmsRequest.from_json(record["body"])
    outcome = _sender().send(request)
    details = {"file": request.file, "row": request.row, "origination": request.origination}
    if outcome == "set aside":
        logger.error("cannot be sent: set aside in the send dead-letter queue with its reason", extra=details)
    else:
        logger.info(outcome, extra=details)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = batch.process_sqs(event, _process)
    # after every send of the batch: one archive call per 10 sent, never before a send, within the time left
    _sender().archive.flush(seconds_left(context))
    return response
