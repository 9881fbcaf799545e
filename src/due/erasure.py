"""Erasing one person across the collection: given an email address or phone number and the stacks a user runs,
remove what holds it, keep what is consent, and say plainly what cannot be removed from here.

Every store of every template was read for what it keeps of a person (docs/Erasing_a_person.md has the table).
Each store gets one of these outcomes in the report:

* ``removed`` (``would remove`` in a dry run), or ``nothing found``: the archive (every version and delete
  marker under the person's folder, ``due.archive.erase``), Customer Profiles profiles found by ``_email`` or
  ``_phone`` in each domain a stack names (DeleteProfile: "Deletes the standard customer profile and all data
  pertaining to the profile", Customer Profiles API reference), the SES contact-list entry (DeleteContact:
  "Removes a contact from a contact list", SES v2 API reference), the auto reply's reply window item, the import's
  phone lookup cache item, the opt-out processor's latest-decision item, the feedback processors' address item
  unless it records a suppression; the number in the Connect contact records of the calls the archive shows
  (DeleteContactData, CUSTOMER_ENDPOINT);
* ``kept``, with the reason: what records consent. The SES account suppression list, SMS opt-out lists, the
  senders' unsubscribe tables, a contact-list entry that records an unsubscription (its attributes data is
  cleared: UpdateContact replaces the topic preferences it is given, "You must specify all existing topic
  preferences ... otherwise, all your existing preferences will be removed", SES v2 API reference, so they are
  given back unchanged), an address item that records a suppression. Removing them would let the next import
  or file message the person again;
* ``holds no address``: the send markers (their key is a SHA-256 of the file, the row and the address; they hold
  the file, the row, the status and the service's message id, and expire after 30 days);
* ``cannot remove here``, with how to: queued messages (SQS has no delete by content), the files a user dropped,
  the data lake's Parquet or JSON files (a rewrite; an Athena query finds them), the advanced segmentation
  membership (rewritten from the data lake by the next refresh), a Mail Manager archive (no per-message delete),
  Pinpoint endpoints (the service's engagement features ended on 2026-10-30);
* ``refused`` or ``failed``: something that should have been removed was not (S3 refused a version: Object
  Lock in compliance mode answers ``AccessDenied`` for that key in DeleteObjects' Errors until its retention
  ends; or an AWS call failed). The command then exits non-zero.

No address is logged or written to the report: it names stores, counts and error codes only.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from due import archive
from due.archive import ARCHIVE_PREFIX, E164, normalised_recipient, recipient_folder
from due.aws import RETRY_CONFIG
from due.profiles import OPT_OUT_ATTRIBUTES, ProfileStore, says_opted_out
from due.ses_auto_reply.sender_key import canonical_address

REMOVED, WOULD_REMOVE, NOTHING_FOUND = "removed", "would remove", "nothing found"
KEPT, NO_ADDRESS, CANNOT = "kept", "holds no address", "cannot remove here"
REFUSED, FAILED = "refused", "failed"
FAILING = (REFUSED, FAILED)

# Outputs that name a queue of a stack: messages in them may carry the address (a set-aside row, a failed event).
QUEUE_OUTPUT_SUFFIX = "QueueUrl"
# SQS keeps a message at most 14 days (MessageRetentionPeriod, 60 to 1,209,600 seconds, SQS API reference).
SQS_MAX_RETENTION_DAYS = 14
DATA_LAKE_QUERY = ("SELECT DISTINCT \"$path\" FROM {database}.events WHERE contains(transform(destinations, "
                   "d -> lower(d)), lower('<the address>')) OR destination_number = '<the number>'")


@dataclass(frozen=True)
class Person:
    """The address as the stores keep it: an email address lower-cased, a phone number in E.164."""

    address: str
    kind: str  # "email" or "phone"

    @classmethod
    def of(cls, address: str) -> Person:
        address = address.strip()
        if "@" in address:
            return cls(normalised_recipient("email", address), "email")
        if E164.match(address):
            return cls(address, "phone")
        raise ValueError("the address must be an email address or a phone number in E.164 (+ and country code)")

    @property
    def archive_channel(self) -> str:
        # The folder is the HMAC of the normalised address alone: SMS and voice share a number's folder.
        return "email" if self.kind == "email" else "sms"


@dataclass
class Store:
    """What happened to one store."""

    store: str
    stack: str
    resource: str  # the bucket, domain, list or table name (never the address)
    outcome: str
    count: int = 0
    reason: str = ""
    codes: dict[str, int] = field(default_factory=dict)  # AWS error codes and how often they came


@dataclass
class Report:
    kind: str
    dry_run: bool
    stores: list[Store] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Something that should have been removed was refused, or could not be looked at."""
        return any(store.outcome in FAILING for store in self.stores)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "dry_run": self.dry_run, "failed": self.failed,
                           "stores": [asdict(store) for store in self.stores]}, indent=2)

    def summary(self) -> str:
        """For a person: each outcome's stores, counts, and the reasons."""
        lines = [f"Erasing one {self.kind}{' (dry run: nothing deleted)' if self.dry_run else ''}:"]
        order = (REFUSED, FAILED, REMOVED, WOULD_REMOVE, NOTHING_FOUND, KEPT, NO_ADDRESS, CANNOT)
        for outcome in order:
            stores = [s for s in self.stores if s.outcome == outcome]
            if stores:
                lines.append(f"{outcome}:")
            for s in stores:
                count = f" {s.count}" if outcome in (REMOVED, WOULD_REMOVE, REFUSED, KEPT) else ""
                codes = f" [{', '.join(f'{c} x{n}' for c, n in s.codes.items())}]" if s.codes else ""
                reason = f": {s.reason}" if s.reason else ""
                lines.append(f"  {s.store} {s.resource} ({s.stack}){count}{codes}{reason}")
        lines.append("Exit status 1: something that should have been removed was not." if self.failed else
                     "Nothing that should have been removed was refused.")
        return "\n".join(lines)


