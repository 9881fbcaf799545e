"""FIFO send queue -> one call per message (Connect or End User Messaging voice), outcomes to S3 and SNS.

A message that must wait (outside the calling window, or no call slot free) is made invisible for the wait
with ChangeMessageVisibility (12 hours at most, counted from the receive: dialer.MAX_HOLD_SECONDS) and reported
as a batch item failure, so Lambda leaves it on the queue: it comes back when the wait is over. Each such wait
counts one receive towards the queue's maxReceiveCount (the template sets it with that in mind).
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

from due import aws, batch
from due.archiving import SentArchive, seconds_left
from due.connect_channel.call_slots import CallSlots
from due.connect_channel.channels import ConnectCalls, EndUserMessagingVoice, placing_client
from due.connect_channel.dialer import SLOT_HOLD_SECONDS, SLOT_WAIT_SECONDS, Decision, Dialer, MarkerReader, OptOutList
from due.connect_channel.outcomes import OutcomeReport, masked
from due.connect_channel.requests import CallRequest
from due.connect_channel.rules import CallRules
from due.logs import get_logger
from due.rate_limit import RateLimiter
from due.send_markers import SentMarkers, SetAside

logger = get_logger("connect_channel_sender")

# The send queue's MessageRetentionPeriod and maxReceiveCount (the template; a unit test keeps them equal).
# SQS deletes a message older than the retention period, with no dead-letter queue and no trace; a message
# received more than maxReceiveCount times goes to the dead-letter queue with no outcome. A held row that would
# reach either is set aside instead, with an outcome saying why (the Lambda SQS event's record attributes carry
# SentTimestamp, epoch milliseconds, and ApproximateReceiveCount).
QUEUE_RETENTION_SECONDS = 1_209_600  # 14 days, SQS's maximum
RETENTION_MARGIN_SECONDS = 86_400
MAX_RECEIVES = 20


class Held(Exception):
    """The call waits (calling window, busy instance); its message comes back when the wait is over."""


class CallFailed(RuntimeError):
    """An error while calling, its text with phone numbers masked: the batch handler logs the text."""


@functools.lru_cache(maxsize=1)
def _dialer() -> Dialer:
    dynamodb = aws.client("dynamodb")
    pacing = os.environ["PACING_TABLE_NAME"]
    instance = os.environ["CONNECT_INSTANCE_ID"]
    if os.environ["CHANNEL"] == "EndUserMessagingVoice":
        origination = os.environ["VOICE_ORIGINATION_IDENTITY"]
        channel, rate_key, slots = (EndUserMessagingVoice(placing_client("pinpoint-sms-voice-v2"), origination,
                                                          os.environ["VOICE_ID"]), f"voice:{origination}", None)
    else:
        channel = ConnectCalls(placing_client("connect"), instance, os.environ["CONTACT_FLOW"],
                               os.environ["QUEUE_ID"], os.environ["SOURCE_PHONE_NUMBER"])
        rate_key = f"connect:{instance}"
        slots = CallSlots(dynamodb, pacing, f"calls-in-progress:{instance}", int(os.environ["MAX_CONCURRENT_CALLS"]),
                          int(os.environ["CALL_TIMEOUT_MINUTES"]) * 60)
    opt_out_list = os.environ["OPT_OUT_LIST_NAME"]
    rules = CallRules(frozenset(os.environ["ALLOWED_COUNTRIES"].split(",")), int(os.environ["CALLING_WINDOW_START"]),
                      int(os.environ["CALLING_WINDOW_END"]), os.environ["DEFAULT_TIME_ZONE"])
    return Dialer(channel, SentMarkers(dynamodb, os.environ["SENT_TABLE_NAME"]), RateLimiter(dynamodb, pacing),
                  rate_key, float(os.environ["CALLS_PER_SECOND"]),
                  SetAside(aws.client("sqs"), os.environ["SEND_DEAD_LETTER_QUEUE_URL"]), rules,
                  OptOutList(aws.client("pinpoint-sms-voice-v2"), opt_out_list) if opt_out_list else None,
                  slots, os.environ["MESSAGE"], slot_wait_seconds=SLOT_WAIT_SECONDS,
                  slot_hold_seconds=SLOT_HOLD_SECONDS,
                  marker_reader=MarkerReader(dynamodb, os.environ["SENT_TABLE_NAME"]),
                  archive=SentArchive.from_environment())


@functools.lru_cache(maxsize=1)
def _report() -> OutcomeReport:
    return OutcomeReport(aws.client("s3"), os.environ["BUCKET_NAME"], aws.client("sns"),
                         os.environ["OUTCOME_TOPIC_ARN"])


def _process(record: batch.Record) -> None:
    request = CallRequest.from_json(record["body"])
    try:
        decision = _dialer().call(request)
    except Exception as error:  # re-raised (Lambda retries the message), its text fit for a log line
        raise CallFailed(f"{type(error).__name__}: {masked(str(error))}") from error
    details = {"source": request.file, "row": request.row}
    if decision.hold and (why := _cannot_wait(record, decision.hold)):
        decision = Decision(_dialer().give_up_waiting(request, why))
    if decision.hold:
        aws.client("sqs").change_message_visibility(QueueUrl=os.environ["SEND_QUEUE_URL"],
                                                    ReceiptHandle=record["receiptHandle"],
                                                    VisibilityTimeout=decision.hold)
        raise Held(f"waits {decision.hold} s (calling window or no free call slot)")
    if decision.outcome is None:
        logger.info("called before: not called again", extra=details)
        return
    # Reported before the message is acknowledged: a report that fails fails the record, and its redelivery
    # reports the call again from its marker (never calls again).
    _report().add(decision.outcome)
    _report().flush()
    if decision.outcome.call_id and decision.outcome.outcome != "set aside":
        _dialer().note_reported(request)
    logger.info(decision.outcome.outcome, extra={**details, "reason": masked(decision.outcome.reason)})


def _cannot_wait(record: batch.Record, hold: int) -> str | None:
    """Why the message cannot be held ``hold`` seconds more, or None."""
    attributes = record.get("attributes", {})
    queued_for = time.time() - int(attributes.get("SentTimestamp", time.time() * 1000)) / 1000
    if queued_for + hold > QUEUE_RETENTION_SECONDS - RETENTION_MARGIN_SECONDS:
        return (f"queued {queued_for / 86400:.1f} days; held {hold} s more it would pass the queue's "
                f"{QUEUE_RETENTION_SECONDS // 86400}-day retention and be deleted")
    if int(attributes.get("ApproximateReceiveCount", 1)) >= MAX_RECEIVES - 1:
        return f"received {attributes['ApproximateReceiveCount']} times, held each time (window or busy instance)"
    return None


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = batch.process_sqs(event, _process)
    # the batch's calls, for the message archive: after them, never failing one, within the time left
    _dialer().archive.flush(seconds_left(context))
    return response
