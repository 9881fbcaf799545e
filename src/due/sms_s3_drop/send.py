"""Send one queued SMS, exactly once, at the allowed rate per origination identity.

``SentMarkers`` (due.send_markers) makes sends at-most-once per row: a marker is written
(status "sending") before the API call and set to "sent" after it. A row whose
marker says "sent" is skipped. A call the API refused marks "failed".

One origination identity's rows share one FIFO message group, so a row that
fails holds up every later row of its identity until it succeeds or reaches
the dead-letter queue, and Lambda receives those later rows again with it
(each receive counts towards ``maxReceiveCount``). So a row that can never
succeed is not retried: it is set aside at once, in the send dead-letter
queue with its reason, and its group goes on. That is a row the service
refused for a reason of its own (invalid, opted out, unknown identity), and a
row whose marker says "sending" (an earlier attempt ended without knowing
whether the message left: sending again could send it twice). Anything else
(throttling beyond the client's retries, a service or network error) raises,
and Lambda retries the row.

A row sent is also kept for the message archive (due.archiving), after the send and never in its way; the
handler queues the batch's messages once, after the batch. The marker keeps the send's message id and time, and
a redelivered row whose marker says "sent" is archived again from them (not sent): an invocation that timed out
or crashed before its flush loses its archive records with its memory, and the redelivery puts them back. The
archive's write is conditional on the key (hour and message id), so a second copy adds nothing.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from due.archiving import SentArchive, now
from due.rate_limit import RateLimiter
from due.row_queue import Chunk
from due.send_markers import MaybeSent, SentMarkers, SetAside
from due.sms_s3_drop.requests import SmsRequest
from due.sms_sending import SendRefused

# End User Messaging errors about the request itself, which sending again cannot change: ValidationException
# (e.g. DESTINATION_COUNTRY_BLOCKED, INVALID_IDENTITY_FOR_DESTINATION_COUNTRY), ConflictException (e.g.
# DESTINATION_PHONE_NUMBER_OPTED_OUT) and ResourceNotFoundException (no such origination identity or
# configuration set); see the SendTextMessage API reference and the exceptions' Reason enums in botocore's
# pinpoint-sms-voice-v2 model. AccessDenied, ServiceQuotaExceeded (monthly spend limit), Throttling and
# InternalServer are about the account or the moment: retried.
REFUSALS_FOR_GOOD = frozenset({"ValidationException", "ConflictException", "ResourceNotFoundException"})


def _refused_for_good(error: Exception) -> bool:
    if isinstance(error, SendRefused):
        return error.permanent
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in REFUSALS_FOR_GOOD


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Reason") or error.response.get("Error", {}).get("Message", "")
        return f"{error.response['Error']['Code']}: {detail}"
    return str(error)


class Sender:
    def __init__(self, channel, markers: SentMarkers, limiter: RateLimiter, messages_per_second: float,
                 set_aside: SetAside, archive: SentArchive | None = None):
        """``channel``: a due.sms_sending sender (End User Messaging or Pinpoint)."""
        self._channel, self._markers, self._limiter = channel, markers, limiter
        self._rate, self._set_aside = messages_per_second, set_aside
        self.archive = archive or SentArchive(None)

    def send(self, request: SmsRequest) -> str:
        """"sent", "sent before" (skipped), or "set aside" (in the dead-letter queue with its reason)."""
        queued = Chunk((request,))  # one row a queue message
        try:
            if (earlier := self._markers.begin_unless_sent(queued)) is not None:
                self._archive(request, earlier.message_id, earlier.sent_at)
                return "sent before"
        except MaybeSent as unknown:
            self._set_aside.put(queued, str(unknown))
            return "set aside"
        self._limiter.wait(request.origination, self._rate)
        try:
            message_id = self._channel.send(request.number, request.origination, request.message,
                                            request.message_type, request.context())
        except (SendRefused, ClientError) as refused:  # the service answered: not sent
            self._markers.finish(queued, "failed")
            if not _refused_for_good(refused):
                raise
            self._set_aside.put(queued, _reason(refused))
            return "set aside"
        # Any other error (a timeout, a crash) leaves "sending": whether the message left is unknown.
        sent_at = now()
        self._markers.finish(queued, "sent", message_id, sent_at)
        self._archive(request, message_id, sent_at)
        return "sent"

    def _archive(self, request: SmsRequest, message_id: str, sent_at: str) -> None:
        self.archive.add("sms", request.number, message_id, sent_at=sent_at, origination=request.origination,
                         message_type=request.message_type, campaign_id=request.campaign_id, text=request.message)
