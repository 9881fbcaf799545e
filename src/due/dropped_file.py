"""A file dropped in S3, read row by row in constant memory, resumable at any row, its bad rows reported.

Every architecture that takes uploaded files (the SMS S3 drop, the import)
reads them through here, so they share one behaviour:

* rows come from ``csv_stream`` in ranged reads (memory stays flat whatever
  the size) as CSV or JSON lines, each with its row number (1 = the first row
  after a CSV header, or the first line of JSON lines) and the byte offset
  just after it;
* a ``Checkpoint`` says where to continue and what happened so far, and
  travels between invocations as JSON (an SQS message, a Step Functions state);
* the file must be UTF-8 (``csv_stream`` says why); a file that cannot be read
  at all is refused as row 0 with the reason, and nothing of it is acted on;
* bad rows are kept with their row number and reason (never their content,
  which may be personal data), up to ``MAX_REPORTED_BAD_ROWS``, and counted
  beyond that; ``write_report`` puts them with the counts in
  ``<key>.report.json`` next to the file.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from due.csv_stream import NotUtf8, S3Object, json_lines, require_utf8, rows
from due.events import BadEvent

MAX_REPORTED_BAD_ROWS = 1000  # beyond this the report counts them only
REPORT_SUFFIX = ".report.json"


def dropped_objects(notification: dict[str, Any], prefix: str, suffixes: tuple[str, ...]) -> list[S3Object]:
    """The objects an S3 event notification names under ``prefix`` with one of ``suffixes``.

    S3 sends keys URL-encoded (S3 User Guide, "Event message structure"); the version id names the object
    version that was written, so a later upload of the same key is another file. S3's test event (sent when
    the notification is set up) names nothing. Anything else that is not a notification raises BadEvent."""
    if notification.get("Event") == "s3:TestEvent":
        return []
    if not isinstance(notification.get("Records"), list):
        raise BadEvent("not an S3 event notification")
    found = []
    for record in notification["Records"]:
        s3 = record.get("s3") if isinstance(record, dict) else None
        key = urllib.parse.unquote_plus(((s3 or {}).get("object") or {}).get("key", ""))
        if not key or "name" not in (s3.get("bucket") or {}):
            raise BadEvent("S3 notification record without bucket or key")
        if key.startswith(prefix) and key.endswith(suffixes):
            found.append(S3Object(s3["bucket"]["name"], key, s3["object"].get("versionId")))
    return found


class FileRefused(ValueError):
    """The file as a whole cannot be used (not UTF-8, empty, a header that does not fit)."""


@dataclass
class Checkpoint:
    bucket: str
    key: str
    version_id: str | None  # read the version that was dropped, even if replaced since
    offset: int = 0  # byte offset of the next row; 0 = the start of the file (a CSV's header)
    next_row: int = 1
    header: list[str] | None = None  # a CSV's, once read
    counts: dict[str, int] = field(default_factory=dict)
    bad_row_count: int = 0
    bad_rows: list[dict] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.bucket}/{self.key}@{self.version_id or 'null'}"

    @property
    def source(self) -> S3Object:
        return S3Object(self.bucket, self.key, self.version_id)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def bad(self, row: int, reason: str) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < MAX_REPORTED_BAD_ROWS:
            self.bad_rows.append({"row": row, "reason": reason})

    def refuse(self, reason: str) -> None:
        """The whole file is unusable: reported as row 0."""
        self.bad(0, reason)

    @property
    def refused(self) -> bool:
        return bool(self.bad_rows) and self.bad_rows[0]["row"] == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(**data)

    def report(self) -> dict[str, Any]:
        return {"file": f"s3://{self.bucket}/{self.key}", "version_id": self.version_id,
                "rows": self.next_row - 1, **self.counts, "bad_row_count": self.bad_row_count,
                "bad_rows": self.bad_rows, "bad_rows_truncated": self.bad_row_count > len(self.bad_rows)}


def records(s3, checkpoint: Checkpoint, kind: str, check_header: Callable[[list[str]], None] | None = None,
            ) -> Iterator[tuple[int, list[str] | dict | str, int]]:
    """(row number, row, offset after it) from the checkpoint on; ``checkpoint.next_row`` moves along.

    A CSV row is its list of fields (the header is read into ``checkpoint.header`` first); a JSON line is
    its object, or a string saying why the line is not one. At the start of a file the whole file is
    checked to be UTF-8 first, and a CSV header is given to ``check_header``, which raises ValueError with
    the reason when the header does not fit. Raises ``FileRefused`` for a file that cannot be used at all."""
    if kind not in ("csv", "jsonl"):
        raise ValueError(f"unknown file kind {kind!r}")
    source = checkpoint.source
    try:
        if checkpoint.offset == 0:
            require_utf8(s3, source)
        if kind == "csv":
            found = rows(s3, source, start=checkpoint.offset)
            if checkpoint.offset == 0:
                header, checkpoint.offset = next(found, (None, 0))
                if header is None:
                    raise FileRefused("the file is empty")
                checkpoint.header = [name.strip() for name in header]
                if check_header is not None:
                    try:
                        check_header(checkpoint.header)
                    except ValueError as error:
                        raise FileRefused(str(error)) from None
        else:
            found = json_lines(s3, source, start=checkpoint.offset)
        for row, offset_after in found:
            number = checkpoint.next_row
            checkpoint.next_row += 1
            yield number, row, offset_after
    except NotUtf8 as error:
        raise FileRefused(f"the file is {error}: nothing was done with it; save it as UTF-8 (a spreadsheet's "
                          "\"CSV UTF-8\") and drop it again") from None


def write_report(s3, checkpoint: Checkpoint) -> str:
    """Writes ``<key>.report.json`` next to the file; returns its key."""
    key = f"{checkpoint.key}{REPORT_SUFFIX}"
    s3.put_object(Bucket=checkpoint.bucket, Key=key, Body=json.dumps(checkpoint.report(), indent=1).encode(),
                  ContentType="application/json")
    return key
