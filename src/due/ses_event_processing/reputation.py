"""What a bounce or complaint does to an address.

* Permanent bounces and complaints put the address on the SES account-level
  suppression list and mark it ``suppressed`` in the address database.
* Complaints follow their feedback type (``due.ses_events.COMPLAINT_KIND_BY_FEEDBACK_TYPE``):
  ``not-spam`` and ``auth-failure`` reports are counted and never suppress.
* Mail SES did not send because the address is on the account-level suppression
  list is counted and the address marked suppressed, without a new suppression call.
* Transient (and undetermined) bounces are counted; once an address reaches
  ``soft_bounce_threshold`` of them it is suppressed too (0 = never).
* A notification delivered twice changes nothing the second time: each address
  item remembers the ids of the notifications already applied to it, and the
  update is conditional on the id not being there. That set stays small: an
  address stops receiving mail (and so stops bouncing) once it is suppressed.
* Work is ordered so that a failure at any step is retried to completion:
  the database records the event first, the suppression call follows, and the
  ``ses_suppressed`` flag is set only after SES accepted it. A retry of a
  recorded event skips the counting and finishes the suppression.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from typing import Any

from due import aws
from due.email_feedback import EmailFeedback, FeedbackKind

SUPPRESSED = "suppressed"
ACTIVE = "active"

COUNTER_BY_KIND = {
    FeedbackKind.HARD_BOUNCE: "hard_bounce_count",
    FeedbackKind.SOFT_BOUNCE: "soft_bounce_count",
    FeedbackKind.COMPLAINT: "complaint_count",
    FeedbackKind.NOT_SPAM: "not_spam_count",
    FeedbackKind.AUTH_FAILURE_REPORT: "auth_failure_report_count",
    FeedbackKind.ON_SUPPRESSION_LIST: "on_suppression_list_count",
}
# The address must not be mailed: SES's list gets it (unless it is there already) and so does the table.
SUPPRESSING_KINDS = {FeedbackKind.HARD_BOUNCE, FeedbackKind.COMPLAINT, FeedbackKind.ON_SUPPRESSION_LIST}


class Outcome(enum.StrEnum):
    SUPPRESSED = "suppressed"  # newly put on the suppression list
    COUNTED = "counted"  # recorded, no suppression (yet)
    ALREADY_SUPPRESSED = "already_suppressed"  # recorded; the address was suppressed before
    DUPLICATE = "duplicate"  # this notification was applied before; nothing changed


@dataclass(frozen=True)
class Policy:
    soft_bounce_threshold: int = 0

    def suppresses(self, kind: FeedbackKind, item: dict[str, Any]) -> bool:
        if kind in SUPPRESSING_KINDS:
            return True
        if kind is not FeedbackKind.SOFT_BOUNCE:
            return False
        soft_bounces = int(item.get("soft_bounce_count", {}).get("N", "0"))
        return self.soft_bounce_threshold > 0 and soft_bounces >= self.soft_bounce_threshold


class SuppressionList:
    """The SES account-level suppression list (SES API v2)."""

    def __init__(self, sesv2):
        self._sesv2 = sesv2

    def suppress(self, address: str, kind: FeedbackKind) -> None:
        reason = "COMPLAINT" if kind is FeedbackKind.COMPLAINT else "BOUNCE"
        self._sesv2.put_suppressed_destination(EmailAddress=address, Reason=reason)


class AddressBook:
    """The email address database: one DynamoDB item per address, keyed by ``key_attribute``."""

    def __init__(self, dynamodb, table_name: str, key_attribute: str = "email"):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self.key_attribute = key_attribute

    def record(self, address: str, feedback: EmailFeedback) -> tuple[dict[str, Any], bool]:
        """Apply ``feedback`` to the address item; returns (item after, was_duplicate)."""
        counter = COUNTER_BY_KIND[feedback.kind]
        values = {
            ":event_id": {"S": feedback.event_id},
            ":event_ids": {"SS": [feedback.event_id]},
            ":one": {"N": "1"},
            ":active": {"S": ACTIVE},
            ":at": {"S": feedback.occurred_at},
            ":type": {"S": feedback.kind.value},
            ":message_id": {"S": feedback.message_id},
            ":detail": {"S": feedback.detail or "-"},
        }
        count_only = f"SET #status = if_not_exists(#status, :active) ADD {counter} :one, processed_event_ids :event_ids"
        with_latest = (
            "SET #status = if_not_exists(#status, :active), last_event_type = :type, last_event_at = :at, "
            "last_event_id = :event_id, last_message_id = :message_id, last_detail = :detail "
            f"ADD {counter} :one, processed_event_ids :event_ids"
        )
        not_seen = "NOT contains(processed_event_ids, :event_id)"
        newest = "(attribute_not_exists(last_event_at) OR last_event_at <= :at)"
        try:
            return self._update(address, with_latest, f"{not_seen} AND {newest}", values), False
        except self._dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item", {})
        if feedback.event_id in old.get("processed_event_ids", {}).get("SS", []):
            return old, True
        # An older notification arriving after a newer one: count it, keep the newer "last_*".
        unused = (":type", ":message_id", ":detail", ":at")
        count_values = {k: v for k, v in values.items() if k not in unused}
        try:
            return self._update(address, count_only, not_seen, count_values), False
        except self._dynamodb.exceptions.ConditionalCheckFailedException as exc:
            return exc.response.get("Item", {}), True

    def mark_suppressed(self, address: str, feedback: EmailFeedback) -> None:
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key={self.key_attribute: {"S": address}},
            UpdateExpression=(
                "SET #status = :suppressed, ses_suppressed = :true, "
                "suppression_reason = :reason, suppressed_at = :at"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":suppressed": {"S": SUPPRESSED},
                ":true": {"BOOL": True},
                ":reason": {"S": feedback.kind.value},
                ":at": {"S": feedback.occurred_at},
            },
        )

    def _update(self, address: str, expression: str, condition: str, values: dict) -> dict[str, Any]:
        response = self._dynamodb.update_item(
            TableName=self.table_name,
            Key={self.key_attribute: {"S": address}},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return response["Attributes"]


@dataclass(frozen=True)
class Reputation:
    suppression_list: SuppressionList
    address_book: AddressBook
    policy: Policy

    @classmethod
    def from_environment(cls) -> Reputation:
        """Built from the function's environment (set by the template)."""
        return cls(
            suppression_list=SuppressionList(aws.client("sesv2")),
            address_book=AddressBook(
                aws.client("dynamodb"),
                table_name=os.environ["ADDRESS_TABLE_NAME"],
                key_attribute=os.environ.get("ADDRESS_KEY_ATTRIBUTE", "email"),
            ),
            policy=Policy(soft_bounce_threshold=int(os.environ.get("SOFT_BOUNCE_THRESHOLD", "0"))),
        )

    def apply(self, feedback: EmailFeedback) -> dict[str, Outcome]:
        """Apply one notification to every address it names; returns each address's outcome."""
        outcomes = {}
        for address in dict.fromkeys(feedback.addresses):  # de-duplicated, order kept
            item, duplicate = self.address_book.record(address, feedback)
            already = item.get("ses_suppressed", {}).get("BOOL", False)
            if self.policy.suppresses(feedback.kind, item) and not already:
                on_ses_list = feedback.kind is FeedbackKind.ON_SUPPRESSION_LIST
                if not on_ses_list:
                    self.suppression_list.suppress(address, feedback.kind)
                self.address_book.mark_suppressed(address, feedback)
                outcomes[address] = Outcome.ALREADY_SUPPRESSED if on_ses_list else Outcome.SUPPRESSED
            elif duplicate:
                outcomes[address] = Outcome.DUPLICATE
            elif already:
                outcomes[address] = Outcome.ALREADY_SUPPRESSED
            else:
                outcomes[address] = Outcome.COUNTED
        return outcomes
