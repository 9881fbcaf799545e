"""One CSV row, checked: an SMS to send, or the reason the row cannot be sent."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from due.row_queue import RowFormat
from due.sms_events import E164

COLUMNS = ("sms_number", "message", "external_campaign_id", "short_code", "message_type", "id_1", "id_2")
MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")
MAX_MESSAGE_CHARACTERS = 1600  # End User Messaging's limit for one message body
ORIGINATION = re.compile(r"^[A-Za-z0-9_:/+-]{1,256}$")  # SendTextMessage's OriginationIdentity pattern
MAX_MESSAGE_GROUP_ID = 128  # SQS: up to 128 alphanumeric and punctuation characters (SendMessage API reference)
# Characters an SQS message may not hold (SendMessage API reference: #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD,
# #x10000-#x10FFFF); SQS would store U+FFFD in their place. U+FFFD itself is a character already lost (a file
# decoded with the wrong encoding upstream). No customer receives either.
NOT_SENDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd-\uffff]")


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
    def message_group_id(self) -> str:
        """One FIFO message group per origination identity: one identity's rows are sent in order, one batch at
        a time (an identity's ARN may pass the group id's 128 characters: then its digest stands for it)."""
        if len(self.origination) <= MAX_MESSAGE_GROUP_ID:
            return self.origination
        return hashlib.sha256(self.origination.encode()).hexdigest()

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
    if unsendable := NOT_SENDABLE.search(message):
        return (f"message holds U+{ord(unsendable.group()):04X} at character {unsendable.start() + 1}, "
                "which cannot be sent (a control character, or a character lost to a wrong encoding)")
    if not ORIGINATION.match(origination):
        return "short_code is not an origination identity (number, short code, sender id, pool id or ARN)"
    if message_type.upper() not in MESSAGE_TYPES:
        return f"message_type must be {' or '.join(MESSAGE_TYPES)}"
    return SmsRequest(file, row_number, number, message, campaign, origination, message_type.upper(), id_1, id_2)


# One row a queue message: each SMS is its own send (due.row_queue).
ROW_FORMAT = RowFormat(check_header=check_header, parse=from_row, chunk_size=1)
