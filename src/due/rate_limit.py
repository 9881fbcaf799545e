"""At most R permits per second for a key, shared by every process that uses the same DynamoDB table.

``RateLimiter.wait(key, per_second)`` returns when the caller may make its
call: the key's permits are granted one interval (1/R s) apart, in order of
request, whichever function, invocation or execution environment asks. One
item per key holds ``next_slot``, the earliest time (epoch milliseconds) of
the key's next permit. A permit is taken with one conditional UpdateItem:
"my slot is at least the stored next slot; store my slot plus one interval".
Any write that succeeds therefore follows the previous permit by at least an
interval, whatever the callers' clocks say; the caller then sleeps until its
slot. When two callers race for one slot, one wins and the other, told the
stored value by ReturnValuesOnConditionCheckFailure, takes the next one.
(DynamoDB condition expressions and ReturnValuesOnConditionCheckFailure:
DynamoDB Developer Guide, "Condition expressions" and the UpdateItem API
reference.)

This is a token bucket of capacity one: no burst, so no one-second window
ever holds more than R permits. Senders sleep on their own clocks; Lambda's
hosts keep time with the Amazon Time Sync Service, so slots drift by
milliseconds at most. The item expires (the table's time to live) a day after
the key's last permit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

KEEP_IDLE_KEYS_SECONDS = 86_400


class RateLimiter:
    def __init__(self, dynamodb, table_name: str, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        """``dynamodb``: a DynamoDB client; ``table_name``: a table whose partition key is ``key`` (string)."""
        self._dynamodb, self._table, self._clock, self._sleep = dynamodb, table_name, clock, sleep

    def wait(self, key: str, per_second: float) -> None:
        """Return when a permit for ``key`` at ``per_second`` permits per second is this caller's."""
        if per_second <= 0:
            raise ValueError(f"the rate for {key} must be positive, not {per_second}")
        interval = math.ceil(1000 / per_second)  # whole milliseconds, rounded up: never faster than asked
        slot = self._now()  # first guess: the key is idle
        while True:
            try:
                self._dynamodb.update_item(
                    TableName=self._table, Key={"key": {"S": key}},
                    UpdateExpression="SET next_slot = :next, expires_at = :expires",
                    ConditionExpression="attribute_not_exists(next_slot) OR next_slot <= :slot",
                    ExpressionAttributeValues={":slot": {"N": str(slot)}, ":next": {"N": str(slot + interval)},
                                               ":expires": {"N": str(slot // 1000 + KEEP_IDLE_KEYS_SECONDS)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                break
            except self._dynamodb.exceptions.ConditionalCheckFailedException as taken:
                # Another permit came first: the earliest free slot is the stored one (or now, if that passed).
                slot = max(int(taken.response["Item"]["next_slot"]["N"]), self._now())
        delay = slot - self._now()
        if delay > 0:
            self._sleep(delay / 1000)

    def _now(self) -> int:
        return math.ceil(self._clock() * 1000)
