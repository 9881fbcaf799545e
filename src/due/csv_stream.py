"""CSV rows from an S3 object, in constant memory, resumable at any row.

The object is read in ranged GETs of ``chunk_size`` bytes, so memory stays
bounded whatever the file's size, and reading can start at any byte offset.
Each row comes with the byte offset just after it: a checkpoint from which a
later invocation continues exactly there. A real CSV parser reads the lines,
so quoted commas and quoted line breaks stay inside their field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_SIZE = 1024 * 1024  # per ranged GET: memory stays near this, whatever the file size


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version_id: str | None = None  # read the version that was dropped, even if replaced since


def _lines(s3, source: S3Object, start: int, chunk_size: int) -> Iterator[tuple[bytes, int]]:
    """(line including its line break, offset after it), from ``start``."""
    position, pending = start, b""
    size = s3.head_object(Bucket=source.bucket, Key=source.key,
                          **({"VersionId": source.version_id} if source.version_id else {}))["ContentLength"]
    while position < size:
        end = min(position + chunk_size, size) - 1
        kwargs = {"VersionId": source.version_id} if source.version_id else {}
        chunk = s3.get_object(Bucket=source.bucket, Key=source.key, Range=f"bytes={position}-{end}",
                              **kwargs)["Body"].read()
        position = end + 1
        data = pending + chunk
        consumed_until = position - len(data)
        lines = data.split(b"\n")
        pending = lines.pop()  # the last piece has no line break yet
        for line in lines:
            consumed_until += len(line) + 1
            yield line + b"\n", consumed_until
    if pending:
        yield pending, size


def rows(s3, source: S3Object, start: int = 0, chunk_size: int = CHUNK_SIZE) -> Iterator[tuple[list[str], int]]:
    """(row, offset after it); a row with a quoted line break spans several lines."""
    offset = start

    def decoded() -> Iterator[str]:
        nonlocal offset
        for number, (line, after) in enumerate(_lines(s3, source, start, chunk_size)):
            offset = after
            text = line.decode("utf-8", errors="replace")
            yield text.lstrip("\ufeff") if number == 0 and start == 0 else text  # a BOM is not data

    for row in csv.reader(decoded()):
        # csv.reader asks for a line only when it needs one, so ``offset`` is just past this row.
        yield row, offset
