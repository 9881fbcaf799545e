"""Exact membership by a streamed merge: the query's new result and the kept membership, both sorted by key.

The kept membership is the previous successful run's members, one JSON line
per member (``{"k": key, "t": [targets]}``: the profile ids or the endpoint id
that carry the token, empty when none was found), in key order, written as one
or more part objects (one per chunk of the run that wrote them). The new
result is Athena's CSV: a header, then one row per person, first column the
key, ordered by it (the query's contract).

``walk`` reads both in ranged reads (``due.csv_stream``: memory stays flat
whatever their size) and yields, in key order, each key that entered, left or
stayed. Both orders are checked as they are read: a key that is not greater
than the one before (out of order, or twice) raises ``OutOfOrder`` naming the
row, never the key (it may be an address), so a query without ORDER BY fails
the run loudly instead of adding and removing people at random. Keys compare
as Python strings, by code point, which is the order of their UTF-8 bytes: the
order Athena's ORDER BY gives varchar values. A ``Position`` after each item
says where both streams continue; it travels in the state machine's state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from due.csv_stream import S3Object, json_lines, rows

PART_BYTES = 8 * 1024 * 1024  # a chunk ends after this much of the new membership: memory stays near it


class OutOfOrder(ValueError):
    """A stream's keys are not strictly increasing."""


class CorruptMembership(ValueError):
    """A kept membership line is not what this module writes."""


@dataclass
class Member:
    key: str
    targets: list[str] = field(default_factory=list)  # what carries the token; [] = nobody found for the key
    # True: a failed run may or may not have changed this key's token (``recovered``); the next run reads what
    # is written instead of trusting this line: it looks the key up whether it stays or leaves.
    uncertain: bool = False

    def line(self) -> bytes:
        value = {"k": self.key, "t": self.targets, **({"u": 1} if self.uncertain else {})}
        return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


@dataclass(frozen=True)
class ResultRow:
    number: int  # 1 = the first row after the header
    key: str
    fields: list[str]


@dataclass
class Position:
    """Where the walk continues: byte offsets in the result and in the kept membership's current part.

    The order check needs the last key read from each stream; a key may be an address, so the saved position
    holds where that key's row starts instead, and the key is read again from there when the walk resumes."""

    result_offset: int = 0  # 0 = the header is still to be read
    result_rows: int = 0
    last_result_start: int | None = None  # where the last keyed row read starts
    part: int = 0
    part_offset: int = 0
    kept_rows: int = 0
    last_kept_part: int | None = None  # where the last member read starts: its part and offset
    last_kept_start: int | None = None
    header: list[str] | None = None
    last_result_key: str | None = field(default=None, repr=False)  # in memory only
    last_kept_key: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        saved = asdict(self)
        del saved["last_result_key"], saved["last_kept_key"]
        return saved

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Position:
        return cls(**(data or {}))


ENTERED, LEFT, STAYED, BLANK = "entered", "left", "stayed", "blank"


def _result_rows(s3, result: S3Object, position: Position) -> Iterator[tuple[ResultRow, int, int]]:
    """(row, offset where it starts, offset after it) from the position; the header is read into the position
    first."""
    found = rows(s3, result, start=position.result_offset)
    if position.result_offset == 0:
        header, after = next(found, (None, 0))
        if header is None:
            raise ValueError("the query's result file is empty (Athena writes a header even for no rows)")
        position.header, position.result_offset = header, after
    number, start = position.result_rows, position.result_offset
    for fields, after in found:
        number += 1
        yield ResultRow(number, fields[0] if fields else "", fields), start, after
        start = after


def _kept_members(s3, bucket: str, parts: list[str], position: Position,
                  ) -> Iterator[tuple[Member, int, int, int]]:
    """(member, part index, offset where it starts, offset after it) from the position, across the parts."""
    number = position.kept_rows
    for index in range(position.part, len(parts)):
        start = position.part_offset if index == position.part else 0
        for value, after in json_lines(s3, S3Object(bucket, parts[index]), start=start):
            number += 1
            if not (isinstance(value, dict) and isinstance(value.get("k"), str) and isinstance(value.get("t"), list)):
                raise CorruptMembership(f"kept membership line {number} (s3://{bucket}/{parts[index]}) is not a "
                                        "member line")
            yield Member(value["k"], [str(t) for t in value["t"]], bool(value.get("u"))), index, start, after
            start = after


