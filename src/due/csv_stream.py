"""CSV rows (or JSON lines) from an S3 object, in constant memory, resumable at any row.

The object is read in ranged GETs of ``chunk_size`` bytes, so memory stays
bounded whatever the file's size, and reading can start at any byte offset.
Each row comes with the byte offset just after it: a checkpoint from which a
later invocation continues exactly there. A real CSV parser reads the lines,
so quoted commas and quoted line breaks stay inside their field.

Uploaded files must be UTF-8 (a byte order mark at the start is allowed and
dropped). Nothing is guessed or replaced: a byte that is not UTF-8 (a file
saved as Windows-1252 or Latin-1, say) raises ``NotUtf8`` with its offset, so
no text with U+FFFD where a letter was ever reaches a customer. A reader that
must not act on half a file calls ``require_utf8`` before its first row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_SIZE = 1024 * 1024  # per ranged GET: memory stays near this, whatever the file size


class NotUtf8(ValueError):
    """The object holds a byte sequence that is not UTF-8."""

    def __init__(self, offset: int, line: int | None):
        self.offset, self.line = offset, line
        super().__init__(f"not UTF-8 at byte {offset}" + (f" (line {line})" if line is not None else ""))


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


def _text_lines(s3, source: S3Object, start: int, chunk_size: int) -> Iterator[tuple[str, int]]:
    """(line as text, offset after it); raises NotUtf8 at the first line that is not UTF-8."""
    for number, (line, after) in enumerate(_lines(s3, source, start, chunk_size)):
        try:
            text = line.decode("utf-8")  # strict. A line break byte is never inside a UTF-8 sequence.
        except UnicodeDecodeError as error:
            raise NotUtf8(after - len(line) + error.start, number + 1 if start == 0 else None) from None
        yield (text.removeprefix("\ufeff") if number == 0 and start == 0 else text), after  # a BOM is not data


def require_utf8(s3, source: S3Object, chunk_size: int = CHUNK_SIZE) -> None:
    """Raises NotUtf8 unless the whole object is UTF-8; reads it once, in constant memory."""
    for _ in _text_lines(s3, source, 0, chunk_size):
        pass


def rows(s3, source: S3Object, start: int = 0, chunk_size: int = CHUNK_SIZE) -> Iterator[tuple[list[str], int]]:
    """(row, offset after it); a row with a quoted line break spans several lines. Raises NotUtf8."""
    offset = start

    def decoded() -> Iterator[str]:
        nonlocal offset
        for text, after in _text_lines(s3, source, start, chunk_size):
            offset = after
            yield text

    for row in csv.reader(decoded()):
        # csv.reader asks for a line only when it needs one, so ``offset`` is just past this row.
        yield row, offset


def json_lines(s3, source: S3Object, start: int = 0,
               chunk_size: int = CHUNK_SIZE) -> Iterator[tuple[dict | str, int]]:
    """(object, offset after its line) per non-blank line; a line that is not a JSON object gives the reason
    as a string instead. Raises NotUtf8."""
    for text, after in _text_lines(s3, source, start, chunk_size):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as error:
            yield f"not JSON ({error.msg} at column {error.colno})", after
            continue
        yield (value if isinstance(value, dict) else f"a JSON {type(value).__name__}, not an object"), after
