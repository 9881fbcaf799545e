"""#11's store: one DynamoDB item per recipient, read at send time with BatchGetItem.

The table's partition key (a string) holds the recipient's key (the audience file's key column, or the
Pinpoint endpoint id); every other attribute of the item is data the message may use: ``{"id": "c-1001",
"Offer": "20% off boots"}`` gives that recipient ``Offer``. Strings, numbers and booleans are sent as text;
other types (lists, maps, sets, binary) are left out, because a template substitution is text.

Facts this relies on (DynamoDB API reference, BatchGetItem):

* one call reads at most 100 items and at most 16 MB ("A single operation can retrieve up to 16 MB of data,
  which can contain as many as 100 items"); asking for more than 100 is a ValidationException;
* a call may answer only part of what it was asked (response size, throughput, an internal failure) and
  returns the rest in ``UnprocessedKeys``, which "you should retry", with exponential backoff;
* a key asked twice in one call is a ValidationException, so keys are asked once each;
* reads are eventually consistent by default, at half the cost of strongly consistent ones: an offer written
  a second before the send may be missed, which the missing-data policy then covers.

A chunk of 50 recipients is one call (100 would be too); the whole lookup, retries included, is bounded by the
time budget, and what has not arrived by then is ``late``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence

from due.send_time.lookup import MONOTONIC, Found, Recipient, TooLate, within_budget

MAX_KEYS_PER_CALL = 100  # BatchGetItem: "as many as 100 items"
FIRST_RETRY_DELAY_SECONDS = 0.05
MAX_RETRY_DELAY_SECONDS = 1.0
_TEXT_TYPES = ("S", "N", "BOOL")


def item_data(item: dict, key_attribute: str) -> dict[str, str]:
    """An item's attributes as text, without its key (DynamoDB's typed JSON: {"S": ...}, {"N": ...})."""
    data = {}
    for name, typed in item.items():
        if name == key_attribute:
            continue
        kind, value = next(iter(typed.items()))
        if kind in _TEXT_TYPES:
            data[name] = ("true" if value else "false") if kind == "BOOL" else str(value)
    return data


class _Progress:
    """What the reading thread has learnt so far; the caller reads it when the budget ends."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items: dict[str, dict[str, str]] = {}  # key -> data
        self.absent: set[str] = set()  # keys the store answered it does not hold
        self.calls = 0


class AttributeStore:
    def __init__(self, dynamodb, table_name: str, key_attribute: str, budget_seconds: float, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = MONOTONIC):
        self._dynamodb, self._table, self._key = dynamodb, table_name, key_attribute
        self._budget, self._sleep, self._clock = budget_seconds, sleep, clock

    def look_up(self, campaign: str, recipients: Sequence[Recipient]) -> Found:
        """Each recipient's item; ``campaign`` does not matter to this store (one offer per recipient)."""
        keys = list(dict.fromkeys(r.key for r in recipients if r.key))
        progress = _Progress()
        with contextlib.suppress(TooLate):  # what arrived by then is used; the rest is late
            within_budget(lambda: self._read(keys, progress), self._budget)
        with progress.lock:
            items, absent, calls = dict(progress.items), set(progress.absent), progress.calls
        found = Found(store_calls=calls)
        for recipient in recipients:
            if recipient.key in items:
                found.data[recipient.ref] = items[recipient.key]
            elif not recipient.key or recipient.key in absent:
                found.missing.add(recipient.ref)
            else:
                found.late.add(recipient.ref)
        return found

    def _read(self, keys: list[str], progress: _Progress) -> None:
        deadline = self._clock() + self._budget
        for start in range(0, len(keys), MAX_KEYS_PER_CALL):
            asked = keys[start:start + MAX_KEYS_PER_CALL]
            pending = [{self._key: {"S": key}} for key in asked]
            delay = FIRST_RETRY_DELAY_SECONDS
            while pending:
                if self._clock() >= deadline:
                    raise TooLate("budget spent between calls")
                response = self._dynamodb.batch_get_item(RequestItems={self._table: {"Keys": pending}})
                with progress.lock:
                    progress.calls += 1
                    for item in response.get("Responses", {}).get(self._table, []):
                        progress.items[item[self._key]["S"]] = item_data(item, self._key)
                pending = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
                if pending:
                    self._sleep(min(delay, max(deadline - self._clock(), 0)))
                    delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)
            with progress.lock:
                progress.absent |= set(asked) - progress.items.keys()
