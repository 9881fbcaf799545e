"""Point every SES identity's bounce and complaint notifications at our topic, and undo it.

SES sends an identity's feedback to the SNS topic configured on that identity.
``wire`` sets our topic on every identity (all pages), remembering each topic
it replaced in a DynamoDB table; ``unwire`` puts the remembered topics back on
stack delete, but only where our topic is still the one configured, so a
change someone made since is not undone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

NOTIFICATION_TYPES = ("Bounce", "Complaint")
ATTRIBUTES_PER_CALL = 100  # GetIdentityNotificationAttributes limit


@dataclass
class WiringReport:
    wired: int = 0  # (identity, type) pairs now pointing at our topic
    already: int = 0  # pairs that pointed at our topic before
    kept: list[str] = field(default_factory=list)  # pairs with another topic, left alone (no overwrite)
    restored: int = 0

    def as_data(self) -> dict[str, str]:
        """CloudFormation custom resource Data values must be strings."""
        return {
            "Wired": str(self.wired),
            "AlreadyWired": str(self.already),
            "KeptOtherTopic": str(len(self.kept)),
            "Restored": str(self.restored),
        }


class ReplacedTopics:
    """Which topic each (identity, notification type) had before we changed it."""

    def __init__(self, dynamodb, table_name: str):
        self._dynamodb = dynamodb
        self._table = table_name

    def remember(self, identity: str, notification_type: str, previous_topic: str) -> None:
        # The first recorded value is the original: a stack update must not overwrite it with ours.
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"{identity}|{notification_type}"},
                    "identity": {"S": identity},
                    "notification_type": {"S": notification_type},
                    "previous_topic": {"S": previous_topic},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )

    def all(self) -> Iterator[tuple[str, str, str]]:
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
            for item in page["Items"]:
                yield item["identity"]["S"], item["notification_type"]["S"], item["previous_topic"]["S"]

    def forget(self, identity: str, notification_type: str) -> None:
        self._dynamodb.delete_item(TableName=self._table, Key={"pk": {"S": f"{identity}|{notification_type}"}})


def wire(ses, replaced: ReplacedTopics, topic_arn: str, overwrite: bool) -> WiringReport:
    report = WiringReport()
    for identity, attributes in _notification_attributes(ses):
        for notification_type in NOTIFICATION_TYPES:
            current = attributes.get(f"{notification_type}Topic", "")
            if current == topic_arn:
                report.already += 1
                continue
            if current and not overwrite:
                report.kept.append(f"{identity}|{notification_type}")
                continue
            replaced.remember(identity, notification_type, current)
            ses.set_identity_notification_topic(
                Identity=identity, NotificationType=notification_type, SnsTopic=topic_arn
            )
            report.wired += 1
    return report


def unwire(ses, replaced: ReplacedTopics, topic_arn: str) -> WiringReport:
    report = WiringReport()
    remembered = list(replaced.all())
    current_topics = _current_topics(ses, sorted({identity for identity, _, _ in remembered}))
    for identity, notification_type, previous in remembered:
        if current_topics.get(identity, {}).get(f"{notification_type}Topic", "") == topic_arn:
            kwargs: dict[str, Any] = {"SnsTopic": previous} if previous else {}  # no SnsTopic = notifications off
            ses.set_identity_notification_topic(Identity=identity, NotificationType=notification_type, **kwargs)
            report.restored += 1
        replaced.forget(identity, notification_type)
    return report


def _notification_attributes(ses) -> Iterator[tuple[str, dict[str, Any]]]:
    for page in ses.get_paginator("list_identities").paginate():
        identities = page["Identities"]
        yield from _current_topics(ses, identities).items()


def _current_topics(ses, identities: list[str]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for start in range(0, len(identities), ATTRIBUTES_PER_CALL):
        chunk = identities[start:start + ATTRIBUTES_PER_CALL]
        response = ses.get_identity_notification_attributes(Identities=chunk)
        result.update(response["NotificationAttributes"])
    return result
