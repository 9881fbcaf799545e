"""What a bounce or complaint means for an address, whichever service reported it.

SES notifications (identity or configuration-set) and Pinpoint email events
both reduce to ``EmailFeedback``; the reputation logic only ever sees this.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FeedbackKind(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class EmailFeedback:
    kind: FeedbackKind
    addresses: tuple[str, ...]
    # Unique per notification; a redelivered notification carries the same id.
    event_id: str
    occurred_at: str  # ISO 8601, UTC
    message_id: str
    detail: str = ""  # bounce subtype or complaint feedback type, for people reading the table
