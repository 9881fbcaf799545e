"""The count of calls in progress on a Connect instance, kept below a limit across every sender.

Connect does not refuse a call over the instance's concurrent-call limit (10 active calls per instance by
default, Amazon Connect service quotas): the customer hears a fast busy tone. So the dialler takes a slot
before each call and never holds more than ``limit``. One DynamoDB item per instance (partition key ``key``)
holds ``leases``, a map of lease name -> expiry (epoch seconds):

* ``acquire(name)`` adds a lease named after the call (its deduplication id) with one UpdateItem whose
  condition is ``size(leases) < :limit`` (DynamoDB Developer Guide, "Condition expressions": size of a
  map is its number of elements); when full, it removes the expired leases (each with a condition that it is
  still the same lease; the full item comes back with the refusal, ReturnValuesOnConditionCheckFailure, UpdateItem
  API reference) and tries once more. False when the instance is busy: the caller waits;
* ``started(name, contact_id)`` renames the lease after the contact Connect started, so the contact's
  DISCONNECTED event can release it; unless that event came first (a call that ended at once): then the
  lease is just removed;
* ``release(name)`` removes a lease: a contact event's contact id, or a call that did not start. It leaves a
  tombstone, ``ended`` (a second map, name -> expiry, ``TOMBSTONE_SECONDS`` later), which ``started`` checks
  in its condition, so a release that arrives before ``started`` is not lost. Expired tombstones are removed
  by the release that finds more than ``TOMBSTONE_PRUNE_AT`` of them, keeping the item small (400 KB).

Each lease expires after ``lease_seconds`` (a stack parameter, longer than the longest call): a lost
contact event frees its slot then, not never.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

TOMBSTONE_SECONDS = 300  # far longer than from a call's answer to its ``started`` (one DynamoDB write)
TOMBSTONE_PRUNE_AT = 200


class CallSlots:
    def __init__(self, dynamodb, table_name: str, key: str, limit: int = 10, lease_seconds: int = 1800,
                 clock: Callable[[], float] = time.time):
        """``limit`` and ``lease_seconds`` matter to ``acquire`` only (releasing and counting need neither)."""
        self._dynamodb, self._table, self._key = dynamodb, table_name, {"key": {"S": key}}
        self.limit, self._lease, self._clock = limit, lease_seconds, clock

    def acquire(self, name: str) -> bool:
        self._ensure_item()
        for attempt in range(2):
            try:
                self._dynamodb.update_item(
                    TableName=self._table, Key=self._key, UpdateExpression="SET leases.#name = :expires",
                    ConditionExpression="size(leases) < :limit",
                    ExpressionAttributeNames={"#name": name},
                    ExpressionAttributeValues={":expires": {"N": str(int(self._clock()) + self._lease)},
                                               ":limit": {"N": str(self.limit)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD")
                return True
            except self._dynamodb.exceptions.ConditionalCheckFailedException as full:
                leases = full.response.get("Item", {}).get("leases", {}).get("M", {})
                if attempt == 0 and not self._remove_expired(leases):
                    return False
        return False

    def started(self, name: str, contact_id: str) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._table, Key=self._key,
                UpdateExpression="REMOVE leases.#name SET leases.#contact = :expires",
                ConditionExpression="attribute_not_exists(ended.#contact)",
                ExpressionAttributeNames={"#name": name, "#contact": contact_id},
                ExpressionAttributeValues={":expires": {"N": str(int(self._clock()) + self._lease)}})
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            # The contact's DISCONNECTED event came first: the call is over, its slot free.
            self._dynamodb.update_item(TableName=self._table, Key=self._key, UpdateExpression="REMOVE leases.#name",
                                       ExpressionAttributeNames={"#name": name})

    def release(self, name: str) -> None:
        until = {"N": str(int(self._clock()) + TOMBSTONE_SECONDS)}
        try:
            item = self._dynamodb.update_item(
                TableName=self._table, Key=self._key, UpdateExpression="REMOVE leases.#name SET ended.#name = :until",
                ConditionExpression="attribute_exists(ended)", ExpressionAttributeNames={"#name": name},
                ExpressionAttributeValues={":until": until}, ReturnValues="ALL_NEW")["Attributes"]
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            # No tombstones yet (an item written before there were any): the map starts with this one.
            with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
                self._dynamodb.update_item(
                    TableName=self._table, Key=self._key, UpdateExpression="REMOVE leases.#name SET ended = :ended",
                    ConditionExpression="attribute_not_exists(ended)", ExpressionAttributeNames={"#name": name},
                    ExpressionAttributeValues={":ended": {"M": {name: until}}})
                return
            return self.release(name)  # another release made the map in between
        ended = item.get("ended", {}).get("M", {})
        if len(ended) > TOMBSTONE_PRUNE_AT:
            self._prune(ended)

    def _prune(self, ended: dict) -> None:
        now = int(self._clock())
        expired = [name for name, until in ended.items() if int(until["N"]) <= now][:100]
        if expired:
            names = {f"#e{i}": name for i, name in enumerate(expired)}
            self._dynamodb.update_item(TableName=self._table, Key=self._key,
                                       UpdateExpression="REMOVE " + ", ".join(f"ended.{n}" for n in names),
                                       ExpressionAttributeNames=names)

    def in_progress(self) -> int:
        item = self._dynamodb.get_item(TableName=self._table, Key=self._key, ConsistentRead=True).get("Item", {})
        return len(item.get("leases", {}).get("M", {}))

    def _ensure_item(self) -> None:
        # An item that is there already is what this call needs.
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.put_item(TableName=self._table, Item={**self._key, "leases": {"M": {}}, "ended": {"M": {}}},
                                    ConditionExpression="attribute_not_exists(#key)",
                                    ExpressionAttributeNames={"#key": "key"})

    def _remove_expired(self, leases: dict) -> int:
        """Removes the expired ones of ``leases`` (the item as the failed condition saw it)."""
        now, removed = int(self._clock()), 0
        for name, expires in leases.items():
            if int(expires["N"]) > now:
                continue
            try:
                self._dynamodb.update_item(
                    TableName=self._table, Key=self._key, UpdateExpression="REMOVE leases.#name",
                    ConditionExpression="leases.#name = :expires", ExpressionAttributeNames={"#name": name},
                    ExpressionAttributeValues={":expires": expires})
                removed += 1
            except self._dynamodb.exceptions.ConditionalCheckFailedException:
                pass  # another sender removed or renewed it: either way not ours to count
        return removed
