"""At most one send per file, row and address, for calls that take no client token.

``due.send_markers`` marks a queued item as one send (sending, sent, failed). A chunk of bulk email is several
calls (one per content, halves after a size refusal, again for throttled destinations), and a chunk that
comes back after some of them must send only the rest: so this marks rows, in the same kind of table
(partition key ``deduplication_id``, time to live ``expires_at``), and sets aside through
``due.send_markers.SetAside``.

``SendBulkEmail`` has no idempotency token (SES v2 API reference: its request has no ClientToken), so a call
that times out may or may not have sent. One DynamoDB item per chunk (keyed by a digest of the file, the rows
and their addresses) records where the chunk's sending stands:

* ``remaining``: the rows not yet settled (sent, refused or skipped settle a row);
* ``in_flight``: the rows of a call that has started and whose answer has not been recorded.

A call's rows are written to ``in_flight`` before the call and removed, with the settled rows, after it. So
when a chunk comes back (Lambda retries it, or SQS delivers it twice), its rows that are still ``in_flight``
may have been sent: they are set aside for a person, never sent again; the rest of ``remaining`` is sent; a
chunk with nothing remaining is done. FIFO delivery gives one chunk's message to one invocation at a time
(a message group is served in order), so no two invocations work on one chunk at once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

KEEP_DAYS = 30


def chunk_id(file: str, rows: Sequence[tuple[str, str]]) -> str:
    """The same file, rows and addresses always give the same id, and nothing else does."""
    digest = hashlib.sha256(file.encode())
    for ref, address in rows:
        digest.update(f"\n{ref}\t{address.lower()}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Resume:
    remaining: list[str]  # rows not settled yet (``unknown`` among them)
    unknown: list[str]  # rows an earlier attempt may have sent: the caller sets them aside and settles them


class ChunkMarkers:
    def __init__(self, dynamodb, table_name: str):
        self._dynamodb, self._table = dynamodb, table_name
        self.writes = 0

    def begin(self, chunk: str, refs: Sequence[str]) -> Resume:
        item = {"deduplication_id": {"S": chunk}, "remaining": {"L": [{"S": r} for r in refs]},
                "in_flight": {"L": []}, "expires_at": {"N": str(int(time.time()) + KEEP_DAYS * 86400)}}
        try:
            self.writes += 1
            self._dynamodb.put_item(TableName=self._table, Item=item,
                                    ConditionExpression="attribute_not_exists(deduplication_id)",
                                    ReturnValuesOnConditionCheckFailure="ALL_OLD")
            return Resume(list(refs), [])
        except self._dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item", {})
        remaining = [v["S"] for v in old.get("remaining", {}).get("L", [])]
        unknown = [v["S"] for v in old.get("in_flight", {}).get("L", [])]
        return Resume(remaining, unknown)

    def calling(self, chunk: str, refs: Sequence[str]) -> None:
        self._update(chunk, "SET in_flight = :refs", {":refs": {"L": [{"S": r} for r in refs]}})

    def settle(self, chunk: str, remaining: Sequence[str], settled: Sequence[str]) -> list[str]:
        """Remove ``settled`` from the remaining rows and clear the call in flight; returns what remains."""
        done = set(settled)
        left = [r for r in remaining if r not in done]
        self._update(chunk, "SET remaining = :left, in_flight = :none",
                     {":left": {"L": [{"S": r} for r in left]}, ":none": {"L": []}})
        return left

    def _update(self, chunk: str, expression: str, values: dict) -> None:
        self.writes += 1
        self._dynamodb.update_item(TableName=self._table, Key={"deduplication_id": {"S": chunk}},
                                   UpdateExpression=expression, ExpressionAttributeValues=values)