@dataclass
class Stack:
    """What a deployed stack tells about itself: outputs, parameters, and its resources' types and names."""

    name: str
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical id -> (type, physical id)

    def named(self, name: str) -> str:
        """An output, else a parameter, of this name ("" when neither is set)."""
        return self.outputs.get(name) or self.parameters.get(name) or ""

    def of_type(self, resource_type: str) -> list[str]:
        return [physical for kind, physical in self.resources.values() if kind == resource_type and physical]


def read_stack(cloudformation, name: str) -> Stack:
    """DescribeStacks (outputs, parameters) and ListStackResources (paginated) of one stack."""
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    stack = Stack(described["StackName"],
                  {o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])},
                  {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])})
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=name):
        for resource in page.get("StackResourceSummaries", []):
            stack.resources[resource["LogicalResourceId"]] = (resource["ResourceType"],
                                                              resource.get("PhysicalResourceId", ""))
    return stack


def _voice_message_ids(s3, bucket: str, prefix: str) -> list[str]:
    """The message ids of the voice messages under one person's folder (one read per message file)."""
    ids: dict[str, None] = {}
    seen: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            if version["Key"] in seen:
                continue  # every version of a key is the same message
            seen.add(version["Key"])
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(body)
            if headers.get("X-Archive-Channel") == "voice" and headers.get("Message-ID"):
                ids[str(headers["Message-ID"]).strip().strip("<>").removesuffix("@archive.invalid")] = None
    return list(ids)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "") or "Unknown"


