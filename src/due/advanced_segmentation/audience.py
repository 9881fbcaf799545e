"""The segment as an audience file in the import's format: id, email, phone, then the query's other columns.

The S3 triggered import reads a CSV with a header whose columns include an id,
an email and a phone column (``due.s3_triggered_import.rows``: the file's
columns as written, found however the header spells them, through
``due.profiles.standard_column``); the collection's email and voice senders
take the same file. So the audience file has those three columns first:
``id`` is the query's ``id`` column when it has one, else empty (the key is
not copied there: the import takes ``id`` as the person's customer id, so an
address in it would make a second profile of a person imported with a real
id); ``email`` and ``phone`` are the query's columns of those names (or an
alias such as ``email_address``), empty when it has none; every other column
follows as the query named it. The file is for the senders, not for
importing back: its extra columns (counts, dates) would become attributes. Rows without a key are left out, as the
membership leaves them out.

The file is written in a multipart upload (parts of ``PART_BYTES``; S3 takes
parts of at least 5 MiB but the last: S3 API reference, UploadPart) straight
from the result file read in ranged reads, so memory stays near one part. After
each part the state records the upload, the parts' ETags and the result offset
just past the part's last row: a step stopped for time, or retried, goes on
from there. The upload of a run that fails is left to the bucket's lifecycle
rule, which aborts uploads unfinished after a day.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from due.csv_stream import S3Object, rows
from due.profiles import standard_column

PART_BYTES = 8 * 1024 * 1024
FIRST_COLUMNS = ("id", "email", "phone")


def layout(header: list[str]) -> tuple[list[str], list[int | None]]:
    """(the audience header, for each of its columns the result column it comes from or None)."""
    standard = [standard_column(name) if name.strip() else "" for name in header]
    chosen: dict[str, int | None] = {
        "id": standard.index("id") if "id" in standard else None,
        "email": standard.index("email") if "email" in standard else None,
        "phone": standard.index("phone") if "phone" in standard else None,
    }
    used = {index for index in chosen.values() if index is not None}
    others = [index for index in range(len(header)) if index not in used]
    return [*FIRST_COLUMNS, *(header[index] for index in others)], [*chosen.values(), *others]


def write(s3, result: S3Object, bucket: str, key: str, progress: dict[str, Any],
          stop: Callable[[], bool] = lambda: False) -> bool:
    """Writes (on from ``progress``, which it updates) the audience file; True once it is complete."""
    found = rows(s3, result, start=progress.get("offset", 0))
    if not progress.get("offset"):
        header, after = next(found, (None, 0))
        if header is None:
            raise ValueError("the query's result file is empty (Athena writes a header even for no rows)")
        progress.update(header=header, offset=after, rows=0, parts=[],
                        upload_id=s3.create_multipart_upload(Bucket=bucket, Key=key,
                                                             ContentType="text/csv; charset=utf-8")["UploadId"])
    names, sources = layout(progress["header"])
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    if not progress["parts"] and progress["rows"] == 0:
        out.writerow(names)
    pending_rows, offset = 0, progress["offset"]
    for fields, after in found:
        offset = after
        if not fields or not fields[0].strip():
            continue
        out.writerow(["" if index is None or index >= len(fields) else fields[index] for index in sources])
        pending_rows += 1
        if buffer.tell() >= PART_BYTES:
            _upload(s3, bucket, key, progress, buffer, pending_rows, offset)
            buffer, pending_rows = io.StringIO(), 0
            out = csv.writer(buffer, lineterminator="\n")
            if stop():
                return False
    if buffer.tell() or not progress["parts"]:
        _upload(s3, bucket, key, progress, buffer, pending_rows, offset)
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=progress["upload_id"],
                                 MultipartUpload={"Parts": progress["parts"]})
    progress["complete"] = True
    return True


def _upload(s3, bucket: str, key: str, progress: dict[str, Any], buffer: io.StringIO, pending_rows: int,
            offset: int) -> None:
    number = len(progress["parts"]) + 1
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=progress["upload_id"], PartNumber=number,
                          Body=buffer.getvalue().encode("utf-8"))["ETag"]
    progress["parts"].append({"PartNumber": number, "ETag": etag})
    progress["rows"] += pending_rows
    progress["offset"] = offset
