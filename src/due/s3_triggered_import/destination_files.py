"""What the SES contact list and Pinpoint imports share: the streamed import file, the address check, the job's state.

Both services import from an S3 object that we write in their format. It is
written line by line through an S3 multipart upload, so memory holds one part
(8 MiB) whatever the file's size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from due.profiles import attribute_name, says_opted_out

# S3 User Guide, "Amazon S3 multipart upload limits": parts are 5 MiB to 5 GiB, except the last, which may be
# smaller; part numbers run from 1 to 10,000. 8 MiB parts allow an import file of 80 GiB.
PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000


class MultipartWriter:
    """Lines to one S3 object through a multipart upload; aborted if the block raises, so no parts linger.

    ``with MultipartWriter(s3, bucket, key) as out: out.write_json({...})``. The upload is completed when the
    block ends; an object with no lines is written empty with PutObject (a multipart upload needs a part).
    """

    def __init__(self, s3, bucket: str, key: str, content_type: str, part_size: int = PART_SIZE):
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"a part is at least {MIN_PART_SIZE} bytes (S3 multipart upload limits)")
        self._s3, self.bucket, self.key, self._content_type = s3, bucket, key, content_type
        self._part_size = part_size
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self.largest_buffer = 0  # bytes held at once; the tests hold the writer to one part plus one line

    def __enter__(self) -> MultipartWriter:
        self._upload_id = self._s3.create_multipart_upload(
            Bucket=self.bucket, Key=self.key, ContentType=self._content_type)["UploadId"]
        return self

    def write_line(self, line: str) -> None:
        self._buffer += line.encode("utf-8") + b"\n"
        self.largest_buffer = max(self.largest_buffer, len(self._buffer))
        if len(self._buffer) >= self._part_size:
            self._upload_part()

    def write_json(self, record: dict[str, Any]) -> None:
        """One newline-delimited JSON record (the JSON format both import APIs take)."""
        self.write_line(json.dumps(record, ensure_ascii=False, separators=(",", ":")))

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            return
        if not self._parts and not self._buffer:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            self._s3.put_object(Bucket=self.bucket, Key=self.key, Body=b"", ContentType=self._content_type)
            return
        try:
            if self._buffer:
                self._upload_part()
            self._s3.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                                               MultipartUpload={"Parts": self._parts})
        except BaseException:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            raise

    def _upload_part(self) -> None:
        number = len(self._parts) + 1
        if number > MAX_PARTS:
            raise ValueError(f"s3://{self.bucket}/{self.key} would need more than {MAX_PARTS} parts of "
                             f"{self._part_size} bytes (S3 multipart upload limits)")
        etag = self._s3.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                                    PartNumber=number, Body=bytes(self._buffer))["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})
        self._buffer.clear()


def email_problem(address: str) -> str | None:
    """Why SES could not send to this address, or None. The reason never repeats the address (personal data).

    SES v2 API reference, Destination: SES does not support SMTPUTF8 (RFC 6531), so the local part must be
    7-bit ASCII, and a domain with non-ASCII characters must be Punycode (RFC 3492). RFC 5321 limits a local
    part to 64 octets and a path to 256, so an address to 254.
    """
    if not address:
        return "no email address"
    if any(c.isspace() or ord(c) < 32 for c in address):
        return "email address contains whitespace or control characters"
    if address.count("@") != 1:
        return "email address must contain exactly one @"
    local, domain = address.split("@")
    if not local or not domain:
        return "email address has an empty local part or domain"
    if not local.isascii():
        return "email address has non-ASCII characters before the @ (SES does not support SMTPUTF8)"
    if not domain.isascii():
        return "email address domain is not ASCII; write it in Punycode (xn--...)"
    if len(local) > 64 or len(address) > 254:
        return "email address is longer than RFC 5321 allows"
    labels = domain.split(".")
    if len(labels) < 2 or any(not label or label.startswith("-") or label.endswith("-") for label in labels):
        return "email address domain is not a valid host name"
    return None


def opted_out(fields: dict[str, str], attribute: str) -> bool:
    """Whether the row records an opt-out in the column that due.profiles names ``attribute`` (EMAIL_OPT_OUT or
    SMS_OPT_OUT), however the file spells it: "Email Opt Out" and "EMAIL-OPT-OUT" are email_opt_out, as in
    Customer Profiles. Two spellings in one file opt out if either says so (a file only ever opts people out)."""
    return any(says_opted_out(fields[column]) for column in columns_by_attribute(tuple(fields)).get(attribute, ()))


@lru_cache(maxsize=64)  # a CSV has one header; JSON lines a few key sets; bounded either way
def columns_by_attribute(header: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Attribute name -> the columns of ``header`` that due.profiles.attribute_name maps to it."""
    columns: dict[str, tuple[str, ...]] = {}
    for column in header:
        try:
            name = attribute_name(column)
        except ValueError:  # a column with no name to map (no letter or digit, or too long) is no opt-out column
            continue
        columns[name] = (*columns.get(name, ()), column)
    return columns


@dataclass(frozen=True)
class JobState:
    """Where an import job is: "running" until the service reports an end; every end is succeeded or failed."""

    status: Literal["running", "succeeded", "failed"]
    processed: int
    failed: int
    error: str | None
    failed_records_url: str | None
    segment_id: str | None = None

    @property
    def done(self) -> bool:
        return self.status != "running"
