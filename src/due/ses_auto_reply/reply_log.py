"""At most one reply per sender per window, so two auto-responders cannot keep each other busy.

One DynamoDB item per sender (a person's key, see sender_key), expiring (TTL) when the window ends.
TTL deletes lazily, so the claim's condition also accepts an expired item.

With archiving on, the item also keeps what the archive needs of the reply sent and a retry of the same inbound
mail cannot rebuild (``SentReply``): an invocation that dies after the send and before its archive record was
queued is retried by Lambda, finds its own claim, and archives the reply again from it. A few short strings: the
reply's content is not kept (the item stays small, and it would repeat the person's mail).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SentReply:
    ses_message_id: str  # SendEmail's MessageId
    sent_at: str  # ISO 8601, UTC
    header_message_id: str  # the reply's Message-ID header (random, email.utils.make_msgid)
    template_version: str  # Pinpoint's version; empty for SES v2 templates
    content_digest: str  # SHA-256 of the subject, text and HTML as sent (reply.content_digest)

    def as_attributes(self) -> dict[str, dict[str, str]]:
        return {f"reply_{name}": {"S": value} for name, value in vars(self).items()}

    @classmethod
    def from_item(cls, item: dict) -> SentReply | None:
        names = cls.__dataclass_fields__
        if not all(f"reply_{name}" in item for name in names):
            return None  # claimed, but no send recorded (archiving off, or the send did not finish)
        return cls(**{name: item[f"reply_{name}"]["S"] for name in names})


class ReplyLog:
    def __init__(self, dynamodb, table_name: str, window_seconds: int):
        self._dynamodb = dynamodb
        self._table = table_name
        self._window = window_seconds

    def claim(self, sender: str, message_id: str, now: float | None = None) -> bool:
        """True if no reply went to ``sender`` within the window; records this one."""
        return self.claim_or_earlier(sender, message_id, now)[0]

    def claim_or_earlier(self, sender: str, message_id: str,
                         now: float | None = None) -> tuple[bool, SentReply | None]:
        """As ``claim``; when refused, also the reply recorded by an earlier attempt at this same mail
        (``message_id``, the inbound SES message id), if it recorded one."""
        now = int(now if now is not None else time.time())
        try:
            self._dynamodb.put_item(
                TableName=self._table, Item=self._item(sender, message_id, now),
                ConditionExpression="attribute_not_exists(sender) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
                # A refused put returns the item in ConditionalCheckFailedException's Item (DynamoDB API
                # reference, PutItem ReturnValuesOnConditionCheckFailure; botocore's exception reference): no
                # read, and no dynamodb:GetItem for the role.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return True, None
        except self._dynamodb.exceptions.ConditionalCheckFailedException as refused:
            item = refused.response.get("Item") or {}
            if item.get("message_id", {}).get("S") != message_id:
                return False, None  # another mail's reply
            return False, SentReply.from_item(item)

    def record_sent(self, sender: str, message_id: str, sent: SentReply, claimed_at: float) -> None:
        """Adds the reply sent to this mail's claim (made at ``claimed_at``, same expiry)."""
        self._dynamodb.put_item(
            TableName=self._table, Item={**self._item(sender, message_id, int(claimed_at)), **sent.as_attributes()},
            ConditionExpression="message_id = :message_id",  # only our own claim
            ExpressionAttributeValues={":message_id": {"S": message_id}},
        )

    def _item(self, sender: str, message_id: str, now: int) -> dict:
        return {"sender": {"S": sender}, "expires_at": {"N": str(now + self._window)},
                "message_id": {"S": message_id}}

    def release(self, sender: str, message_id: str) -> None:
        """Give the claim back (the reply failed), so the retry may send it."""
        # The condition keeps another message's claim (not ours to release).
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.delete_item(
                TableName=self._table, Key={"sender": {"S": sender}},
                ConditionExpression="message_id = :message_id",
                ExpressionAttributeValues={":message_id": {"S": message_id}},
            )
