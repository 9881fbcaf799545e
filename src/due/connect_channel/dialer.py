"""Place one queued call, at most once, within the rate, the concurrent-call limit and the calling window.

``Dialer.call(request)`` returns a ``Decision``: an ``Outcome`` to report, ``hold`` seconds to keep the
queue message invisible (outside the calling window, or every call slot taken), or neither (a redelivery of a
call already placed: nothing to do or report). In order:

1. the number's checks (due.connect_channel.rules): not E.164 or not an allowed country -> reported, not dialled;
2. the marker as it stands (``MarkerReader``, a strongly consistent GetItem): already called -> nothing; maybe
   called (an earlier attempt ended without knowing) -> set aside in the send dead-letter queue and reported,
   never dialled again. Read before the window and the slot, so a redelivery is never held for either;
3. the calling window (due.connect_channel.rules: the row's zone, else every zone of the number's country):
   outside it -> held until it opens (the row is never dropped); never open in all those zones -> refused;
4. the do-not-call list: a number on the End User Messaging opt-out list (DescribeOptedOutNumbers with the
   number: "If you specify opted out numbers, the output includes information for only the specified opted
   out numbers", End User Messaging SMS and voice v2 API reference) -> refused and reported (the same row,
   redriven after the number opted back in, may be called). After the marker's read, so a call placed
   before its number opted out is not reported again as refused;
5. a call slot (Connect only, due.connect_channel.call_slots): none free -> the sender looks again every
   ``SLOT_POLL_SECONDS`` for up to ``slot_wait_seconds`` (calls end within a minute or two, and waiting here
   keeps the message in flight, costing no receive), then holds it ``SLOT_HOLD_SECONDS``;
   then the marker is written ("sending", due.send_markers), which also stops a sender that raced this one;
6. the shared rate limiter (due.rate_limit), one key per instance (or voice origination): at most
   ``calls_per_second`` calls a second across every sender (StartOutboundVoiceContact: 2 a second, burst 5,
   by default, Amazon Connect service quotas);
7. the call, with the deduplication id as client token, through a client that tries once
   (due.connect_channel.channels.placing_client). Throttling is retried here with backoff (a throttled
   request placed nothing); the outcome then says "throttled then called". A refusal about this call (the
   service answered: invalid destination, not permitted) is reported as refused and marked failed; other
   4xx answers and a connection never made raise for Lambda to retry, the slot given back. A 5xx answer or
   a lost answer (read time-out, connection closed) leaves whether the call went unknown: it is set aside at
   once (marker left "sending", the slot's lease left to end or expire), never dialled again.

A call placed is kept for the message archive (due.archiving) with the message spoken, the number, the
origination and the call's id (Connect ContactId, End User Messaging MessageId); the sender queues them once
per batch, after its calls. The marker keeps the call's id and time, and a redelivery that finds it "called"
archives the call again from them (never calls again): an invocation that died before its flush lost its
archive records with its memory, and the archive's conditional write on the same key keeps one copy.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError, EndpointConnectionError, HTTPClientError

from due.archiving import SentArchive, now
from due.aws import is_service_fault, is_throttling
from due.connect_channel.call_slots import CallSlots
from due.connect_channel.outcomes import Outcome
from due.connect_channel.requests import CallRequest
from due.connect_channel.rules import CallRules
from due.rate_limit import RateLimiter
from due.row_queue import Chunk
from due.send_markers import MaybeSent, SentMarkers, SetAside, describe

# Errors about this call that calling again cannot change. Connect (StartOutboundVoiceContact's errors):
# InvalidParameterException, InvalidRequestException, DestinationNotAllowedException,
# OutboundContactNotPermittedException, ResourceNotFoundException. End User Messaging (SendVoiceMessage):
# ValidationException, ConflictException (e.g. an opted-out destination), ResourceNotFoundException.
# LimitExceededException, ServiceQuotaExceeded, AccessDenied and server errors are about the account or
# the moment: raised and retried.
REFUSALS_FOR_GOOD = frozenset({
    "InvalidParameterException", "InvalidRequestException", "DestinationNotAllowedException",
    "OutboundContactNotPermittedException", "ResourceNotFoundException", "ValidationException",
    "ConflictException"})
THROTTLE_RETRIES = 4  # the placing client tries once: 5 attempts in all, 15 s of backoff
SLOT_POLL_SECONDS = 2
SLOT_WAIT_SECONDS = 20  # in the sender, before holding the message: well inside its 300 s timeout
SLOT_HOLD_SECONDS = 30  # then off the queue for about one short call
SENDER_TIMEOUT_SECONDS = 300  # the template's SenderFunction Timeout (a unit test keeps the two equal)
HOLD_MARGIN_SECONDS = 60
# ChangeMessageVisibility: 12 hours is the most a message may stay invisible counted from when it was
# received, and "If you attempt to set the VisibilityTimeout to an amount more than the maximum time left,
# Amazon SQS returns an error" (SQS API reference, ChangeMessageVisibility). The sender changes it at most its
# timeout after the receive, so a hold leaves that time and a margin off the 12 hours.
MAX_HOLD_SECONDS = 43_200 - SENDER_TIMEOUT_SECONDS - HOLD_MARGIN_SECONDS


@dataclass(frozen=True)
class Decision:
    outcome: Outcome | None = None
    hold: int = 0


class OptOutList:
    """The End User Messaging opt-out list used as the do-not-call list."""

    def __init__(self, sms_voice, name: str):
        self._sms_voice, self._name = sms_voice, name

    def holds(self, number: str) -> bool:
        response = self._sms_voice.describe_opted_out_numbers(OptOutListName=self._name, OptedOutNumbers=[number])
        return any(n["OptedOutNumber"] == number for n in response.get("OptedOutNumbers", []))


class MarkerReader:
    """A call's marker (due.send_markers' table) as it stands, and whether its outcome has been reported.

    GetItem with ConsistentRead (DynamoDB API reference, GetItem: "If set to true, then the operation uses
    strongly consistent reads"): a marker written a moment ago by another sender is seen. ``note_reported``
    adds ``reported`` to a "sent" marker once its outcome is in the result file and on the topic, so a
    redelivery after a failed report reports the call (not calls it) again."""

    def __init__(self, dynamodb, table_name: str):
        self._dynamodb, self._table = dynamodb, table_name

    def read(self, queued: Chunk) -> dict[str, str]:
        """{"status": ..., "message_id": ..., "sent_at": ..., "reported": "yes"} as far as the marker has them;
        {} when none."""
        item = self._dynamodb.get_item(TableName=self._table, Key={"deduplication_id": {"S": queued.deduplication_id}},
                                       ConsistentRead=True,
                                       ProjectionExpression="#status, message_id, sent_at, reported",
                                       ExpressionAttributeNames={"#status": "status"}).get("Item", {})
        return {name: value["S"] for name, value in item.items() if "S" in value}

    def status(self, queued: Chunk) -> str | None:
        return self.read(queued).get("status")

    def give_up_waiting(self, request: CallRequest, why: str) -> Outcome:
        """A held row that cannot wait longer on the queue: set aside with the reason (a person redrives it)."""
        reason = f"{describe(Chunk((request,)))}: {why}; not called, redrive it when it can be called"
        self._set_aside.put(Chunk((request,)), reason)
        return Outcome.of(request, "set aside", reason)

    def note_reported(self, request: CallRequest) -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key={"deduplication_id": {"S": Chunk((request,)).deduplication_id}},
            UpdateExpression="SET reported = :yes", ConditionExpression="#status = :sent",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":yes": {"S": "yes"}, ":sent": {"S": "sent"}})


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


class Dialer:
    def __init__(self, channel, markers: SentMarkers, limiter: RateLimiter, rate_key: str, calls_per_second: float,
                 set_aside: SetAside, rules: CallRules, opt_outs: OptOutList | None = None,
                 slots: CallSlots | None = None, default_message: str = "",
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 slot_wait_seconds: float = SLOT_WAIT_SECONDS, slot_hold_seconds: int = SLOT_HOLD_SECONDS,
                 marker_reader: MarkerReader | None = None, archive: SentArchive | None = None):
        self._channel, self._markers, self._limiter = channel, markers, limiter
        self.archive = archive or SentArchive(None)
        self._rate_key, self._rate, self._set_aside = rate_key, calls_per_second, set_aside
        self._rules, self._opt_outs, self._slots = rules, opt_outs, slots
        self._default_message, self._clock, self._sleep = default_message, clock, sleep
        self._slot_wait, self._slot_hold = slot_wait_seconds, slot_hold_seconds
        self._marker_reader = marker_reader

    def call(self, request: CallRequest) -> Decision:
        if refusal := self._rules.refusal(request.number):
            return Decision(Outcome.of(request, *refusal))
        message = request.message if request.message.strip() else self._default_message
        if not message.strip():
            return Decision(Outcome.of(request, "refused", "no message: the row has none and the stack's "
                                                           "Message parameter is empty"))
        if too_long := self._channel.message_refusal(message):
            return Decision(Outcome.of(request, "refused", too_long))
        queued = Chunk((request,))
        marker = self._marker_reader.read(queued) if self._marker_reader is not None else {}
        status = marker.get("status")
        if status == "sent":
            self._keep_for_archive(request, message, marker.get("message_id", ""), marker.get("sent_at", ""))
            if self._marker_reader is not None and not marker.get("reported"):  # its report failed: report it
                return Decision(Outcome.of(request, "called", "reported again (the first report failed)",
                                           call_id=marker.get("message_id", "")))
            return Decision()
        if status == "sending":
            return self._set_aside_maybe_sent(request, queued, MaybeSent(
                f"{describe(queued)}: an earlier attempt may have sent it; not resending"))
        now = datetime.datetime.fromtimestamp(self._clock(), datetime.UTC)
        window = self._rules.window(request.time_zone, request.number, now)
        if window.wait is None:
            return Decision(Outcome.of(request, "refused", f"no hour of the calling window is open in every time "
                                                           f"zone of {window.place} at once; give the row its "
                                                           "time zone"))
        if window.wait:
            return Decision(hold=min(window.wait, MAX_HOLD_SECONDS))
        if self._opt_outs is not None and self._opt_outs.holds(request.number):
            return Decision(Outcome.of(request, "refused", "on the do-not-call (opt-out) list"))
        slot = queued.deduplication_id
        if self._slots is not None and not self._take_slot(slot):
            return Decision(hold=self._slot_hold)
        try:
            began = self._markers.begin(queued)
        except MaybeSent as unknown:
            self._release(slot)
            return self._set_aside_maybe_sent(request, queued, unknown)
        except Exception:
            self._release(slot)
            raise
        if not began:  # another sender called it since the read
            self._release(slot)
            return Decision()
        outcome = self._place(request, queued, message, slot)
        if window.note and not outcome.reason:
            outcome = dataclasses.replace(outcome, reason=window.note)  # an unknown zone is reported, not hidden
        return Decision(outcome)

    def _set_aside_maybe_sent(self, request: CallRequest, queued: Chunk, unknown: MaybeSent) -> Decision:
        self._set_aside.put(queued, str(unknown))
        return Decision(Outcome.of(request, "set aside", str(unknown)))

    def _place(self, request: CallRequest, queued: Chunk, message: str, slot: str) -> Outcome:
        throttled = False
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                self._limiter.wait(self._rate_key, self._rate)
            except Exception:
                self._not_placed(queued, slot)
                raise
            try:
                call_id = self._channel.call(request, message, queued.deduplication_id)
                break
            except EndpointConnectionError:  # the request never left (connection refused or timed out)
                self._not_placed(queued, slot)
                raise
            except HTTPClientError as lost:  # sent, but the answer was lost: the call may be up
                return self._unknown(request, queued, f"the call's answer was lost ({type(lost).__name__})")
            except ClientError as error:
                if is_throttling(error) and attempt < THROTTLE_RETRIES:
                    throttled = True
                    self._sleep(2 ** attempt)
                    continue
                if is_service_fault(error):
                    return self._unknown(request, queued, f"the service failed while calling ({_code(error)})")
                self._not_placed(queued, slot)  # the service answered: no call was placed
                if _code(error) in REFUSALS_FOR_GOOD:
                    detail = error.response.get("Error", {}).get("Message", "")
                    return Outcome.of(request, "refused", f"{_code(error)}: {detail}"[:1000])
                raise
        # Any other error (a timeout, a crash) leaves "sending" and the slot's lease: whether the call went is
        # unknown, so it is never placed again, and the lease expires on its own.
        sent_at = now()
        self._markers.finish(queued, "sent", call_id, sent_at)
        if self._slots is not None:
            self._slots.started(slot, call_id)
        self._keep_for_archive(request, message, call_id, sent_at)
        return Outcome.of(request, "throttled then called" if throttled else "called", call_id=call_id)

    def give_up_waiting(self, request: CallRequest, why: str) -> Outcome:
        """A held row that cannot wait longer on the queue: set aside with the reason (a person redrives it)."""
        reason = f"{describe(Chunk((request,)))}: {why}; not called, redrive it when it can be called"
        self._set_aside.put(Chunk((request,)), reason)
        return Outcome.of(request, "set aside", reason)

    def note_reported(self, request: CallRequest) -> None:
        """The call's outcome is in the result file and on the topic: a redelivery reports nothing more."""
        if self._marker_reader is not None:
            self._marker_reader.note_reported(request)

    def _keep_for_archive(self, request: CallRequest, message: str, call_id: str, sent_at: str) -> None:
        # A hook's source is pinpoint/<application>/<campaign>/<treatment>/<activity> (due.connect_channel.hook).
        source = request.file.split("/")
        campaign = source[2] if source[0] == "pinpoint" and len(source) > 2 else ""
        self.archive.add("voice", request.number, call_id, sent_at=sent_at, origination=self._channel.origination,
                         text=message, campaign_id=campaign,
                         headers={"External-Id": request.external_id} if request.external_id else {})

    def _unknown(self, request: CallRequest, queued: Chunk, why: str) -> Outcome:
        """Whether the call went is unknown: set aside for a person, the marker left "sending" (never redialled)."""
        reason = f"{describe(queued)}: {why}; it may have been placed, not calling again"
        self._set_aside.put(queued, reason)
        return Outcome.of(request, "set aside", reason)

    def _not_placed(self, queued: Chunk, slot: str) -> None:
        """No call left for this marker: "failed" lets a later attempt begin again; the slot is given back."""
        self._markers.finish(queued, "failed")
        self._release(slot)

    def _take_slot(self, slot: str) -> bool:
        give_up = self._clock() + self._slot_wait
        while not self._slots.acquire(slot):
            if self._clock() + SLOT_POLL_SECONDS > give_up:
                return False
            self._sleep(SLOT_POLL_SECONDS)
        return True

    def _release(self, slot: str) -> None:
        if self._slots is not None:
            self._slots.release(slot)
