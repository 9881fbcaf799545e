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

from botocore.exceptions import BotoCoreError, ClientError

from due import archive
from due.archive import ARCHIVE_PREFIX, E164, normalised_recipient, recipient_folder
from due.aws import RETRY_CONFIG
from due.profiles import EMAIL_OPT_OUT, SMS_OPT_OUT, ProfileStore, says_opted_out
from due.ses_auto_reply.sender_key import canonical_address

REMOVED, WOULD_REMOVE, NOTHING_FOUND = "removed", "would remove", "nothing found"
KEPT, NO_ADDRESS, CANNOT = "kept", "holds no address", "cannot remove here"
REFUSED, FAILED = "refused", "failed"
FAILING = (REFUSED, FAILED)

# Outputs that name a queue of a stack: messages in them may carry the address (a set-aside row, a failed event).
QUEUE_OUTPUT_SUFFIX = "QueueUrl"
CONNECT_STORE = "Connect contact records"
# SQS keeps a message at most 14 days (MessageRetentionPeriod, 60 to 1,209,600 seconds, SQS API reference).
SQS_MAX_RETENTION_DAYS = 14
DATA_LAKE_QUERY = ("SELECT DISTINCT \"$path\" FROM {database}.events WHERE contains(transform(destinations, "
                   "d -> lower(d)), lower('<the address>')) OR destination_number = '<the number>'")


@dataclass(frozen=True)
class Person:
    """The address as the archive keeps it (an email address lower-cased, a phone number in E.164), and the other
    spellings the stores that keep what a file said may hold it under.

    The import writes contact-list entries and profiles with the address as the file spells it
    (``Ana.Silva@Example.com``), and the SES v2 API reference does not say that GetContact's EmailAddress is
    compared without case; a number imported without validation keeps its national format. So the contact list
    and the profiles are also asked for the address exactly as typed and for every ``also_as`` spelling."""

    address: str
    kind: str  # "email" or "phone"
    also_as: tuple[str, ...] = ()  # other spellings: as typed, and the operator's --also-as

    @classmethod
    def of(cls, address: str, also_as: Iterable[str] = ()) -> Person:
        address = address.strip()
        if "@" in address:
            normalised, kind = normalised_recipient("email", address), "email"
        elif E164.match(address):
            normalised, kind = address, "phone"
        else:
            raise ValueError("the address must be an email address or a phone number in E.164 (+ and country code)")
        others = (address, *(a.strip() for a in also_as))
        return cls(normalised, kind, tuple(dict.fromkeys(a for a in others if a and a != normalised)))

    @property
    def spellings(self) -> list[str]:
        return [self.address, *self.also_as]

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
    # Identifiers that are not personal data and that the operator needs: the Connect contact ids still to redact.
    ids: list[str] = field(default_factory=list)


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
                ids = f" (contact ids: {', '.join(s.ids)})" if s.ids else ""
                lines.append(f"  {s.store} {s.resource} ({s.stack}){count}{codes}{reason}{ids}")
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


def _opt_out_profiles(profiles: Iterable[dict], person: Person) -> list[tuple[dict[str, str], dict[str, str]]]:
    """For the profiles about to be deleted, the minimal profiles that keep their opt-outs: (fields for
    ProfileStore.create, attributes). Each opt-out goes with the address it is about: email_opt_out with the
    profile's EmailAddress, sms_opt_out with its PhoneNumber (the erased address when the profile was found by it
    through another field)."""
    kept: dict[tuple, None] = {}
    for profile in profiles:
        attributes = profile.get("Attributes") or {}
        email = profile.get("EmailAddress") or (person.address if person.kind == "email" else "")
        phone = profile.get("PhoneNumber") or (person.address if person.kind == "phone" else "")
        email = email if says_opted_out(attributes.get(EMAIL_OPT_OUT)) else ""
        phone = phone if says_opted_out(attributes.get(SMS_OPT_OUT)) else ""
        if email or phone:
            kept[(email, phone)] = None
    return [({"email": email or None, "phone": phone or None},
             {**({EMAIL_OPT_OUT: "true"} if email else {}), **({SMS_OPT_OUT: "true"} if phone else {})})
            for email, phone in kept]


