"""Point every verified SES identity's bounce and complaint notifications at our topic, and undo it.

SES sends an identity's feedback to the SNS topic configured on that identity.
``wire`` sets our topic on every verified identity (all pages), remembering each
topic it replaced in a DynamoDB table; ``unwire`` puts the remembered topics back
on stack delete, but only where our topic is still the one configured, so a
change someone made since is not undone.

Facts from the SES API Reference (v1) this relies on:

* ``SetIdentityNotificationTopic`` accepts a verified identity only, so
  identities are checked with ``GetIdentityVerificationAttributes`` first
  (status ``Success``; ``Pending``, ``Failed``, ``TemporaryFailure`` and
  ``NotStarted`` are skipped and counted).
* ``GetIdentityVerificationAttributes`` and ``GetIdentityNotificationAttributes``
  take up to 100 identities a call; they and ``SetIdentityNotificationTopic`` are
  throttled at one request per second. ``ListIdentities`` returns up to 1,000 a page.
* None of these actions takes resource-level permissions (Service Authorization
  Reference): the role grants them on ``*``.

One identity's error is reported and the rest are still wired; an error that is
about the caller (access denied) is not about one identity and fails the run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

NOTIFICATION_TYPES = ("Bounce", "Complaint")
IDENTITIES_PER_CALL = 100  # Get*Attributes limit
IDENTITIES_PER_PAGE = 1000  # ListIdentities MaxItems limit
VERIFIED = "Success"
CALLS_PER_SECOND = 1.0
# Errors that say the caller may not act at all: every identity would fail the same way.
CALLER_ERRORS = {"AccessDenied", "AccessDeniedException"}


class Pacer:
    """Spaces calls at least ``interval`` seconds apart. Clock and sleep are injectable so tests never wait."""

    def __init__(self, interval: float = 1 / CALLS_PER_SECOND, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_call_at: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next_call_at is not None and now < self._next_call_at:
            self._sleep(self._next_call_at - now)
            now = self._clock()
        self._next_call_at = now + self._interval


@dataclass
class WiringReport:
    wired: int = 0  # (identity, type) pairs now pointing at our topic
    already: int = 0  # pairs that pointed at our topic before
    kept: list[str] = field(default_factory=list)  # pairs with another topic, left alone (no overwrite)
    not_verified: list[str] = field(default_factory=list)  # identities SES would refuse; wired once verified
    failed: dict[str, str] = field(default_factory=dict)  # "identity|type" -> error code
    complete: bool = True  # False: stopped before the time ran out; the next scheduled run continues
    restored: int = 0

    def as_data(self) -> dict[str, str]:
        """CloudFormation custom resource Data values must be strings (and the response at most 4 KB)."""
        return {
            "Wired": str(self.wired),
            "AlreadyWired": str(self.already),
            "KeptOtherTopic": str(len(self.kept)),
            "NotVerified": str(len(self.not_verified)),
            "Failed": str(len(self.failed)),
            "Complete": str(self.complete).lower(),
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


def wire(ses, replaced: ReplacedTopics, topic_arn: str, overwrite: bool, pacer: Pacer | None = None,
         out_of_time: Callable[[], bool] = lambda: False) -> WiringReport:
    pacer = pacer or Pacer()
    report = WiringReport()
    for chunk in _chunks(_identities(ses, pacer), IDENTITIES_PER_CALL):
        verified = _verified(ses, pacer, chunk, report)
        if not verified:
            continue
        for identity, attributes in _current_topics(ses, pacer, verified).items():
            for notification_type in NOTIFICATION_TYPES:
                current = attributes.get(f"{notification_type}Topic", "")
                if current == topic_arn:
                    report.already += 1
                    continue
                if current and not overwrite:
                    report.kept.append(f"{identity}|{notification_type}")
                    continue
                if out_of_time():
                    report.complete = False
                    return report
                replaced.remember(identity, notification_type, current)
                try:
                    _set_topic(ses, pacer, identity, notification_type, topic_arn)
                except ClientError as exc:
                    report.failed[f"{identity}|{notification_type}"] = exc.response["Error"]["Code"]
                    continue
                report.wired += 1
    return report


def unwire(ses, replaced: ReplacedTopics, topic_arn: str, pacer: Pacer | None = None) -> WiringReport:
    pacer = pacer or Pacer()
    report = WiringReport()
    remembered = list(replaced.all())
    identities = sorted({identity for identity, _, _ in remembered})
    current_topics: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(iter(identities), IDENTITIES_PER_CALL):
        current_topics.update(_current_topics(ses, pacer, chunk))
    for identity, notification_type, previous in remembered:
        if current_topics.get(identity, {}).get(f"{notification_type}Topic", "") == topic_arn:
            try:
                _set_topic(ses, pacer, identity, notification_type, previous)
            except ClientError as exc:
                report.failed[f"{identity}|{notification_type}"] = exc.response["Error"]["Code"]
                continue
            report.restored += 1
        replaced.forget(identity, notification_type)
    return report


def _set_topic(ses, pacer: Pacer, identity: str, notification_type: str, topic_arn: str) -> None:
    kwargs: dict[str, Any] = {"SnsTopic": topic_arn} if topic_arn else {}  # no SnsTopic = notifications off
    pacer.wait()
    try:
        ses.set_identity_notification_topic(Identity=identity, NotificationType=notification_type, **kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in CALLER_ERRORS:
            raise PermissionError(f"the role may not set notification topics: {exc}") from exc
        raise


def _identities(ses, pacer: Pacer) -> Iterator[str]:
    token = None
    while True:
        pacer.wait()
        page = ses.list_identities(MaxItems=IDENTITIES_PER_PAGE, **({"NextToken": token} if token else {}))
        yield from page["Identities"]
        token = page.get("NextToken")
        if not token:
            return


def _verified(ses, pacer: Pacer, identities: list[str], report: WiringReport) -> list[str]:
    pacer.wait()
    statuses = ses.get_identity_verification_attributes(Identities=identities)["VerificationAttributes"]
    verified = []
    for identity in identities:
        if statuses.get(identity, {}).get("VerificationStatus") == VERIFIED:
            verified.append(identity)
        else:
            report.not_verified.append(identity)
    return verified


def _current_topics(ses, pacer: Pacer, identities: list[str]) -> dict[str, dict[str, Any]]:
    pacer.wait()
    return ses.get_identity_notification_attributes(Identities=identities)["NotificationAttributes"]


def _chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
