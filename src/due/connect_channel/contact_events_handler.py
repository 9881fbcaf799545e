"""Connect's contact events (EventBridge -> SQS) -> the call slot of each ended call given back.

The rule matches ``source`` aws.connect, ``detail-type`` "Amazon Connect Contact Event", ``detail.eventType``
DISCONNECTED and this instance's ARN (EventBridge events reference, "Amazon Connect events"; Amazon Connect
Administrator Guide, "Amazon Connect contact events": ``detail`` carries ``eventType``, ``contactId``,
``instanceArn``, ``channel``, ``initiationMethod`` - API for StartOutboundVoiceContact - and
``disconnectTimestamp``). Contact events are delivered "best effort": a lost one leaves the slot to its
lease's time-out (due.connect_channel.call_slots). Releasing a slot that is not held (another instance's
call, a repeat of the event) changes nothing.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from due import aws, batch
from due.connect_channel.call_slots import CallSlots
from due.events import BadEvent, load_json_object
from due.logs import get_logger

logger = get_logger("connect_channel_contact_events")


@functools.lru_cache(maxsize=1)
def _slots() -> CallSlots:
    return CallSlots(aws.client("dynamodb"), os.environ["PACING_TABLE_NAME"],
                     f"calls-in-progress:{os.environ['CONNECT_INSTANCE_ID']}")


def ended_contact(body: str) -> str | None:
    """The contact id of a DISCONNECTED contact event; None for any other contact event."""
    event = load_json_object(body, "message body")
    if event.get("detail-type") != "Amazon Connect Contact Event" or not isinstance(event.get("detail"), dict):
        raise BadEvent("not an Amazon Connect contact event")
    detail = event["detail"]
    if detail.get("eventType") != "DISCONNECTED":
        return None
    if not detail.get("contactId"):
        raise BadEvent("a DISCONNECTED contact event without contactId")
    return detail["contactId"]


def _process(record: batch.Record) -> None:
    contact_id = ended_contact(record["body"])
    if contact_id:
        _slots().release(contact_id)
        logger.info("call ended: slot released", extra={"contact_id": contact_id})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch.process_sqs(event, _process)
