"""At most one reply per sender per window, so two auto-responders cannot keep each other busy.

One DynamoDB item per sender (a person's key, see sender_key), expiring (TTL) when the window ends.
TTL deletes lazily, so the claim's condition also accepts an expired item.
"""

from __future__ import annotations

import contextlib
import time


class ReplyLog:
    def __init__(self, dynamodb, table_name: str, window_seconds: int):
        self._dynamodb = dynamodb
        self._table = table_name
        self._window = window_seconds

    def claim(self, sender: str, message_id: str, now: float | None = None) -> bool:
        """True if no reply went to ``sender`` within the window; records this one."""
        now = int(now if now is not None else time.time())
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={"sender": {"S": sender}, "expires_at": {"N": str(now + self._window)},
                      "message_id": {"S": message_id}},
                ConditionExpression="attribute_not_exists(sender) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
            return True
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False

    def release(self, sender: str, message_id: str) -> None:
        """Give the claim back (the reply failed), so the retry may send it."""
        # The condition keeps another message's claim (not ours to release).
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.delete_item(
                TableName=self._table, Key={"sender": {"S": sender}},
                ConditionExpression="message_id = :message_id",
                ExpressionAttributeValues={":message_id": {"S": message_id}},
            )
