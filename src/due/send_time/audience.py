"""An audience file's rows, checked, as the shared file-to-queue pipeline (``due.row_queue``) carries them.

The file is a CSV in the import format (``docs/S3_triggered_import.md``, which the segmentation export also
writes): a header, then one person a row. Columns are found however the file spells them
(``due.profiles.standard_column``: "Email Address" is the email column); the sender needs:

* an email column (a row without a usable address is a bad row, reported, never sent);
* #11: the key column (a stack parameter, ``id`` by default) whose value keys the DynamoDB item;
* #12: optionally a locale column (``locale`` by default); without one, or with the cell empty, the
  campaign's default locale is used.

Every column also goes into the message's substitutions under its name as the header writes it
(``{{first_name}}``). The campaign is the folder the file is dropped in: ``incoming/<campaign>/<file>.csv``
(#12 chooses content by it; a file straight under ``incoming/`` is campaign ``default``).

Rows travel in chunks of ``chunk_size`` (one queue message each). The message group is the file's (a
digest) and, for #12, the row's locale, and a new group starts every ``GROUP_ROWS`` rows: a chunk then holds
one locale (one content, one SendBulkEmail call), and a big file is sent by several senders side by side.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from due.csv_stream import S3Object, rows
from due.dropped_file import FileRefused
from due.profiles import standard_column
from due.row_queue import RowFormat
from due.s3_triggered_import.destination_files import email_problem
from due.send_time.content_store import normalised_locale
from due.send_time.lookup import Recipient

GROUP_ROWS = 500
# SQS MessageGroupId: "up to 128 characters. Valid values: alphanumeric characters and punctuation
# (!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~)" (SQS API reference, SendMessageBatchRequestEntry). A locale cell is
# whatever the file holds ('pt BR', 'français'); one that is not a plain tag goes into the group as a digest.
_PLAIN_LOCALE = re.compile(r"[A-Za-z0-9_]{1,35}")
DEFAULT_CAMPAIGN = "default"


def campaign_of(file: str) -> str:
    """``bucket/incoming/spring-sale/list.csv@v1`` -> ``spring-sale``; ``default`` for a file under incoming/."""
    key = file.split("/", 1)[1].rsplit("@", 1)[0] if "/" in file else file
    parts = key.split("/")
    return parts[1] if len(parts) > 2 and parts[1] else DEFAULT_CAMPAIGN


@dataclass(frozen=True)
class EmailRequest:
    file: str  # bucket/key@version
    row: int
    address: str
    key: str  # #11's store key ("" when the file has no key column or the cell is empty)
    locale: str
    fields: dict[str, str]
    group: str  # the FIFO message group

    @property
    def message_group_id(self) -> str:
        return self.group

    @property
    def deduplication_id(self) -> str:
        """The same file, row and address always give the same id, and nothing else does."""
        return hashlib.sha256(f"{self.file}\n{self.row}\n{self.address.lower()}".encode()).hexdigest()

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> EmailRequest:
        return cls(**data)

    def recipient(self) -> Recipient:
        return Recipient(ref=str(self.row), key=self.key, address=self.address, locale=self.locale,
                         fields=self.fields)


def _column(header: list[str], wanted: str) -> int | None:
    """The index of the column that means ``wanted`` (as standard_column names it), or None."""
    for index, name in enumerate(header):
        try:
            if standard_column(name) == wanted or name.strip() == wanted:
                return index
        except ValueError:  # a column with no name to map
            continue
    return None


def _file_source(file: str) -> S3Object:
    bucket, rest = file.split("/", 1)
    key, _, version = rest.rpartition("@")
    return S3Object(bucket, key, None if version == "null" else version)


class _Columns:
    def __init__(self, header: list[str], key_column: str, locale_column: str):
        self.header = [h.strip() for h in header]
        self.email = _column(self.header, "email")
        if self.email is None:
            raise ValueError("the file has no email column (email, email_address, ...)")
        self.key = _column(self.header, key_column) if key_column else None
        self.locale = _column(self.header, locale_column) if locale_column else None


def _group_locale(locale: str) -> str:
    if not locale:
        return "-"
    return locale if _PLAIN_LOCALE.fullmatch(locale) else "h" + hashlib.sha256(locale.encode()).hexdigest()[:24]


def row_format(*, chunk_size: int, key_column: str = "", locale_column: str = "",
               check_file: Callable[[str], None] = lambda file: None, s3=None) -> RowFormat:
    """The pipeline's row format. ``check_file(file)`` runs once per file before its first row is queued (not again
    when a later invocation continues the file) and
    raises ``FileRefused`` to refuse the whole file (#12: the campaign has no content). ``s3`` reads a file's
    header again when its reading continues in another invocation (the pipeline checks the header at the
    start of a file only)."""
    state: dict = {}

    def check_header(header: list[str]) -> None:
        state["pending"] = _Columns(header, key_column, locale_column)

    def columns_of(file: str) -> _Columns:
        if state.get("file") != file:
            columns = state.pop("pending", None)
            if columns is None:  # a continuation: the header and the file were checked by an earlier invocation
                first = next(rows(s3, _file_source(file)), None)
                columns = _Columns(first[0] if first else [], key_column, locale_column)
            else:  # the file's start: checked once, so a continuation neither announces it again nor refuses
                check_file(file)  # a half-queued file; raises FileRefused: nothing of the file is queued
            state.update(file=file, columns=columns)
        return state["columns"]

    def parse(file: str, row_number: int, fields: list[str]) -> EmailRequest | str:
        columns = columns_of(file)
        if len(fields) != len(columns.header):
            return f"expected {len(columns.header)} columns, found {len(fields)}"
        address = fields[columns.email].strip()
        problem = email_problem(address)
        if problem:
            return problem
        values = dict(zip(columns.header, fields, strict=True))
        key = fields[columns.key].strip() if columns.key is not None else ""
        locale = normalised_locale(fields[columns.locale]) if columns.locale is not None else ""
        digest = hashlib.sha256(file.encode()).hexdigest()[:40]
        group = f"{digest}/{_group_locale(locale)}/{(row_number - 1) // GROUP_ROWS}"
        return EmailRequest(file, row_number, address, key, locale, values, group[:128])

    return RowFormat(check_header=check_header, parse=parse, chunk_size=chunk_size)


__all__ = ["EmailRequest", "FileRefused", "campaign_of", "row_format"]
