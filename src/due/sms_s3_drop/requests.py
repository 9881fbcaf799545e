"""One CSV row, checked: an SMS to send, or the reason the row cannot be sent."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from due.sms_events import E164

COLUMNS = ("sms_number", "message", "external_campaign_id", "short_code", "message_type", "id_1", "id_2")
MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")
MAX_MESSAGE_CHARACTERS = 1600  # End User Messaging's limit for one message body
ORIGINATION = re.compile(r"^[A-Za-z0-9_:/+-]{1,256}$")  # SendTextMessage's OriginationIdentity pattern


@dataclass(frozen=True)
class SmsRequest:
    file: str  # bucket/key@version, for the report and deduplication
    row: int  # 1 = the first row after the header
    number: str
    message: str
    campaign_id: str
    origination: str  # the row's short code, long code, sender id or pool
    message_type: str
    id_1: str
    id_2: str

    def context(self) -> dict[str, str]:
        """Carried with the send into delivery events; the service takes 1 to 800 characters per value."""
        values = {"external_campaign_id": self.campaign_id, "id_1": self.id_1, "id_2": self.id_2,
                  "row": str(self.row)}
        return {key: value.strip()[:800] for key, value in values.items() if value.strip()}

    @property
    def deduplication_id(self) -> str:
        """The same file, row and number always give the same id, and nothing else does."""
        return hashlib.sha256(f"{self.file}\n{self.row}\n{self.number}".encode()).hexdigest()

    def to_json(self) -> str:
        # All fields are strings and ints: vars() is the dict asdict() would deep-copy at ten times the cost.
        return json.dumps(vars(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SmsRequest:
        return cls(**json.loads(text))


def check_header(header: list[str]) -> None:
    found = tuple(h.strip().lower() for h in header)
    if found != COLUMNS:
        raise ValueError(f"the header must be {','.join(COLUMNS)}; found {','.join(found)[:200]}")


def from_row(file: str, row_number: int, row: list[str]) -> SmsRequest | str:
    """The request, or why the row is bad (never the row's content: it holds numbers)."""
    if len(row) != len(COLUMNS):
        return f"expected {len(COLUMNS)} columns, found {len(row)}"
    number, message, campaign, origination, message_type, id_1, id_2 = (value.strip() for value in row)
    message = row[1]  # the message keeps its own spacing
    if not E164.match(number):
        return "sms_number is not an E.164 number (+ and 8 to 15 digits)"
    if not message.strip():
        return "message is empty"
    if len(message) > MAX_MESSAGE_CHARACTERS:
        return f"message is longer than {MAX_MESSAGE_CHARACTERS} characters"
    if not ORIGINATION.match(origination):
        return "short_code is not an origination identity (number, short code, sender id, pool id or ARN)"
    if message_type.upper() not in MESSAGE_TYPES:
        return f"message_type must be {' or '.join(MESSAGE_TYPES)}"
    return SmsRequest(file, row_number, number, message, campaign, origination, message_type.upper(), id_1, id_2)
