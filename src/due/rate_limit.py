"""At most R permits per second for a key, shared by every process that uses the same DynamoDB table.

``RateLimiter.wait(key, per_second)`` returns when the caller may make its
call: the key's permits are at least one interval (1/R s) apart, whichever
function, invocation or execution environment asks. One item per key holds
``next_slot``, the earliest time (epoch milliseconds) of the key's next
permit. A permit is taken at the moment it is used, with one conditional
UpdateItem: "now is at least the stored next slot; store now plus one
interval". A caller that is early is told the stored slot (by
ReturnValuesOnConditionCheckFailure), sleeps until it and asks again; of
callers racing for one slot, one wins and the others wait for the next.
(DynamoDB Developer Guide, "Condition expressions"; UpdateItem API reference,
ReturnValuesOnConditionCheckFailure.)

Taking the permit when it is used, not reserving it ahead, means a caller that
wakes late (a slow sleep, a busy host) moves the next permit later too, so
the calls themselves, not only the permits, stay an interval apart. This is a
token bucket of capacity one: no burst, so no one-second window holds more
than R calls. Callers compare their own clocks with the stored slot; Lambda's
hosts keep time with the Amazon Time Sync Service, so that is good to
milliseconds. Many callers waiting on one key each spend a write per try:
where that matters, give each key one caller at a time (the SMS sender does,
with one FIFO message group per origination identity). The item expires (the
table's time to live) a day after the key's last permit.
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
        while True:
            now = self._now()
            try:
                self._dynamodb.update_item(
                    TableName=self._table, Key={"key": {"S": key}},
                    UpdateExpression="SET next_slot = :next, expires_at = :expires",
                    ConditionExpression="attribute_not_exists(next_slot) OR next_slot <= :now",
                    ExpressionAttributeValues={":now": {"N": str(now)}, ":next": {"N": str(now + interval)},
                                               ":expires": {"N": str(now // 1000 + KEEP_IDLE_KEYS_SECONDS)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return
            except self._dynamodb.exceptions.ConditionalCheckFailedException as early:
                self._sleep(max(int(early.response["Item"]["next_slot"]["N"]) - now, 1) / 1000)

    def _now(self) -> int:
        return math.ceil(self._clock() * 1000)
