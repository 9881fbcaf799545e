"""Send one queued SMS, exactly once, at the allowed rate.

``SentMarkers`` makes sends at-most-once per row: a marker is written
(status "sending") before the API call and set to "sent" after it. A row whose
marker says "sent" is skipped; one that says "sending" (an earlier attempt
ended without knowing whether the message left) is not sent again but fails
loudly, and after the queue's retries lands in its dead-letter queue for a
person to check. A call the API refused (throttled, invalid) marks "failed"
and may be retried.
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from due.sms_s3_drop.rate import RateLimiter
from due.sms_s3_drop.requests import SmsRequest
from due.sms_sending import SendRefused


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


class Sender:
    def __init__(self, channel, markers: SentMarkers, limiter: RateLimiter):
        """``channel``: a due.sms_sending sender (End User Messaging or Pinpoint)."""
        self._channel, self._markers, self._limiter = channel, markers, limiter

    def send(self, request: SmsRequest) -> bool:
        """True if sent now, False if it had been sent before."""
        if not self._markers.begin(request):
            return False
        self._limiter.wait(request.origination)
        try:
            message_id = self._channel.send(request.number, request.origination, request.message,
                                            request.message_type, request.context())
        except (SendRefused, ClientError):  # the service answered: refused, not sent, so it may be retried
            self._markers.finish(request, "failed")
            raise
        # Any other error (a timeout, a crash) leaves "sending": whether the message left is unknown.
        self._markers.finish(request, "sent", message_id)
        return True
