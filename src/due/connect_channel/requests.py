"""One recipient to call: from a dropped CSV row (the file-to-queue pipeline) or a Pinpoint DELIVERY hook's endpoint.

File format (``ROW_FORMAT``): a CSV with a header. Columns are found by name, however the file spells them
(case, spaces, dashes and underscores do not matter):

* the number: ``sms_number`` (the SMS S3 drop's format), ``phone``, ``phone_number``, ``number``, ``mobile``,
  ``address`` or ``voice_number``: required;
* ``message``: what the contact flow speaks; optional (the stack's ``Message`` parameter stands in for a
  missing or empty one);
* an external id: ``external_id``, ``id``, ``id_1`` or ``profile_id``: optional, carried to the outcome;
* ``timezone`` / ``time_zone``: an IANA time zone for the calling window; optional;
* every other column becomes a contact attribute (its name reduced to letters, digits, ``-`` and ``_``),
  which the contact flow can read as ``$.Attributes.<name>``.

So the SMS S3 drop's files work as they are, and so does a segment export with a phone column.

Facts the checks rely on (Amazon Connect API reference, StartOutboundVoiceContact): attribute keys "can
include only alphanumeric, dash, and underscore characters"; "There can be up to 32,768 UTF-8 bytes across all
key-value pairs per contact". The message is one of those attributes (``message``).

Whether the number is dialable (E.164, allowed country, opt-out) is decided by the dialler, so that every
recipient's outcome is reported in one place (the result file and topic), not here.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from due.row_queue import RowFormat

MAX_ATTRIBUTE_BYTES = 32_768  # across all key-value pairs of one contact (StartOutboundVoiceContact)
MESSAGE_ATTRIBUTE = "message"
NUMBER_COLUMNS = ("smsnumber", "phone", "phonenumber", "number", "mobile", "address", "voicenumber")
ID_COLUMNS = ("externalid", "id", "id1", "profileid")
TIME_ZONE_COLUMNS = ("timezone",)
MAX_MESSAGE_GROUP_ID = 128  # SQS MessageGroupId: up to 128 characters (SendMessage API reference)
_GROUPABLE = re.compile(r"\+?[0-9]{1,20}")
_NOT_KEY = re.compile(r"[^A-Za-z0-9_-]+")


def _folded(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.strip().lower())


def attribute_key(name: str) -> str:
    """A column name as a contact attribute key: letters, digits, dash and underscore only."""
    return _NOT_KEY.sub("_", name.strip()).strip("_")[:128] or "column"


@dataclass(frozen=True)
class CallRequest:
    file: str  # bucket/key@version, or pinpoint/<application>/<campaign>/<activity> for a hook's endpoints
    row: int  # 1 = the first row after the header; a hook's endpoints are numbered in the event's order
    number: str  # as given: checked by the dialler
    message: str
    recipient: str = ""  # what names the person in the source: the row (files) or the endpoint id (hooks)
    external_id: str = ""
    time_zone: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def message_group_id(self) -> str:
        """One FIFO message group per number: one number is never dialled by two senders at once."""
        if _GROUPABLE.fullmatch(self.number):
            return self.number
        return hashlib.sha256(self.number.encode()).hexdigest()

    @property
    def deduplication_id(self) -> str:
        """The same source, row (or endpoint) and number always give the same id, and nothing else does."""
        return hashlib.sha256(f"{self.file}\n{self.recipient or self.row}\n{self.number}".encode()).hexdigest()

    def to_json(self) -> str:
        return json.dumps(vars(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallRequest:
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> CallRequest:
        return cls.from_dict(json.loads(text))


def _find(folded: list[str], names: tuple[str, ...]) -> int | None:
    return next((folded.index(name) for name in names if name in folded), None)


def check_header(header: list[str]) -> None:
    if _find([_folded(h) for h in header], NUMBER_COLUMNS) is None:
        raise ValueError("the header names no phone number column (sms_number, phone, phone_number, number, "
                         "mobile, address or voice_number)")


def parser_for_header(header: list[str]):
    folded = [_folded(h) for h in header]
    number_at = _find(folded, NUMBER_COLUMNS)
    message_at = folded.index("message") if "message" in folded else None
    id_at = _find(folded, ID_COLUMNS)
    zone_at = _find(folded, TIME_ZONE_COLUMNS)
    known = {number_at, message_at, id_at, zone_at}
    extra = [(i, attribute_key(h)) for i, h in enumerate(header) if i not in known]

    def parse(file: str, row_number: int, fields: list[str]) -> CallRequest | str:
        """The request, or why the row is bad (never the row's content: it holds numbers)."""
        if len(fields) != len(header):
            return f"expected {len(header)} columns, found {len(fields)}"
        number = fields[number_at].strip()
        if not number:
            return "the phone number is empty"
        attributes = {key: fields[i].strip() for i, key in extra if fields[i].strip()}
        message = fields[message_at] if message_at is not None else ""
        size = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
        if size + len(MESSAGE_ATTRIBUTE) + len(message.encode()) > MAX_ATTRIBUTE_BYTES:
            return f"the message and attributes pass Connect's {MAX_ATTRIBUTE_BYTES} bytes per contact"
        return CallRequest(file, row_number, number, message, recipient=str(row_number),
                           external_id=fields[id_at].strip() if id_at is not None else "",
                           time_zone=fields[zone_at].strip() if zone_at is not None else "",
                           attributes=attributes)

    return parse


# One recipient a queue message: each call is its own (rate, concurrency and window apply per call).
ROW_FORMAT = RowFormat(check_header=check_header, parser_for_header=parser_for_header, chunk_size=1)
