"""Who may be emailed: the profile contract's consent rules, checked before every bulk send.

``SendBulkEmail`` takes no list-management option (SES v2 API reference: its request has no
``ListManagementOptions``, which only ``SendEmail`` has), so SES neither skips a contact list's unsubscribes
nor adds its own unsubscribe headers for it. So a destination is checked here, in this order, and the first
reason found keeps it out of the call:

1. the row's own ``email_opt_out`` column, however the file spells it (``due.s3_triggered_import.
   destination_files.opted_out``: true, yes or 1);
2. the account-level suppression list (SES itself would accept and drop such an address, Developer Guide,
   "Using the account-level suppression list"; checking first lets the report say so);
3. the contact list: a contact with ``UnsubscribeAll``, or ``OPT_OUT`` for the topic; and when the topic's
   default is ``OPT_OUT``, anyone who did not choose ``OPT_IN``, including people not on the list at all
   (Developer Guide, "Using list management"; API reference, Topic.DefaultSubscriptionStatus);
4. the stack's own unsubscribe record (``Unsubscribes``: one DynamoDB item per address that used the stack's
   unsubscribe link), read for a whole chunk with one BatchGetItem;
5. the person's Customer Profiles profiles (``due.profiles``): any profile with this address whose
   ``email_opt_out`` says so (``says_opted_out``). A person without a profile has recorded no opt-out.

SES's account and contact-list APIs run at 1 request a second ("Service quotas in Amazon SES": the SES API
rate for everything but sending), so the suppression list and the contact list are read whole
(``ListSuppressedDestinations``, ``ListContacts``, page after page) and kept for ``REFRESH_SECONDS``, rather
than asked once per address: a chunk costs no SES API call, and someone who opts out during a send is
honoured within that time. Each page is paced by ``pace_ses_api`` (the stack's shared rate limiter).
The limit this sets (docs/External_Attributes.md, Limits): every sender reads both lists whole, so senders x
entries / 1000 seconds of the account's SES API rate go to reading every REFRESH_SECONDS; mirroring the lists
into a table read per chunk would lift it and is not built.
Customer Profiles ``SearchProfiles`` runs at 100 a second: one call per address, paced by ``pace_profiles``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from due import aws, profiles
from due.logs import get_logger
from due.s3_triggered_import.destination_files import opted_out
from due.send_time.lookup import MONOTONIC

REFRESH_SECONDS = 300.0
# Asked of both list calls. The API reference gives PageSize no range and no default (ListSuppressedDestinations,
# ListContacts); fewer, fuller pages spend less of the 1 request a second the whole account shares.
PAGE_SIZE = 1000
logger = get_logger("send_time_consent")


def _never() -> None:
    return None


class Consent:
    def __init__(self, sesv2, *, contact_list: str = "", topic: str = "", profile_store=None, unsubscribes=None,
                 pace_ses_api: Callable[[], None] = _never, pace_profiles: Callable[[], None] = _never,
                 clock: Callable[[], float] = MONOTONIC):
        self._ses, self._list, self._topic = sesv2, contact_list, topic
        self._profiles, self._pace_ses, self._pace_profiles = profile_store, pace_ses_api, pace_profiles
        self._clock, self._unsubscribes = clock, unsubscribes
        self._suppressed: set[str] = set()
        self._unsubscribed: set[str] = set()
        self._opted_in: set[str] = set()  # contacts who chose OPT_IN for the topic (and did not unsubscribe all)
        self._topic_default_out = False  # the topic's DefaultSubscriptionStatus is OPT_OUT
        self._read_at: float | None = None
        self.ses_api_calls = 0

    def refusals(self, people: list[tuple[str, dict[str, str]]]) -> list[str | None]:
        """For each (address, row fields): why it may not be sent to, or None."""
        used_the_link = self._unsubscribes.which([a for a, _ in people]) if self._unsubscribes else set()
        return [("unsubscribed with this stack's unsubscribe link" if address.lower() in used_the_link else None)
                or self.refusal(address, fields) for address, fields in people]

    def refusal(self, address: str, fields: dict[str, str]) -> str | None:
        """Why ``address`` may not be sent to, or None (the stack's unsubscribe record aside: see refusals)."""
        if opted_out(fields, profiles.EMAIL_OPT_OUT):
            return "opted out in the file's email_opt_out column"
        self._refresh()
        lowered = address.lower()
        if lowered in self._suppressed:
            return "on the account-level suppression list"
        if lowered in self._unsubscribed:
            return f"unsubscribed from the contact list {self._list}" + (f" topic {self._topic}" if self._topic else "")
        if self._topic_default_out and lowered not in self._opted_in:
            # Topic.DefaultSubscriptionStatus is "the default subscription status to be applied to a contact if
            # the contact has not noted their preference" (SES v2 API reference, Topic): with OPT_OUT, only
            # someone who chose OPT_IN may be sent the topic; someone not on the list has chosen nothing.
            return f"not opted in to the topic {self._topic} of the contact list {self._list} (its default is OPT_OUT)"
        if self._profiles is not None:
            self._pace_profiles()
            if any(profiles.says_opted_out((p.get("Attributes") or {}).get(profiles.EMAIL_OPT_OUT))
                   for p in self._profiles.find(email=address)):
                return "opted out in the person's profile (email_opt_out)"
        return None

    def _refresh(self) -> None:
        now = self._clock()
        if self._read_at is not None and now - self._read_at < REFRESH_SECONDS:
            return
        try:
            self._suppressed = {s["EmailAddress"].lower() for s in self._pages(
                self._ses.list_suppressed_destinations, {}, "SuppressedDestinationSummaries")}
        except ClientError as error:
            # "For account-level suppression, bulk actions and SES API calls related to suppression list
            # management are disabled" in the sandbox (SES Developer Guide, "Request production access"). SES
            # still drops a suppressed address itself, so the send goes on; only the report cannot name them.
            if aws.is_passing(error) or error.response["Error"].get("Code") != "AccessDeniedException":
                raise  # only the sandbox's refusal lets the send go on; anything else is a fault to see
            logger.warning("the suppression list cannot be read; SES still drops suppressed addresses",
                           extra={"error": error.response["Error"].get("Code")})
            self._suppressed = set()
        if self._list:
            defaults = {t["TopicName"]: t.get("DefaultSubscriptionStatus", "OPT_IN") for t in self._topics()}
            if self._topic and self._topic not in defaults:
                # A mistyped TopicName would otherwise read as no one opting out of it: refuse to send instead.
                raise LookupError(f"the contact list {self._list} has no topic {self._topic!r} "
                                  f"(it has {', '.join(sorted(defaults)) or 'none'})")
            unsubscribed, opted_in = set(), set()
            for contact in self._pages(self._ses.list_contacts, {"ContactListName": self._list}, "Contacts"):
                address = contact["EmailAddress"].lower()
                if self._contact_unsubscribed(contact, defaults):
                    unsubscribed.add(address)
                elif self._topic and any(p["TopicName"] == self._topic and p["SubscriptionStatus"] == "OPT_IN"
                                         for p in contact.get("TopicPreferences", [])):
                    opted_in.add(address)
            self._unsubscribed, self._opted_in = unsubscribed, opted_in
            self._topic_default_out = bool(self._topic) and defaults.get(self._topic) == "OPT_OUT"
        self._read_at = now

    def _topics(self) -> list[dict]:
        self._pace_ses()
        self.ses_api_calls += 1
        try:
            return self._ses.get_contact_list(ContactListName=self._list).get("Topics", [])
        except ClientError as error:
            if error.response["Error"]["Code"] == "NotFoundException":
                raise LookupError(f"the contact list {self._list} does not exist") from error
            raise

    def _contact_unsubscribed(self, contact: dict, defaults: dict[str, str]) -> bool:
        if contact.get("UnsubscribeAll"):
            return True
        if not self._topic:
            return False
        chosen = {p["TopicName"]: p["SubscriptionStatus"] for p in contact.get("TopicPreferences", [])}
        return chosen.get(self._topic, defaults.get(self._topic, "OPT_IN")) == "OPT_OUT"

    def _pages(self, operation, request: dict, member: str):
        token = None
        while True:
            self._pace_ses()
            self.ses_api_calls += 1
            page = operation(**request, PageSize=PAGE_SIZE, **({"NextToken": token} if token else {}))
            yield from page.get(member, [])
            token = page.get("NextToken")
            if not token:
                return


class Unsubscribes:
    """The stack's unsubscribe record: one item per address (lower case) under the key ``address``."""

    def __init__(self, dynamodb, table_name: str):
        self._dynamodb, self._table = dynamodb, table_name

    def record(self, address: str, when: str) -> None:
        self._dynamodb.put_item(TableName=self._table, Item={"address": {"S": address.lower()}, "at": {"S": when}})

    def which(self, addresses: list[str]) -> set[str]:
        """The addresses among these that unsubscribed (BatchGetItem, 100 keys a call, unprocessed keys asked
        again: DynamoDB API reference, BatchGetItem)."""
        keys = list(dict.fromkeys(a.lower() for a in addresses))
        found: set[str] = set()
        for start in range(0, len(keys), 100):
            pending = [{"address": {"S": k}} for k in keys[start:start + 100]]
            while pending:
                response = self._dynamodb.batch_get_item(RequestItems={self._table: {
                    "Keys": pending, "ProjectionExpression": "address"}})
                found |= {i["address"]["S"] for i in response.get("Responses", {}).get(self._table, [])}
                pending = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
                if pending:
                    time.sleep(0.05)  # a moment before asking again for what the table could not answer yet
        return found
