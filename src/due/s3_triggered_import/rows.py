"""A dropped file's rows as the import destinations receive them, and the rows they could not take."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportRow:
    """One data row: row 1 is the first data row; fields are the file's columns (CSV header names as written)."""

    row_number: int
    fields: dict[str, str]


@dataclass(frozen=True)
class RowFailure:
    """A row a destination could not take, with the reason (never the row's address or number)."""

    row_number: int
    reason: str
