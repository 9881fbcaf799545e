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
    # The reporter says the message is not spam (feedback type "not-spam", RFC 6430): never suppresses,
    # and does not lift an earlier suppression either (a person decides that).
    NOT_SPAM = "not_spam"
    # An email authentication failure report (feedback type "auth-failure", RFC 6591): about the sending
    # domain's SPF/DKIM/DMARC, not about the recipient's wishes; recorded, never suppresses.
    AUTH_FAILURE_REPORT = "auth_failure_report"
    # SES did not send: the address is on the account-level suppression list already (bounce or
    # complaint sub-type "OnAccountSuppressionList"). Recorded and marked, no new suppression call.
    ON_SUPPRESSION_LIST = "on_suppression_list"


@dataclass(frozen=True)
class EmailFeedback:
    kind: FeedbackKind
    addresses: tuple[str, ...]
    # Unique per notification; a redelivered notification carries the same id.
    event_id: str
    occurred_at: str  # ISO 8601, UTC
    message_id: str
    detail: str = ""  # bounce subtype or complaint feedback type, for people reading the table
