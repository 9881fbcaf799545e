"""At most once per queued message: markers written before a send, and set-aside for what can never be sent.

Used by every sender of the file-to-queue pipeline (``due.row_queue``). What they keep is a *queued item*:
an object with ``deduplication_id``, ``file``, ``rows`` (the file's row numbers it holds),
``message_group_id`` and ``to_json()``; a ``due.row_queue.Chunk`` is one (wrap a single request as
``Chunk((request,))``).

``SentMarkers`` (a DynamoDB table whose partition key is ``deduplication_id``, string, with time to live on
``expires_at``):

* ``begin(item)`` writes the marker "sending" before the send, with the file and its row (the first) and,
  for more than one, ``rows`` (a number set). It returns False when the item was sent already (a
  redelivery: skip it) and raises ``MaybeSent`` when an earlier attempt began and never finished: whether
  it left is unknown, and sending again could send it twice, so the sender sets it aside instead;
* ``finish(item, status, message_id, sent_at)`` records "sent" (with the service's id and the time of the send)
  or "failed" (the service answered and did not send: a later attempt may begin again);
* ``begin_unless_sent(item)`` is ``begin`` that, for an item sent already, returns the marker's ``Sent``
  (message id and time): a sender that archives what it sent archives it again from there, at least once (an
  invocation that died between the send and its archive flush lost the first; the archive's conditional write
  on the same key, same hour and id, makes a second harmless).

The marker is a conditional PutItem ("no marker yet, or a failed one"), with ReturnValuesOnConditionCheckFailure
to learn the marker that stopped it (DynamoDB API reference, PutItem). Markers expire after ``keep_days``.

``SetAside.put(item, reason)`` puts the item's message in the send queue's dead-letter queue (FIFO, as its
queue is: same group and deduplication id) with the reason as a message attribute, for a person to see and,
once the cause is fixed, redrive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Queued(Protocol):
    file: str

    @property
    def rows(self) -> tuple[int, ...]: ...

    @property
    def message_group_id(self) -> str: ...

    @property
    def deduplication_id(self) -> str: ...

    def to_json(self) -> str: ...


class MaybeSent(RuntimeError):
    """An earlier attempt may have sent this item; sending again could send it twice."""


def describe(item: Queued) -> str:
    """``row 7 of bucket/key@version``, or ``rows 3 to 52 (50 rows) of ...``: never the rows' content."""
    rows = item.rows
    if len(rows) == 1:
        return f"row {rows[0]} of {item.file}"
    return f"rows {rows[0]} to {rows[-1]} ({len(rows)} rows) of {item.file}"


@dataclass(frozen=True)
class Sent:
    """What a "sent" marker says of the send: the service's message id and when ("" for a marker older than it)."""
    message_id: str
    sent_at: str


class SentMarkers:
    def __init__(self, dynamodb, table_name: str, keep_days: int = 30):
        self._dynamodb, self._table, self._keep = dynamodb, table_name, keep_days * 86400

    def begin(self, item: Queued) -> bool:
        """False when the item was sent already; raises MaybeSent when that is unknown."""
        return self.begin_unless_sent(item) is None

    def begin_unless_sent(self, item: Queued) -> Sent | None:
        """None when the marker "sending" is written (send it); the earlier send when it was sent already;
        raises MaybeSent when that is unknown."""
        marker = {"deduplication_id": {"S": item.deduplication_id}, "status": {"S": "sending"},
                  "file": {"S": item.file}, "row": {"N": str(item.rows[0])},
                  "expires_at": {"N": str(int(time.time()) + self._keep)}}
        if len(item.rows) > 1:
            marker["rows"] = {"NS": [str(row) for row in item.rows]}
        try:
            self._dynamodb.put_item(
                TableName=self._table, Item=marker,
                ConditionExpression="attribute_not_exists(deduplication_id) OR #status = :failed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":failed": {"S": "failed"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except self._dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item", {})
        if old.get("status", {}).get("S") == "sent":
            return Sent(old.get("message_id", {}).get("S", ""), old.get("sent_at", {}).get("S", ""))
        raise MaybeSent(f"{describe(item)}: an earlier attempt may have sent "
                        f"{'it' if len(item.rows) == 1 else 'them'}; not resending")

    def finish(self, item: Queued, status: str, message_id: str = "", sent_at: str = "") -> None:
        update, values = "SET #status = :status, message_id = :message_id", {":status": {"S": status},
                                                                              ":message_id": {"S": message_id}}
        if sent_at:
            update += ", sent_at = :sent_at"
            values[":sent_at"] = {"S": sent_at}
        self._dynamodb.update_item(
            TableName=self._table, Key={"deduplication_id": {"S": item.deduplication_id}},
            UpdateExpression=update, ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )


class SetAside:
    """Items that can never be sent, put in the send dead-letter queue with the reason, for a person to see."""

    def __init__(self, sqs, dead_letter_queue_url: str):
        self._sqs, self._queue = sqs, dead_letter_queue_url

    def put(self, item: Queued, reason: str) -> None:
        # The dead-letter queue of a FIFO queue is FIFO: same group and deduplication id as the item's own message.
        self._sqs.send_message(QueueUrl=self._queue, MessageBody=item.to_json(),
                               MessageGroupId=item.message_group_id,
                               MessageDeduplicationId=item.deduplication_id,
                               MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}})