def _code(error: ClientError | BotoCoreError) -> str:
    """ClientError's code; for botocore's own failures (EndpointConnectionError, ReadTimeoutError left after the
    retries, a service without an endpoint in the region), the exception's class name."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "") or "Unknown"
    return type(error).__name__


class _Eraser:
    def __init__(self, person: Person, session, dry_run: bool, read_secret: Callable[[Any, str], bytes],
                 mfa: str = ""):
        self.person, self.dry_run, self._session, self._read_secret = person, dry_run, session, read_secret
        self._mfa = mfa
        self._clients: dict[str, Any] = {}
        self.report = Report(person.kind, dry_run)
        self._done: set[tuple[str, str]] = set()  # (store, resource) handled already: stacks may share one
        self.voice_contact_ids: list[str] | None = None  # the message ids of the person's archived voice messages

    def client(self, service: str):
        if service not in self._clients:
            # Throttling (Customer Profiles 100 calls a second, SES, DynamoDB) retried as every handler here does.
            self._clients[service] = self._session.client(service, config=RETRY_CONFIG)
            if service == "s3" and self._mfa:
                # On a bucket with MFA Delete, a request that permanently deletes a version must carry the
                # x-amz-mfa header, "the concatenation of your authentication device's serial number, a space, and
                # the authentication code"; "If you don't include this request header, the request fails" (S3
                # User Guide, "Deleting an object from an MFA delete-enabled bucket"). DeleteObjects' MFA member
                # is that header: added to every DeleteObjects call due.archive.erase makes.
                self._clients[service].meta.events.register("provide-client-params.s3.DeleteObjects",
                                                             self._with_mfa)
        return self._clients[service]

    def _with_mfa(self, params: dict, **_kwargs) -> None:
        params.setdefault("MFA", self._mfa)

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
        except (ClientError, BotoCoreError) as error:
            self.add(Store(store, stack, resource, FAILED, reason="an AWS call failed; run again once fixed",
                           codes={_code(error): 1}))

    def removed(self, count: int) -> str:
        if not count:
            return NOTHING_FOUND
        return WOULD_REMOVE if self.dry_run else REMOVED

    # --- the archive --------------------------------------------------------------------------------------
    def archive(self, stack: Stack, connect_stacks: list[Stack]) -> None:
        """Erases the person's archive folder. For a number, with Connect stacks named, the voice messages' contact
        ids are read first and the calls redacted (``connect_contacts``); while a redaction fails, the folder is
        kept, since those archived messages are the only way to find the calls again (SearchContacts cannot
        search by number), and the report names the contact ids still to redact."""
        bucket, secret_arn = stack.outputs.get("ArchiveBucketName", ""), stack.outputs.get("RecipientSecretArn", "")
        if not bucket or not secret_arn:
            self.add(Store("archive", stack.name, bucket or "?", FAILED,
                           reason="the stack has no ArchiveBucketName and RecipientSecretArn outputs: is it a "
                                  "Message_Archiver stack?"))
            return

        def work() -> Store:
            try:
                secret = self._read_secret(self.client("secretsmanager"), secret_arn)
            except (ClientError, BotoCoreError):
                raise
            except Exception as error:  # the secret holds no string: no folder can be derived
                return Store("archive", stack.name, bucket, FAILED, reason=f"the recipient secret: {error}")
            s3 = self.client("s3")
            folder = recipient_folder(secret, self.person.archive_channel, self.person.address)
            prefix = f"{ARCHIVE_PREFIX}{folder}/"
            if self.person.kind == "phone" and connect_stacks:
                # Only then: GetObject with a VersionId needs s3:GetObjectVersion (S3 API reference, GetObject,
                # Permissions), which an erasure without Connect neither needs nor is granted; and it costs a GET
                # per archived message.
                self.voice_contact_ids = _voice_message_ids(s3, bucket, prefix)
                for connect_stack in connect_stacks:
                    self.connect_contacts(connect_stack)
            unredacted = sorted({i for s in self.report.stores if s.store == CONNECT_STORE for i in s.ids})
            if unredacted and not self.dry_run:
                return Store("archive", stack.name, bucket, FAILED, len(unredacted),
                             "kept: the archived voice messages are the only record of which Connect calls to "
                             "redact, and these were not redacted yet; run again once they are (a call still up "
                             "ends, a throttled call is retried)", ids=unredacted)
            if self.dry_run:
                found = sum(len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
                            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket,
                                                                                          Prefix=prefix))
                return Store("archive", stack.name, bucket, self.removed(found), found,
                             "every version and delete marker under the person's folder")
            erased = archive.erase(s3, bucket, secret, self.person.archive_channel, self.person.address)
            if erased.refused:
                codes = dict(Counter(r["code"] for r in erased.refused))
                return Store("archive", stack.name, bucket, REFUSED, len(erased.refused),
                             f"S3 refused these versions ({erased.deleted} deleted); AccessDenied for some keys is "
                             "Object Lock in compliance mode or a legal hold: they go when their retention ends "
                             "or the hold is removed, run the command again then; AccessDenied for every key is "
                             "MFA Delete (give --mfa) or missing s3:DeleteObjectVersion", codes)
            return Store("archive", stack.name, bucket, self.removed(erased.deleted), erased.deleted,
                         f"{erased.objects} messages: every version and delete marker")

        self.guarded("archive", stack.name, bucket, work)
        archive_ids = set(stack.of_type("AWS::SES::MailManagerArchive")) | {stack.outputs.get("EmailArchiveId", "")}
        for archive_id in sorted(archive_ids - {""}):
            if self.once("mail manager archive", archive_id):
                self.add(Store("mail manager archive", stack.name, archive_id, CANNOT, reason=(
                    "Mail Manager has no per-message delete: the mail stays until the archive's retention ends; "
                    "search and export it in the SES console (Mail Manager, Archiving)")))

    # --- Amazon Connect contact records -----------------------------------------------------------------------
    def places_connect_calls(self, stack: Stack) -> bool:
        return (self.person.kind == "phone" and bool(stack.parameters.get("ConnectInstanceId"))
                and stack.parameters.get("Channel", "Connect") == "Connect")

    def connect_contacts(self, stack: Stack) -> None:
        """Redacts the number, and empties the sender's contact attributes, in the contact records of the calls the
        archive shows were made to it.

        Connect keeps a contact "for 24 months, and then it is deleted" (DescribeContact, Connect API reference).
        DeleteContactData redacts a terminated contact's PII, CUSTOMER_ENDPOINT being the customer's number, from
        the contact and its contact record, permanently; "The contact must be in a terminated state", and "Any PII
        that you place in fields outside the scope of this operation remains your responsibility to remove"
        (API_DeleteContactData). The sender put the row's other columns and the message into user-defined contact
        attributes (StartOutboundVoiceContact's Attributes), which UpdateContactAttributes can change "for both
        ongoing and completed contacts" (API_UpdateContactAttributes): each attribute GetContactAttributes returns
        is set to "" (the value may be 0 to 32,767 characters). SearchContacts cannot search by the customer's
        number (its SearchCriteria has no such member), so the contact ids come from the person's archived voice
        messages, whose message id is the ContactId (due.archive.SentMessage)."""
        instance = stack.parameters.get("ConnectInstanceId", "")
        if not self.places_connect_calls(stack):
            return
        if self.voice_contact_ids is None:
            if self.once(CONNECT_STORE, instance):
                self.add(Store(CONNECT_STORE, stack.name, instance, CANNOT, reason=(
                    "the archive was not read, so the calls' contact ids are unknown (Connect cannot search "
                    "contacts by number); Connect deletes a contact after 24 months")))
            return

        def work() -> Store:
            connect, redacted, unknown, codes, pending = self.client("connect"), 0, 0, Counter(), []
            for contact_id in self.voice_contact_ids:
                if self.dry_run:
                    continue
                try:
                    connect.delete_contact_data(InstanceId=instance, ContactId=contact_id,
                                                ContactFields=["CUSTOMER_ENDPOINT"])
                    attributes = connect.get_contact_attributes(InstanceId=instance,
                                                                InitialContactId=contact_id).get("Attributes", {})
                    if any(attributes.values()):
                        connect.update_contact_attributes(InstanceId=instance, InitialContactId=contact_id,
                                                          Attributes=dict.fromkeys(attributes, ""))
                    redacted += 1
                except connect.exceptions.ResourceNotFoundException:
                    unknown += 1  # another instance's call, a voice message not sent through Connect, or deleted
                except (ClientError, BotoCoreError) as error:
                    codes[_code(error)] += 1  # ContactNotTerminatedException: the call is still up; run again
                    pending.append(contact_id)
            found = len(self.voice_contact_ids)
            reason = (f"{found} archived voice messages: {redacted} redacted (the number, and the row's columns and "
                      f"message in the contact attributes), {unknown} not contacts of this instance (older than 24 "
                      "months, or not sent through it)" if not self.dry_run else
                      f"up to {found}: the archived voice messages' contact ids")
            if codes:
                return Store(CONNECT_STORE, stack.name, instance, FAILED, sum(codes.values()),
                             reason + "; ContactNotTerminatedException is a call still up: the archive is kept so "
                                      "that a run after the call ends finds these contact ids again", dict(codes),
                             ids=pending)
            return Store(CONNECT_STORE, stack.name, instance,
                         self.removed(found if self.dry_run else redacted), found if self.dry_run else redacted,
                         reason)

        self.guarded(CONNECT_STORE, stack.name, instance, work)

    # --- Customer Profiles ----------------------------------------------------------------------------------
    def profiles(self, stack: Stack) -> None:
        """Deletes the person's profiles, after keeping any opt-out they recorded in a profile of its own.

        DeleteProfile "Deletes the standard customer profile and all data pertaining to the profile" (Customer
        Profiles API reference), its email_opt_out or sms_opt_out with it. The email senders' consent check reads
        that attribute from the profiles SearchProfiles finds by the address (due.send_time.consent step 5, the
        import's follow-up), and an opt-out may have been recorded nowhere else (an import file's column with no
        contact list, an event segmentation rule). So before the delete, a profile holding only the address and
        the opt-out (CreateProfile with EmailAddress or PhoneNumber and that one attribute) is created in the same
        domain: the senders that read the old one read it, and it holds no more than a suppression list entry
        would. The account suppression list cannot take it: PutSuppressedDestination's Reason is BOUNCE or
        COMPLAINT only (SES v2 API reference, SuppressionListReason)."""
        domain = stack.named("ProfilesDomainName")

        def work() -> Store:
            store = ProfileStore(self.client("customer-profiles"), domain, object_type="")
            found: dict[str, dict] = {}
            for spelling in self.person.spellings:
                for profile in store.find(**{self.person.kind: spelling}):
                    found.setdefault(profile["ProfileId"], profile)
            kept = _opt_out_profiles(found.values(), self.person)
            if not self.dry_run:
                for fields, attributes in kept:  # first: a failure here leaves the old profiles in place
                    store.create(attributes, **fields)
                for profile_id in found:
                    self.client("customer-profiles").delete_profile(ProfileId=profile_id, DomainName=domain)
            if kept:
                names = sorted({name for _, attributes in kept for name in attributes})
                self.add(Store("profile opt-out", stack.name, domain, KEPT, len(kept),
                               f"a profile holding only the address and {', '.join(names)} (consent) replaces the "
                               "deleted ones: the senders' consent check reads it" +
                               (" (would be)" if self.dry_run else "")))
            reason = "found by SearchProfiles on " + ("_email" if self.person.kind == "email" else "_phone")
            return Store("profiles", stack.name, domain, self.removed(len(found)), len(found), reason)

        self.guarded("profiles", stack.name, domain, work)

    # --- SES: contact list and account suppression list ----------------------------------------------------------
    def contact_list(self, stack: Stack) -> None:
        name = stack.named("ContactListName")
        if self.person.kind != "email":
            return

        def work() -> Store:
            sesv2, removed, kept, seen = self.client("sesv2"), 0, 0, set()
            for spelling in self.person.spellings:  # the import keeps the address as the file spelled it
                try:
                    contact = sesv2.get_contact(ContactListName=name, EmailAddress=spelling)
                except sesv2.exceptions.NotFoundException:
                    continue
                address = contact.get("EmailAddress") or spelling
                if address in seen:
                    continue  # the list answered another spelling with the same entry
                seen.add(address)
                preferences = contact.get("TopicPreferences", [])
                if contact.get("UnsubscribeAll") or any(p.get("SubscriptionStatus") == "OPT_OUT"
                                                        for p in preferences):
                    if not self.dry_run:
                        sesv2.update_contact(ContactListName=name, EmailAddress=address,
                                             TopicPreferences=preferences,
                                             UnsubscribeAll=bool(contact.get("UnsubscribeAll")), AttributesData="{}")
                    kept += 1
                    continue
                if not self.dry_run:
                    sesv2.delete_contact(ContactListName=name, EmailAddress=address)
                removed += 1
            if kept:
                if removed:
                    self.add(Store("contact list", stack.name, name, self.removed(removed), removed))
                return Store("contact list", stack.name, name, KEPT, kept,
                             "the entry records an unsubscription (consent); its attributes data was cleared" +
                             (" (would be)" if self.dry_run else ""))
            return Store("contact list", stack.name, name, self.removed(removed), removed)

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
        key_name = stack.parameters.get("AddressKeyAttribute") or "email"
        if stack.parameters.get("ExistingAddressTableName"):
            # The stack writes into your own table (its ExistingAddressTableName): the item is your customer's
            # row, with more than this stack wrote. Like the offer table, it is left to you.
            if self.once("address table", table):
                self.add(Store("address table", stack.name, table, CANNOT, reason=(
                    f"your own table (ExistingAddressTableName), keyed by {key_name}: the feedback processor added "
                    "status and bounce and complaint counts to your item; delete or update it yourself, and keep "
                    "a suppressed status (it removes the address from future sends)")))
            return
        key = {key_name: {"S": self.person.address}}

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
                    # An item with no status (one the feedback processor only counted) is allowed explicitly: the
                    # DynamoDB documentation found does not say how "<>" treats a missing attribute (moto takes it
                    # as unequal), and a refusal would read as "suppressed while we looked".
                    dynamodb.delete_item(TableName=table, Key=key,
                                         ConditionExpression="attribute_not_exists(#s) OR #s <> :suppressed",
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
        if stack.parameters.get("Mode") == "Pinpoint" and outputs.get("ArchiveBucketName"):
            note("unqueued send events", f"{outputs['ArchiveBucketName']}/unqueued/", CANNOT,
                 "Pinpoint send events the archive queue did not take, one JSON line each in files of many "
                 "people (due.message_archiver.pinpoint_transform): queue them again as the Message Archiver page "
                 "says, then run this command again, or delete the files; they expire with RetentionDays")
        note("Pinpoint events bucket", outputs.get("PinpointEventsBucketName", ""), CANNOT,
             "the Pinpoint project's events (events/, errors/) as its event stream delivered them: email events "
             "carry the addresses, SMS events the numbers; files of many people, so one person's go by rewriting "
             "them (find them with S3 Select or Athena); they expire with the stack's RetentionDays")
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
                 dry_run: bool = False, read_secret: Callable[[Any, str], bytes] | None = None,
                 also_as: Iterable[str] = (), mfa: str = "", report: Report | None = None) -> Report:
    """Erases one person from the archive and every store of these stacks; the report says what happened where.

    ``session`` makes the clients (a boto3 Session); ``read_secret(secretsmanager, arn)`` reads the archive's
    HMAC secret (by default ``due.message_archiver.secret.recipient_secret``); ``also_as``: other spellings of
    the address the contact list and the profiles may hold; ``mfa``: "SERIAL CODE" for an archive bucket with MFA
    Delete. Stores are added to ``report`` as they are done, so a
    caller that passes one still has what was done if something unexpected stops the run."""
    if read_secret is None:
        from due.message_archiver.secret import recipient_secret as read_secret
    eraser = _Eraser(Person.of(address, also_as), session, dry_run, read_secret, mfa)
    if report is not None:
        eraser.report = report
    everything = ([archive_stack] if archive_stack else []) + list(stacks)
    connect_stacks = [stack for stack in everything if eraser.places_connect_calls(stack)]
    if archive_stack is not None:
        eraser.archive(archive_stack, connect_stacks)
    else:
        eraser.add(Store("archive", "(none given)", "", CANNOT, reason="no --archive-stack: the archive was not "
                                                                       "looked at"))
    for stack in everything:
        for store in (eraser.connect_contacts, eraser.profiles, eraser.contact_list, eraser.opt_out_lists,
                      eraser.reply_log, eraser.lookup_cache, eraser.opt_out_decisions, eraser.address_table,
                      eraser.unsubscribes, eraser.notes):
            store(stack)
    eraser.suppression_list()
    return eraser.report