class _Eraser:
    def __init__(self, person: Person, session, dry_run: bool, read_secret: Callable[[Any, str], bytes]):
        self.person, self.dry_run, self._session, self._read_secret = person, dry_run, session, read_secret
        self._clients: dict[str, Any] = {}
        self.report = Report(person.kind, dry_run)
        self._done: set[tuple[str, str]] = set()  # (store, resource) handled already: stacks may share one
        self.voice_contact_ids: list[str] | None = None  # the message ids of the person's archived voice messages

    def client(self, service: str):
        if service not in self._clients:
            # Throttling (Customer Profiles 100 calls a second, SES, DynamoDB) retried as every handler here does.
            self._clients[service] = self._session.client(service, config=RETRY_CONFIG)
        return self._clients[service]

    def add(self, store: Store) -> None:
        self.report.stores.append(store)

    def once(self, store: str, resource: str) -> bool:
        if not resource or (store, resource) in self._done:
            return False
        self._done.add((store, resource))
        return True

    def guarded(self, store: str, stack: str, resource: str, work: Callable[[], Store]) -> None:
        """Runs one store's work; an AWS error becomes that store's ``failed`` line and the others go on."""
        if not self.once(store, resource):
            return
        try:
            self.add(work())
        except ClientError as error:
            self.add(Store(store, stack, resource, FAILED, reason="an AWS call failed; run again once fixed",
                           codes={_code(error): 1}))

    def removed(self, count: int) -> str:
        if not count:
            return NOTHING_FOUND
        return WOULD_REMOVE if self.dry_run else REMOVED

    # --- the archive --------------------------------------------------------------------------------------
    def archive(self, stack: Stack) -> None:
        bucket, secret_arn = stack.outputs.get("ArchiveBucketName", ""), stack.outputs.get("RecipientSecretArn", "")
        if not bucket or not secret_arn:
            self.add(Store("archive", stack.name, bucket or "?", FAILED,
                           reason="the stack has no ArchiveBucketName and RecipientSecretArn outputs: is it a "
                                  "Message_Archiver stack?"))
            return

        def work() -> Store:
            try:
                secret = self._read_secret(self.client("secretsmanager"), secret_arn)
            except ClientError:
                raise
            except Exception as error:  # the secret holds no string: no folder can be derived
                return Store("archive", stack.name, bucket, FAILED, reason=f"the recipient secret: {error}")
            s3 = self.client("s3")
            folder = recipient_folder(secret, self.person.archive_channel, self.person.address)
            prefix = f"{ARCHIVE_PREFIX}{folder}/"
            if self.person.kind == "phone":
                self.voice_contact_ids = _voice_message_ids(s3, bucket, prefix)  # read before the files go
            if self.dry_run:
                found = sum(len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
                            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket,
                                                                                          Prefix=prefix))
                return Store("archive", stack.name, bucket, self.removed(found), found,
                             "every version and delete marker under the person's folder")
            erased = archive.erase(s3, bucket, secret, self.person.archive_channel, self.person.address)
            if erased.refused:
                return Store("archive", stack.name, bucket, REFUSED, len(erased.refused),
                             f"S3 refused these versions ({erased.deleted} deleted); AccessDenied is Object Lock "
                             "in compliance mode: they go when their retention ends, run the command again then",
                             dict(Counter(r["code"] for r in erased.refused)))
            return Store("archive", stack.name, bucket, self.removed(erased.deleted), erased.deleted,
                         f"{erased.objects} messages: {erased.versions} versions, {erased.delete_markers} delete "
                         "markers")

        self.guarded("archive", stack.name, bucket, work)
        archive_ids = set(stack.of_type("AWS::SES::MailManagerArchive")) | {stack.outputs.get("EmailArchiveId", "")}
        for archive_id in sorted(archive_ids - {""}):
            if self.once("mail manager archive", archive_id):
                self.add(Store("mail manager archive", stack.name, archive_id, CANNOT, reason=(
                    "Mail Manager has no per-message delete: the mail stays until the archive's retention ends; "
                    "search and export it in the SES console (Mail Manager, Archiving)")))

    # --- Amazon Connect contact records -----------------------------------------------------------------------
    def connect_contacts(self, stack: Stack) -> None:
        """Redacts the number from the contact records of the calls the archive shows were made to it.

        Connect keeps a contact "for 24 months, and then it is deleted" (DescribeContact, Connect API reference);
        DeleteContactData redacts a terminated contact's PII, CUSTOMER_ENDPOINT being the customer's number, from
        the contact and its contact record, permanently. SearchContacts cannot search by the customer's number
        (its SearchCriteria has no such member), so the contact ids come from the person's archived voice
        messages, whose message id is the ContactId (due.archive.SentMessage)."""
        instance = stack.parameters.get("ConnectInstanceId", "")
        if self.person.kind != "phone" or not instance or stack.parameters.get("Channel", "Connect") != "Connect":
            return
        if self.voice_contact_ids is None:
            if self.once("Connect contact records", instance):
                self.add(Store("Connect contact records", stack.name, instance, CANNOT, reason=(
                    "the archive was not read, so the calls' contact ids are unknown (Connect cannot search "
                    "contacts by number); Connect deletes a contact after 24 months")))
            return

        def work() -> Store:
            connect, redacted, unknown, codes = self.client("connect"), 0, 0, Counter()
            for contact_id in self.voice_contact_ids:
                if self.dry_run:
                    continue
                try:
                    connect.delete_contact_data(InstanceId=instance, ContactId=contact_id,
                                                ContactFields=["CUSTOMER_ENDPOINT"])
                    redacted += 1
                except connect.exceptions.ResourceNotFoundException:
                    unknown += 1  # another instance's call, a voice message not sent through Connect, or deleted
                except ClientError as error:
                    codes[_code(error)] += 1  # ContactNotTerminatedException: the call is still up; run again
            found = len(self.voice_contact_ids)
            reason = (f"{found} archived voice messages: {redacted} redacted, {unknown} not contacts of this "
                      "instance (older than 24 "
                      "months, or not sent through it)" if not self.dry_run else
                      f"up to {found}: the archived voice messages' contact ids")
            if codes:
                return Store("Connect contact records", stack.name, instance, FAILED, sum(codes.values()),
                             reason + "; ContactNotTerminatedException is a call still up: run again", dict(codes))
            return Store("Connect contact records", stack.name, instance,
                         self.removed(found if self.dry_run else redacted), found if self.dry_run else redacted,
                         reason)

        self.guarded("Connect contact records", stack.name, instance, work)

    # --- Customer Profiles ----------------------------------------------------------------------------------
    def profiles(self, stack: Stack) -> None:
        domain = stack.named("ProfilesDomainName")

        def work() -> Store:
            store = ProfileStore(self.client("customer-profiles"), domain, object_type="")
            found = store.find(**{self.person.kind: self.person.address})
            opted_out = sorted({name for p in found for name in OPT_OUT_ATTRIBUTES
                                if says_opted_out((p.get("Attributes") or {}).get(name))})
            if not self.dry_run:
                for profile in found:
                    # Deletes "the standard customer profile and all data pertaining to the profile" (API reference).
                    self.client("customer-profiles").delete_profile(ProfileId=profile["ProfileId"],
                                                                     DomainName=domain)
            reason = "found by SearchProfiles on " + ("_email" if self.person.kind == "email" else "_phone")
            if opted_out:
                reason += (f"; the profile recorded {', '.join(opted_out)}: the suppression list, opt-out list or "
                           "contact list keep that opt-out only if it was recorded there too")
            return Store("profiles", stack.name, domain, self.removed(len(found)), len(found), reason)

        self.guarded("profiles", stack.name, domain, work)

    # --- SES: contact list and account suppression list ----------------------------------------------------------
    def contact_list(self, stack: Stack) -> None:
        name = stack.named("ContactListName")
        if self.person.kind != "email":
            return

        def work() -> Store:
            sesv2 = self.client("sesv2")
            try:
                contact = sesv2.get_contact(ContactListName=name, EmailAddress=self.person.address)
            except sesv2.exceptions.NotFoundException:
                return Store("contact list", stack.name, name, NOTHING_FOUND)
            preferences = contact.get("TopicPreferences", [])
            if contact.get("UnsubscribeAll") or any(p.get("SubscriptionStatus") == "OPT_OUT" for p in preferences):
                if not self.dry_run:
                    sesv2.update_contact(ContactListName=name, EmailAddress=self.person.address,
                                         TopicPreferences=preferences,
                                         UnsubscribeAll=bool(contact.get("UnsubscribeAll")), AttributesData="{}")
                return Store("contact list", stack.name, name, KEPT, 1,
                             "the entry records an unsubscription (consent); its attributes data was cleared" +
                             (" (would be)" if self.dry_run else ""))
            if not self.dry_run:
                sesv2.delete_contact(ContactListName=name, EmailAddress=self.person.address)
            return Store("contact list", stack.name, name, self.removed(1), 1)

        self.guarded("contact list", stack.name, name, work)

    def suppression_list(self) -> None:
        if self.person.kind != "email":
            return

        def work() -> Store:
            sesv2 = self.client("sesv2")
            try:
                sesv2.get_suppressed_destination(EmailAddress=self.person.address)
            except sesv2.exceptions.NotFoundException:
                return Store("SES account suppression list", "(account)", "suppression list", NOTHING_FOUND)
            return Store("SES account suppression list", "(account)", "suppression list", KEPT, 1,
                         "a bounce or complaint suppression: keeping it is what stops mail to the address")

        self.guarded("SES account suppression list", "(account)", "suppression list", work)

    # --- SMS opt-out lists ----------------------------------------------------------------------------------------
    def opt_out_lists(self, stack: Stack) -> None:
        if self.person.kind != "phone":
            return
        names = set(stack.of_type("AWS::SMSVOICE::OptOutList")) | {stack.named("OptOutListName")} - {""}
        for name in sorted(names):
            def work(name: str = name) -> Store:
                sms = self.client("pinpoint-sms-voice-v2")
                listed = sms.describe_opted_out_numbers(OptOutListName=name, OptedOutNumbers=[self.person.address])
                if not listed.get("OptedOutNumbers"):
                    return Store("SMS opt-out list", stack.name, name, NOTHING_FOUND)
                return Store("SMS opt-out list", stack.name, name, KEPT, 1,
                             "the number opted out (consent): keeping it is what stops messages to it")

            self.guarded("SMS opt-out list", stack.name, name, work)

    # --- DynamoDB items keyed by the address ------------------------------------------------------------------
    def _delete_item(self, store: str, stack: Stack, table: str, key: dict, why: str) -> None:
        def work() -> Store:
            dynamodb = self.client("dynamodb")
            if self.dry_run:
                found = "Item" in dynamodb.get_item(TableName=table, Key=key, ProjectionExpression="#k",
                                                    ExpressionAttributeNames={"#k": next(iter(key))})
                return Store(store, stack.name, table, self.removed(int(found)), int(found), why)
            old = dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD").get("Attributes")
            return Store(store, stack.name, table, self.removed(int(old is not None)), int(old is not None), why)

        self.guarded(store, stack.name, table, work)

    def reply_log(self, stack: Stack) -> None:
        table = stack.outputs.get("ReplyLogTableName", "")
        if table and self.person.kind == "email":
            self._delete_item("auto reply window", stack, table,
                              {"sender": {"S": canonical_address(self.person.address)}},
                              "one item per sender, expiring with the reply window")

    def lookup_cache(self, stack: Stack) -> None:
        table = stack.outputs.get("LookupCacheTableName", "")
        if table and self.person.kind == "phone":
            self._delete_item("phone lookup cache", stack, table, {"number": {"S": self.person.address}},
                              "the number's CarrierLookup verdict, kept to save lookups")

    def opt_out_decisions(self, stack: Stack) -> None:
        table = stack.outputs.get("ProcessedTableName", "")
        if table and self.person.kind == "phone":
            self._delete_item("opt-out decision order", stack, table,
                              {"inbound_message_id": {"S": f"number:{self.person.address}"}},
                              "when the number's latest STOP or START was applied (the opt-out list keeps the "
                              "decision itself)")

    def address_table(self, stack: Stack) -> None:
        table = stack.outputs.get("AddressTableName", "")
        if not table or self.person.kind != "email":
            return
        key = {stack.parameters.get("AddressKeyAttribute") or "email": {"S": self.person.address}}

        def work() -> Store:
            dynamodb = self.client("dynamodb")
            item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            if item is None:
                return Store("address table", stack.name, table, NOTHING_FOUND)
            if item.get("status", {}).get("S") == "suppressed":
                return Store("address table", stack.name, table, KEPT, 1,
                             "the address is suppressed (bounce or complaint): the item is what removes it from "
                             "future sends")
            if not self.dry_run:
                try:  # the condition keeps a suppression recorded since the read
                    dynamodb.delete_item(TableName=table, Key=key, ConditionExpression="#s <> :suppressed",
                                         ExpressionAttributeNames={"#s": "status"},
                                         ExpressionAttributeValues={":suppressed": {"S": "suppressed"}})
                except dynamodb.exceptions.ConditionalCheckFailedException:
                    return Store("address table", stack.name, table, KEPT, 1, "suppressed while we looked")
            return Store("address table", stack.name, table, self.removed(1), 1,
                         "feedback counts of an address that is not suppressed")

        self.guarded("address table", stack.name, table, work)

    def unsubscribes(self, stack: Stack) -> None:
        table = stack.outputs.get("UnsubscribesTableName", "")
        if not table or self.person.kind != "email":
            return

        def work() -> Store:
            item = self.client("dynamodb").get_item(TableName=table, Key={"address": {"S": self.person.address}},
                                                    ProjectionExpression="address").get("Item")
            if item is None:
                return Store("unsubscribes", stack.name, table, NOTHING_FOUND)
            return Store("unsubscribes", stack.name, table, KEPT, 1,
                         "the person unsubscribed (consent): keeping it is what stops the next file mailing them")

        self.guarded("unsubscribes", stack.name, table, work)

    # --- what holds no address, and what cannot be removed from here ---------------------------------------------
    def notes(self, stack: Stack) -> None:
        outputs = stack.outputs

        def note(store: str, resource: str, outcome: str, reason: str) -> None:
            if resource and self.once(store, resource):
                self.add(Store(store, stack.name, resource, outcome, reason=reason))

        note("send markers", outputs.get("SentTableName", ""), NO_ADDRESS,
             "keyed by a SHA-256 of file, row and address; they hold the file, the row, the status and the message "
             "id, and expire after 30 days")
        queues = sorted(name for name, value in outputs.items() if name.endswith(QUEUE_OUTPUT_SUFFIX) and value)
        note("queues", ", ".join(queues), CANNOT,
             "a queued or set-aside message may carry the address; SQS has no delete by content: messages go when "
             f"received and deleted, redriven, purged, or at the queue's retention (at most {SQS_MAX_RETENTION_DAYS} "
             "days)" + ("; an archive message queued before this run writes again: run the command again once the "
                        "archive queue is empty" if "ArchiveQueueUrl" in queues else ""))
        if outputs.get("AudienceFile"):
            note("segment membership", outputs.get("BucketName", ""), CANNOT,
                 "membership/ and audience/ files hold the query's person key; the next refresh rewrites them from "
                 "the data lake, so erase the person's events there first")
        else:
            for name in ("DropBucketName", "AudienceBucketName", "ImportBucketName", "BucketName"):
                note("dropped files", outputs.get(name, ""), CANNOT,
                     "the files you put there hold the person's row; this command does not rewrite your files: "
                     "delete or rewrite the ones that name them (and their versions)" + (
                         "; the import's staged files under work/ expire after 7 days" if name == "ImportBucketName"
                         else ""))
        if outputs.get("DataBucketName") and outputs.get("DatabaseName"):
            note("data lake", outputs["DataBucketName"], CANNOT,
                 "events are Parquet or JSON files of many people: removing one person means rewriting the files; "
                 "find them with Athena: " + DATA_LAKE_QUERY.format(database=outputs["DatabaseName"]))
        if outputs.get("EventStreamName"):
            note("event stream", outputs["EventStreamName"], CANNOT,
                 "Kinesis records expire with the stream's retention (24 hours unless raised)")
        if stack.parameters.get("KeyAttributeName") and outputs.get("TableName"):
            note("offer table", outputs["TableName"], CANNOT,
                 f"your data store, keyed by {stack.parameters['KeyAttributeName']}: delete the person's item with "
                 "the key you gave them")
        note("Pinpoint project", stack.parameters.get("PinpointApplicationId", ""), CANNOT,
             "Pinpoint's endpoints and analytics: its engagement features ended on 2026-10-30, with no API left "
             "to delete an endpoint")


