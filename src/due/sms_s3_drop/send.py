"""Send one queued SMS, exactly once, at the allowed rate per origination identity.

``SentMarkers`` makes sends at-most-once per row: a marker is written
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
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from due.rate_limit import RateLimiter
from due.sms_s3_drop.requests import SmsRequest
from due.sms_sending import SendRefused

# End User Messaging errors about the request itself, which sending again cannot change: ValidationException
# (e.g. DESTINATION_COUNTRY_BLOCKED, INVALID_IDENTITY_FOR_DESTINATION_COUNTRY), ConflictException (e.g.
# DESTINATION_PHONE_NUMBER_OPTED_OUT) and ResourceNotFoundException (no such origination identity or
# configuration set); see the SendTextMessage API reference and the exceptions' Reason enums in botocore's
# pinpoint-sms-voice-v2 model. AccessDenied, ServiceQuotaExceeded (monthly spend limit), Throttling and
# InternalServer are about the account or the moment: retried.
REFUSALS_FOR_GOOD = frozenset({"ValidationException", "ConflictException", "ResourceNotFoundException"})


class MaybeSent(RuntimeError):
    """An earlier attempt may have sent this row; sending again could send it twice."""


class SentMarkers:
    def __init__(self, dynamodb, table_name: str, keep_days: int = 30):
        self._dynamodb, self._table, self._keep = dynamodb, table_name, keep_days * 86400

    def begin(self, request: SmsRequest) -> bool:
        """False when the row was sent already; raises MaybeSent when that is unknown."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={"deduplication_id": {"S": request.deduplication_id}, "status": {"S": "sending"},
                      "file": {"S": request.file}, "row": {"N": str(request.row)},
                      "expires_at": {"N": str(int(time.time()) + self._keep)}},
                ConditionExpression="attribute_not_exists(deduplication_id) OR #status = :failed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":failed": {"S": "failed"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return True
        except self._dynamodb.exceptions.ConditionalCheckFailedException as exc:
            status = exc.response.get("Item", {}).get("status", {}).get("S")
        if status == "sent":
            return False
        raise MaybeSent(f"row {request.row} of {request.file}: an earlier attempt may have sent it; not resending")

    def finish(self, request: SmsRequest, status: str, message_id: str = "") -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key={"deduplication_id": {"S": request.deduplication_id}},
            UpdateExpression="SET #status = :status, message_id = :message_id",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status}, ":message_id": {"S": message_id}},
        )


class SetAside:
    """Rows that can never be sent, put in the send dead-letter queue with the reason, for a person to see."""

    def __init__(self, sqs, dead_letter_queue_url: str):
        self._sqs, self._queue = sqs, dead_letter_queue_url

    def put(self, request: SmsRequest, reason: str) -> None:
        # The dead-letter queue of a FIFO queue is FIFO: same group and deduplication id as the row's own message.
        self._sqs.send_message(QueueUrl=self._queue, MessageBody=request.to_json(),
                               MessageGroupId=request.message_group_id,
                               MessageDeduplicationId=request.deduplication_id,
                               MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}})


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
                 set_aside: SetAside):
        """``channel``: a due.sms_sending sender (End User Messaging or Pinpoint)."""
        self._channel, self._markers, self._limiter = channel, markers, limiter
        self._rate, self._set_aside = messages_per_second, set_aside

    def send(self, request: SmsRequest) -> str:
        """"sent", "sent before" (skipped), or "set aside" (in the dead-letter queue with its reason)."""
        try:
            if not self._markers.begin(request):
                return "sent before"
        except MaybeSent as unknown:
            self._set_aside.put(request, str(unknown))
            return "set aside"
        self._limiter.wait(request.origination, self._rate)
        try:
            message_id = self._channel.send(request.number, request.origination, request.message,
                                            request.message_type, request.context())
        except (SendRefused, ClientError) as refused:  # the service answered: not sent
            self._markers.finish(request, "failed")
            if not _refused_for_good(refused):
                raise
            self._set_aside.put(request, _reason(refused))
            return "set aside"
        # Any other error (a timeout, a crash) leaves "sending": whether the message left is unknown.
        self._markers.finish(request, "sent", message_id)
        return "sent"