def _restore_last_keys(s3, result: S3Object, kept_bucket: str, kept_parts: list[str], position: Position) -> None:
    """The keys the order check compares with, read again where a saved position says they start."""
    if position.last_result_start is not None and position.last_result_key is None:
        row = next(rows(s3, result, start=position.last_result_start), None)
        position.last_result_key = row[0][0] if row and row[0] else None
    if position.last_kept_start is not None and position.last_kept_key is None:
        line = next(json_lines(s3, S3Object(kept_bucket, kept_parts[position.last_kept_part]),
                               start=position.last_kept_start), None)
        position.last_kept_key = line[0].get("k") if line and isinstance(line[0], dict) else None


def walk(s3, result: S3Object, kept_bucket: str, kept_parts: list[str],
         position: Position) -> Iterator[tuple[str, ResultRow | None, Member | None]]:
    """(ENTERED, row, None) | (LEFT, None, member) | (STAYED, row, member) | (BLANK, row, None), in key order.

    ``position`` moves past each item as it is yielded, so it can be saved after any of them."""
    _restore_last_keys(s3, result, kept_bucket, kept_parts, position)
    new_rows = _result_rows(s3, result, position)
    old_members = _kept_members(s3, kept_bucket, kept_parts, position)

    def next_row() -> tuple[ResultRow, int, int] | None:
        item = next(new_rows, None)
        if item is not None and item[0].key and position.last_result_key is not None \
                and item[0].key <= position.last_result_key:
            raise OutOfOrder(f"result row {item[0].number} does not come after the row before it: the query must "
                             "ORDER BY its first column and return each key once")
        return item

    def consume_row(item: tuple[ResultRow, int, int]) -> None:
        row, start, after = item
        position.result_offset, position.result_rows = after, row.number
        if row.key:
            position.last_result_key, position.last_result_start = row.key, start

    def next_member() -> tuple[Member, int, int, int] | None:
        item = next(old_members, None)
        if item is not None and position.last_kept_key is not None and item[0].key <= position.last_kept_key:
            raise OutOfOrder(f"kept membership line {position.kept_rows + 1} does not come after the line before it")
        return item

    def consume_member(item: tuple[Member, int, int, int]) -> None:
        member, index, start, after = item
        position.part, position.part_offset, position.kept_rows = index, after, position.kept_rows + 1
        position.last_kept_key, position.last_kept_part, position.last_kept_start = member.key, index, start

    new, old = next_row(), next_member()
    while new is not None or old is not None:
        if new is not None and not new[0].key:  # a row without a key: nobody to tag
            consume_row(new)
            yield BLANK, new[0], None
            new = next_row()
        elif old is None or (new is not None and new[0].key < old[0].key):
            consume_row(new)
            yield ENTERED, new[0], None
            new = next_row()
        elif new is None or old[0].key < new[0].key:
            consume_member(old)
            yield LEFT, None, old[0]
            old = next_member()
        else:
            consume_row(new)
            consume_member(old)
            yield STAYED, new[0], old[0]
            new, old = next_row(), next_member()
    # Every part read to its end: the next run of this walk (none) would start past them.
    position.part = len(kept_parts)
    position.part_offset = 0


def recovered(change: str, row: ResultRow | None, member: Member | None) -> Member | None:
    """What the kept membership says of one key a failed run reached (or may have reached) past its checkpoint.

    Only a change can have been written: a key that stayed with targets was not written, so its line stays
    certain; a key that entered, left, or stayed without targets (looked up again) may have been written or
    not, so it is kept as uncertain, with the targets known before; a key that left with no targets was never
    written and is dropped. An uncertain key that leaves on the next run is looked up and untagged; one that
    stays is looked up and tagged if it is not."""
    if change == ENTERED:
        return Member(row.key, [], uncertain=True)
    if change == STAYED:
        return member if member.targets and not member.uncertain else Member(member.key, member.targets, True)
    if change == LEFT and (member.targets or member.uncertain):
        return Member(member.key, member.targets, True)
    return None


def kept_from(s3, bucket: str, parts: list[str], position: Position) -> Iterator[Member]:
    """The kept membership from the position on, as it is."""
    for member, *_ in _kept_members(s3, bucket, parts, position):
        yield member


class PartWriter:
    """The new membership's lines for one chunk, in key order; a member whose targets are still being found
    (a batched Pinpoint lookup) waits in place until ``settle``."""

    def __init__(self):
        self._body = bytearray()
        self._waiting: list[Member] = []

    def add(self, member: Member) -> None:
        self._waiting.append(member)

    def settle(self) -> None:
        for member in self._waiting:
            self._body += member.line()
        self._waiting.clear()

    @property
    def size(self) -> int:
        return len(self._body)

    def body(self) -> bytes:
        if self._waiting:
            raise RuntimeError("members are still waiting for their targets")
        return bytes(self._body)