def erase_person(address: str, session, archive_stack: Stack | None, stacks: Iterable[Stack], *,
                 dry_run: bool = False, read_secret: Callable[[Any, str], bytes] | None = None) -> Report:
    """Erases one person from the archive and every store of these stacks; the report says what happened where.

    ``session`` makes the clients (a boto3 Session); ``read_secret(secretsmanager, arn)`` reads the archive's
    HMAC secret (by default ``due.message_archiver.secret.recipient_secret``)."""
    if read_secret is None:
        from due.message_archiver.secret import recipient_secret as read_secret
    eraser = _Eraser(Person.of(address), session, dry_run, read_secret)
    if archive_stack is not None:
        eraser.archive(archive_stack)
    else:
        eraser.add(Store("archive", "(none given)", "", CANNOT, reason="no --archive-stack: the archive was not "
                                                                       "looked at"))
    everything = ([archive_stack] if archive_stack else []) + list(stacks)
    for stack in everything:
        for store in (eraser.connect_contacts, eraser.profiles, eraser.contact_list, eraser.opt_out_lists,
                      eraser.reply_log, eraser.lookup_cache, eraser.opt_out_decisions, eraser.address_table,
                      eraser.unsubscribes, eraser.notes):
            store(stack)
    eraser.suppression_list()
    return eraser.report
