"""Erasing one person: the archive (every version and marker) against moto with versioning on, the profiles and
contact list against the fakes, consent kept, refusals reported, a dry run that deletes nothing, and the command."""

from __future__ import annotations

import datetime
import json
import pathlib
import re

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from due import erasure
from due.archive import ArchiveWriter, SentMessage
from due.erasure import Person, Stack, erase_person
from due.profiles import ProfileStore
from due.send_time.consent import Consent
from due_local.fakes import FakeError
from due_local.tables import create_table
from scripts import erase_person as command

SECRET = "an archive secret of enough length"
ANA, BO = "Ana.Silva@Example.com", "bo@example.com"
ANA_PHONE, BO_PHONE = "+14255550182", "+14255550101"
BUCKET, DOMAIN, CONTACTS = "archive-bucket", "people", "newsletter"


def message(recipient: str, message_id: str, channel: str = "email") -> SentMessage:
    return SentMessage(channel, recipient, message_id, "2026-11-27T16:45:09Z", campaign_id="spring", text="Hello")


@pytest.fixture
def account(aws, fakes):
    """An archive with Ana's and Bo's messages (a second version and a delete marker among Ana's), a profile domain,
    a contact list, and the tables of the other stacks."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    secret_arn = aws.client("secretsmanager").create_secret(Name="archive-secret", SecretString=SECRET)["ARN"]
    writer = ArchiveWriter(s3, BUCKET, SECRET.encode())
    for n in range(3):
        writer.write(message(ANA, f"ana-{n}"))
    writer.write(message(ANA_PHONE, "ana-sms", "sms"))
    writer.write(message(BO, "bo-0"))
    writer.write(message(BO_PHONE, "bo-sms", "sms"))
    s3.put_object(Bucket=BUCKET, Key=message(ANA, "ana-0").key(SECRET.encode()), Body=b"a second version")
    s3.delete_object(Bucket=BUCKET, Key=message(ANA, "ana-1").key(SECRET.encode()))  # a delete marker

    profiles = aws.client("customer-profiles")
    profiles.create_domain(DomainName=DOMAIN, DefaultExpirationDays=30)
    for address, phone in ((ANA, ANA_PHONE), (ANA.lower(), ""), (BO, BO_PHONE)):
        profiles.create_profile(DomainName=DOMAIN, EmailAddress=address, **({"PhoneNumber": phone} if phone else {}),
                                Attributes={"email_opt_out": "true"} if not phone else {})
    sesv2 = aws.client("sesv2")
    sesv2.create_contact_list(ContactListName=CONTACTS, Topics=[
        {"TopicName": "offers", "DisplayName": "Offers", "DefaultSubscriptionStatus": "OPT_IN"}])
    for address in (ANA.lower(), BO):
        sesv2.create_contact(ContactListName=CONTACTS, EmailAddress=address, AttributesData='{"city": "Porto"}')

    dynamodb = aws.client("dynamodb")
    for table, key in (("reply-log", "sender"), ("addresses", "email"), ("unsubscribes", "address"),
                       ("lookup-cache", "number"), ("processed", "inbound_message_id"), ("sent", "deduplication_id")):
        create_table(dynamodb, table, key)
    dynamodb.put_item(TableName="reply-log", Item={"sender": {"S": "ana.silva@example.com"}})
    dynamodb.put_item(TableName="reply-log", Item={"sender": {"S": BO}})
    dynamodb.put_item(TableName="addresses", Item={"email": {"S": "ana.silva@example.com"}, "status": {"S": "active"}})
    dynamodb.put_item(TableName="addresses", Item={"email": {"S": BO}, "status": {"S": "active"}})
    dynamodb.put_item(TableName="lookup-cache", Item={"number": {"S": ANA_PHONE}})
    dynamodb.put_item(TableName="lookup-cache", Item={"number": {"S": BO_PHONE}})
    dynamodb.put_item(TableName="processed", Item={"inbound_message_id": {"S": f"number:{ANA_PHONE}"}})
    dynamodb.put_item(TableName="processed", Item={"inbound_message_id": {"S": f"number:{BO_PHONE}"}})
    sms = aws.client("pinpoint-sms-voice-v2")
    sms.create_opt_out_list(OptOutListName="stops")

    archive_stack = Stack("due-archive", {"ArchiveBucketName": BUCKET, "RecipientSecretArn": secret_arn,
                                          "ArchiveQueueUrl": "https://sqs.example/archive"},
                          resources={"EmailArchive": ("AWS::SES::MailManagerArchive", "a-1234")})
    stacks = [
        Stack("due-import", {"ProfilesDomainName": DOMAIN, "ContactListName": CONTACTS,
                             "LookupCacheTableName": "lookup-cache", "ImportBucketName": "imports"}),
        Stack("due-reply", {"ReplyLogTableName": "reply-log"}),
        Stack("due-feedback", {"AddressTableName": "addresses"}, {"AddressKeyAttribute": "email"}),
        Stack("due-sender", {"UnsubscribesTableName": "unsubscribes", "SentTableName": "sent",
                             "SendDeadLetterQueueUrl": "https://sqs.example/dlq"},
              {"ProfilesDomainName": DOMAIN, "ContactListName": CONTACTS}),  # the same domain and list: once each
        Stack("due-stops", {"ProcessedTableName": "processed"},
              resources={"OptOutList": ("AWS::SMSVOICE::OptOutList", "stops")}),
        Stack("due-lake", {"DataBucketName": "lake", "DatabaseName": "due_events"}),
    ]
    return {"s3": s3, "sesv2": sesv2, "dynamodb": dynamodb, "sms": sms, "archive": archive_stack, "stacks": stacks,
            "secret_arn": secret_arn}


def keys_left(s3) -> list[str]:
    listed = s3.list_object_versions(Bucket=BUCKET)
    return sorted(v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []))


def outcome(report, store: str):
    [found] = [s for s in report.stores if s.store == store]
    return found


def test_every_version_and_marker_of_that_person_goes_and_nobody_elses(aws, fakes, account):
    report = erase_person(ANA, aws, account["archive"], account["stacks"])

    archive = outcome(report, "archive")
    assert (archive.outcome, archive.count) == (erasure.REMOVED, 5)  # 3 messages, a second version, a delete marker
    bo_keys = sorted([message(BO, "bo-0").key(SECRET.encode()), message(BO_PHONE, "bo-sms", "sms").key(
        SECRET.encode()), message(ANA_PHONE, "ana-sms", "sms").key(SECRET.encode())])
    assert keys_left(account["s3"]) == bo_keys  # Bo's, and Ana's number's folder (another address)
    assert not report.failed


def test_the_profiles_and_contact_list_entry_go_consent_elsewhere_stays(aws, fakes, account):
    fakes.sesv2.put_suppressed_destination(EmailAddress=ANA.lower(), Reason="COMPLAINT")
    account["dynamodb"].put_item(TableName="unsubscribes", Item={"address": {"S": "ana.silva@example.com"}})

    report = erase_person(ANA, aws, account["archive"], account["stacks"])

    profiles = outcome(report, "profiles")
    assert (profiles.outcome, profiles.count, profiles.stack) == (erasure.REMOVED, 2, "due-import")
    kept = outcome(report, "profile opt-out")
    assert (kept.outcome, kept.count) == (erasure.KEPT, 1) and "email_opt_out" in kept.reason
    # The opted-out profile's opt-out stays, alone with its address; nothing else of Ana's profiles does.
    assert sorted((p["EmailAddress"], p.get("PhoneNumber", ""), p["Attributes"])
                  for p in fakes.profiles.profiles.values()) == [
        (ANA.lower(), "", {"email_opt_out": "true"}), (BO, BO_PHONE, {})]
    assert (outcome(report, "contact list").outcome, list(fakes.sesv2.contact_lists[CONTACTS]["contacts"])) == (
        erasure.REMOVED, [BO])
    assert outcome(report, "SES account suppression list").outcome == erasure.KEPT
    assert ANA.lower() in fakes.sesv2.suppressed
    assert outcome(report, "unsubscribes").outcome == erasure.KEPT
    assert (outcome(report, "auto reply window").outcome, outcome(report, "address table").outcome) == (
        erasure.REMOVED, erasure.REMOVED)
    dynamodb = account["dynamodb"]
    assert [i["sender"]["S"] for i in dynamodb.scan(TableName="reply-log")["Items"]] == [BO]
    assert [i["email"]["S"] for i in dynamodb.scan(TableName="addresses")["Items"]] == [BO]
    assert outcome(report, "send markers").outcome == erasure.NO_ADDRESS
    assert outcome(report, "mail manager archive").outcome == erasure.CANNOT
    [archive_queues] = [s for s in report.stores if s.store == "queues" and s.stack == "due-archive"]
    assert "run the command again once the archive queue is empty" in archive_queues.reason
    assert {s.store for s in report.stores if s.outcome == erasure.CANNOT} >= {"queues", "dropped files", "data lake"}
    assert "ana.silva" not in report.to_json().lower() and "ana.silva" not in report.summary().lower()


def test_an_unsubscribed_contact_and_a_suppressed_address_are_kept_without_their_attributes(aws, fakes, account):
    account["sesv2"].update_contact(ContactListName=CONTACTS, EmailAddress=ANA.lower(), AttributesData='{"c": "P"}',
                                    TopicPreferences=[{"TopicName": "offers", "SubscriptionStatus": "OPT_OUT"}])
    account["dynamodb"].put_item(TableName="addresses", Item={"email": {"S": "ana.silva@example.com"},
                                                              "status": {"S": "suppressed"}})
    report = erase_person(ANA, aws, account["archive"], account["stacks"])

    assert outcome(report, "contact list").outcome == erasure.KEPT
    contact = account["sesv2"].get_contact(ContactListName=CONTACTS, EmailAddress=ANA.lower())
    assert contact["TopicPreferences"] == [{"TopicName": "offers", "SubscriptionStatus": "OPT_OUT"}]
    assert contact["AttributesData"] == "{}"
    assert outcome(report, "address table").outcome == erasure.KEPT
    assert "Item" in account["dynamodb"].get_item(TableName="addresses", Key={"email": {"S": "ana.silva@example.com"}})


def test_a_number_is_erased_from_its_own_folder_profile_cache_and_decisions_and_its_opt_out_kept(aws, fakes,
                                                                                                  account):
    account["sms"].put_opted_out_number(OptOutListName="stops", OptedOutNumber=ANA_PHONE)
    report = erase_person(ANA_PHONE, aws, account["archive"], account["stacks"])

    assert (outcome(report, "archive").outcome, outcome(report, "archive").count) == (erasure.REMOVED, 1)
    assert message(ANA_PHONE, "ana-sms", "sms").key(SECRET.encode()) not in keys_left(account["s3"])
    assert message(ANA, "ana-2").key(SECRET.encode()) in keys_left(account["s3"])  # the email folder is another
    assert (outcome(report, "profiles").outcome, outcome(report, "profiles").count) == (erasure.REMOVED, 1)
    assert outcome(report, "phone lookup cache").outcome == erasure.REMOVED
    assert outcome(report, "opt-out decision order").outcome == erasure.REMOVED
    assert outcome(report, "SMS opt-out list").outcome == erasure.KEPT
    dynamodb = account["dynamodb"]
    assert [i["number"]["S"] for i in dynamodb.scan(TableName="lookup-cache")["Items"]] == [BO_PHONE]
    assert [i["inbound_message_id"]["S"] for i in dynamodb.scan(TableName="processed")["Items"]] == [
        f"number:{BO_PHONE}"]
    assert not [s for s in report.stores if s.store in ("contact list", "auto reply window", "unsubscribes")]


def test_the_number_is_redacted_from_the_connect_contacts_its_archived_calls_name(aws, fakes, account):
    connect = aws.client("connect")

    def call() -> str:
        return connect.start_outbound_voice_contact(DestinationPhoneNumber=ANA_PHONE, ContactFlowId="flow",
                                                    InstanceId="instance-1", SourcePhoneNumber="+18445550100",
                                                    Attributes={"first_name": "Ana", "message": "Your parcel"},
                                                    )["ContactId"]

    ended, up = call(), call()
    fakes.connect.disconnect(ended)
    writer = ArchiveWriter(account["s3"], BUCKET, SECRET.encode())
    for contact_id in (ended, up, "sent-by-end-user-messaging"):
        writer.write(message(ANA_PHONE, contact_id, "voice"))
    stacks = [Stack("due-connect", {}, {"ConnectInstanceId": "instance-1", "Channel": "Connect"})]

    dry = erase_person(ANA_PHONE, aws, account["archive"], stacks, dry_run=True)
    assert (outcome(dry, "Connect contact records").outcome, outcome(dry, "Connect contact records").count) == (
        erasure.WOULD_REMOVE, 3)
    assert not fakes.connect.calls_of("DeleteContactData")

    report = erase_person(ANA_PHONE, aws, account["archive"], stacks)
    records = outcome(report, "Connect contact records")
    assert (records.outcome, records.codes, records.ids) == (erasure.FAILED, {"ContactNotTerminatedException": 1},
                                                             [up])
    assert "3 archived voice messages: 1 redacted" in records.reason and "1 not contacts of this" in records.reason
    assert {c["ContactId"]: c["DestinationPhoneNumber"] for c in fakes.connect.contacts} == {ended: "",
                                                                                             up: ANA_PHONE}
    # The row's columns and the message the sender put into the ended call's attributes are gone.
    assert fakes.connect.get_contact_attributes(InstanceId="instance-1", InitialContactId=ended)["Attributes"] == {
        "first_name": "", "message": ""}
    # The archive is kept while a call is unredacted: its voice messages are the only way to find the call again.
    assert (outcome(report, "archive").outcome, outcome(report, "archive").ids) == (erasure.FAILED, [up])
    assert f"(contact ids: {up})" in report.summary()
    assert message(ANA_PHONE, up, "voice").key(SECRET.encode()) in keys_left(account["s3"])
    assert report.failed

    fakes.connect.disconnect(up)
    again = erase_person(ANA_PHONE, aws, account["archive"], stacks)
    records = outcome(again, "Connect contact records")
    assert (records.outcome, records.count) == (erasure.REMOVED, 2)
    assert {c["DestinationPhoneNumber"] for c in fakes.connect.contacts} == {""}
    assert outcome(again, "archive").outcome == erasure.REMOVED  # the sms and the three voice messages
    assert not again.failed


def test_the_connect_fake_refuses_a_contact_field_the_model_does_not_have(aws, fakes):
    connect = aws.client("connect")
    contact_id = connect.start_outbound_voice_contact(DestinationPhoneNumber=ANA_PHONE, ContactFlowId="flow",
                                                      InstanceId="instance-1", SourcePhoneNumber="+18445550100",
                                                      )["ContactId"]
    fakes.connect.disconnect(contact_id)
    # The model's ContactField enum: CUSTOMER_ENDPOINT, ADDITIONAL_EMAIL_RECIPIENTS, EMAIL_SUBJECT.
    with pytest.raises(ClientError, match=r"ValidationException.*CUSTOMER_ENDPOINT"):
        connect.delete_contact_data(InstanceId="instance-1", ContactId=contact_id, ContactFields=["PHONE_NUMBER"])


def test_a_number_erased_with_no_connect_stack_reads_no_archived_message(aws, fakes, account, monkeypatch):
    """GetObject with a VersionId needs s3:GetObjectVersion, which the page grants only with a Connect stack."""
    real_client = aws.client

    def client(service, **kwargs):
        made = real_client(service, **kwargs)
        if service == "s3":
            def refuse(**_params):
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
            made.get_object = refuse
        return made

    monkeypatch.setattr(aws, "client", client)
    report = erase_person(ANA_PHONE, aws, account["archive"], account["stacks"])
    assert (outcome(report, "archive").outcome, outcome(report, "archive").count) == (erasure.REMOVED, 1)


def test_an_opt_out_recorded_only_in_a_profile_survives_the_erasure(aws, fakes, account):
    """No contact list: the profile was the only record of the opt-out, and the senders' consent check reads it."""
    stacks = [Stack("due-import", {"ProfilesDomainName": DOMAIN})]
    report = erase_person(ANA, aws, None, stacks)

    assert outcome(report, "profile opt-out").outcome == erasure.KEPT
    store = ProfileStore(aws.client("customer-profiles"), DOMAIN, object_type="")
    consent = Consent(aws.client("sesv2"), profile_store=store)
    assert consent.refusal(ANA.lower(), {}) == "opted out in the person's profile (email_opt_out)"
    [kept] = store.find(email=ANA.lower())
    assert set(kept) - {"ProfileId", "FoundByItems"} == {"EmailAddress", "Attributes"}  # nothing else of Ana


def test_a_number_opted_out_in_its_profile_keeps_it_with_the_number_alone(aws, fakes, account):
    profiles = aws.client("customer-profiles")
    profiles.create_profile(DomainName=DOMAIN, PhoneNumber="+14255550199", FirstName="Cy",
                            Attributes={"sms_opt_out": "true", "city": "Porto"})
    erase_person("+14255550199", aws, None, [Stack("due-import", {"ProfilesDomainName": DOMAIN})])
    [kept] = ProfileStore(profiles, DOMAIN, object_type="").find(phone="+14255550199")
    assert (kept["PhoneNumber"], kept["Attributes"], "FirstName" in kept) == (
        "+14255550199", {"sms_opt_out": "true"}, False)


def test_a_failure_that_is_not_an_aws_answer_is_reported_and_the_command_still_prints(aws, fakes, account, capsys,
                                                                                       monkeypatch):
    real_client = aws.client

    def client(service, **kwargs):
        made = real_client(service, **kwargs)
        if service == "customer-profiles":
            def unreachable(**_params):
                raise EndpointConnectionError(endpoint_url="https://profile.us-east-1.amazonaws.com")
            made.search_profiles = unreachable
        return made

    monkeypatch.setattr(aws, "client", client)
    aws.client("cloudformation").create_stack(
        StackName="due-archive", TemplateBody=json.dumps(TEMPLATE).replace("SECRET_ARN", account["secret_arn"]))
    assert command.main(["--address", ANA, "--archive-stack", "due-archive"], session=aws) == 1
    stores = {s["store"]: s for s in json.loads(capsys.readouterr().out)["stores"]}
    assert stores["archive"]["outcome"] == erasure.REMOVED
    assert (stores["profiles"]["outcome"], stores["profiles"]["codes"]) == (
        erasure.FAILED, {"EndpointConnectionError": 1})


def test_the_command_prints_what_was_done_when_an_unexpected_error_stops_it(aws, fakes, account, capsys,
                                                                           monkeypatch):
    aws.client("cloudformation").create_stack(
        StackName="due-archive", TemplateBody=json.dumps(TEMPLATE).replace("SECRET_ARN", account["secret_arn"]))

    def broken(self, stack):
        raise RuntimeError("a bug")

    monkeypatch.setattr(erasure._Eraser, "contact_list", broken)
    with pytest.raises(RuntimeError):
        command.main(["--address", ANA, "--archive-stack", "due-archive"], session=aws)
    printed = json.loads(capsys.readouterr().out)
    assert {s["store"]: s["outcome"] for s in printed["stores"]}["archive"] == erasure.REMOVED


def test_a_contact_kept_under_the_files_spelling_is_found(aws, fakes, account, monkeypatch):
    """A list whose keys are compared with case: the entry as the import wrote it, and another --also-as."""
    contacts = fakes.sesv2.contact_lists[CONTACTS]["contacts"]
    contacts.clear()
    for address in (ANA, "ana.s@example.com"):
        contacts[address] = {"EmailAddress": address, "UnsubscribeAll": False, "TopicPreferences": []}

    def exact(operation):
        def answer(ContactListName, EmailAddress, **_kwargs):
            contact = contacts.get(EmailAddress)
            if contact is None:
                raise FakeError("NotFoundException", "contact not found", 404)
            if operation == "delete":
                del contacts[EmailAddress]
                return {}
            return {"ContactListName": ContactListName, **contact}
        return answer

    monkeypatch.setattr(fakes.sesv2, "get_contact", exact("get"))
    monkeypatch.setattr(fakes.sesv2, "delete_contact", exact("delete"))
    report = erase_person(ANA, aws, None, [Stack("due-import", {"ContactListName": CONTACTS})],
                          also_as=["ana.s@example.com"])
    assert (outcome(report, "contact list").outcome, outcome(report, "contact list").count) == (erasure.REMOVED, 2)
    assert contacts == {}


def test_an_address_item_without_a_status_is_removed_and_a_users_own_table_left_to_them(aws, fakes, account):
    account["dynamodb"].put_item(TableName="addresses", Item={"email": {"S": "ana.silva@example.com"},
                                                              "name": {"S": "Ana"}})
    report = erase_person(ANA, aws, None, [Stack("due-feedback", {"AddressTableName": "addresses"})])
    assert outcome(report, "address table").outcome == erasure.REMOVED
    assert [i["email"]["S"] for i in account["dynamodb"].scan(TableName="addresses")["Items"]] == [BO]

    own = erase_person(BO, aws, None, [Stack("due-feedback", {"AddressTableName": "customers"},
                                             {"ExistingAddressTableName": "customers"})])
    assert outcome(own, "address table").outcome == erasure.CANNOT
    assert len(account["dynamodb"].scan(TableName="addresses")["Items"]) == 1


def test_more_than_a_thousand_versions_go_in_two_delete_calls(aws, fakes, account):
    s3 = account["s3"]
    key = message(BO, "bo-0").key(SECRET.encode())
    for n in range(1000):  # 1,001 versions of Bo's message with the one the fixture wrote
        s3.put_object(Bucket=BUCKET, Key=key, Body=f"version {n}".encode())
    calls = []
    report = erase_person(BO, _Recording(aws, calls), account["archive"], [])
    assert (outcome(report, "archive").outcome, outcome(report, "archive").count) == (erasure.REMOVED, 1001)
    assert key not in keys_left(s3)
    assert calls.count(("s3", "DeleteObjects")) == 2
    assert calls.count(("s3", "ListObjectVersions")) >= 2  # moto answers 1,000 a page at most


def test_the_mfa_code_goes_with_every_delete(aws, fakes, account):
    calls = []
    erase_person(ANA, _Recording(aws, calls, keep_params=True), account["archive"], [], mfa="arn:mfa 123456")
    deletes = [params for operation, params in calls if operation == ("s3", "DeleteObjects")]
    assert deletes and all(params.get("MFA") == "arn:mfa 123456" for params in deletes)


class _Recording:
    """A boto3 session whose clients record each call (service, operation) as it is sent."""

    def __init__(self, session, calls: list, keep_params: bool = False):
        self._session, self._calls, self._keep = session, calls, keep_params

    def client(self, service, **kwargs):
        made = self._session.client(service, **kwargs)

        def record(params, model, **_kwargs):
            call = (service, model.name)
            self._calls.append((call, dict(params)) if self._keep else call)

        # After provide-client-params, where the eraser adds DeleteObjects' MFA: the parameters as sent.
        made.meta.events.register("before-parameter-build", record)
        return made


def test_connect_contacts_are_not_looked_for_without_the_archive_or_in_voice_mode(aws, fakes, account):
    stacks = [Stack("due-connect", {}, {"ConnectInstanceId": "instance-1", "Channel": "Connect"}),
              Stack("due-voice", {}, {"ConnectInstanceId": "instance-2", "Channel": "EndUserMessagingVoice"})]
    report = erase_person(ANA_PHONE, aws, None, stacks)
    assert [(s.resource, s.outcome) for s in report.stores if s.store == "Connect contact records"] == [
        ("instance-1", erasure.CANNOT)]


def test_a_dry_run_reports_what_would_go_and_deletes_nothing(aws, fakes, account):
    before = keys_left(account["s3"])
    report = erase_person(ANA, aws, account["archive"], account["stacks"], dry_run=True)

    assert (outcome(report, "archive").outcome, outcome(report, "archive").count) == (erasure.WOULD_REMOVE, 5)
    assert (outcome(report, "profiles").outcome, outcome(report, "profiles").count) == (erasure.WOULD_REMOVE, 2)
    assert outcome(report, "contact list").outcome == erasure.WOULD_REMOVE
    assert outcome(report, "auto reply window").outcome == erasure.WOULD_REMOVE
    assert keys_left(account["s3"]) == before
    assert len(fakes.profiles.profiles) == 3
    assert len(fakes.sesv2.contact_lists[CONTACTS]["contacts"]) == 2
    assert len(account["dynamodb"].scan(TableName="reply-log")["Items"]) == 2
    assert not fakes.profiles.calls_of("DeleteProfile") and not fakes.sesv2.calls_of("DeleteContact")


def test_a_person_found_nowhere_is_reported_as_nothing_found(aws, fakes, account):
    report = erase_person("nobody@example.com", aws, account["archive"], account["stacks"])
    assert {outcome(report, s).outcome for s in ("archive", "profiles", "contact list", "auto reply window")} == {
        erasure.NOTHING_FOUND}
    assert not report.failed


def test_versions_object_lock_holds_are_reported_refused_and_the_rest_deleted(aws, fakes, account):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="locked-archive", ObjectLockEnabledForBucket=True)
    writer = ArchiveWriter(s3, "locked-archive", SECRET.encode())
    writer.write(message(ANA, "free"))
    held = message(ANA, "held").key(SECRET.encode())
    s3.put_object(Bucket="locked-archive", Key=held, Body=b"kept by law", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365))
    locked = Stack("due-locked", {"ArchiveBucketName": "locked-archive",
                                  "RecipientSecretArn": account["secret_arn"]})

    report = erase_person(ANA, aws, locked, [])

    archive = outcome(report, "archive")
    assert (archive.outcome, archive.count, archive.codes) == (erasure.REFUSED, 1, {"AccessDenied": 1})
    assert "1 deleted" in archive.reason
    assert [v["Key"] for v in s3.list_object_versions(Bucket="locked-archive")["Versions"]] == [held]
    assert report.failed


def test_a_store_that_fails_is_reported_and_the_others_still_erased(aws, fakes, account):
    fakes.profiles.fail_next("DeleteProfile", "AccessDeniedException", status=403)
    report = erase_person(ANA, aws, account["archive"], account["stacks"])

    assert (outcome(report, "profiles").outcome, outcome(report, "profiles").codes) == (
        erasure.FAILED, {"AccessDeniedException": 1})
    assert outcome(report, "contact list").outcome == erasure.REMOVED
    assert outcome(report, "archive").outcome == erasure.REMOVED
    assert report.failed


def test_an_address_that_is_neither_email_nor_e164_is_refused():
    assert Person.of(" Ana@Example.COM ") == Person("ana@example.com", "email", ("Ana@Example.COM",))
    assert Person.of("ana@example.com", ["Ana@Example.com", "ana@example.com"]).spellings == [
        "ana@example.com", "Ana@Example.com"]
    assert Person.of("+14255550182").archive_channel == "sms"
    with pytest.raises(ValueError, match=r"E\.164"):
        Person.of("425-555-0182")


TEMPLATE = {
    "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
    "Parameters": {"AddressKeyAttribute": {"Type": "String", "Default": "email"}},
    "Outputs": {"ArchiveBucketName": {"Value": BUCKET}, "RecipientSecretArn": {"Value": "SECRET_ARN"},
                "ProfilesDomainName": {"Value": DOMAIN}, "ContactListName": {"Value": CONTACTS}},
}


def test_the_command_reads_the_stacks_prints_json_and_exits_by_what_was_refused(aws, fakes, account, capsys):
    cloudformation = aws.client("cloudformation")
    body = json.dumps(TEMPLATE).replace("SECRET_ARN", account["secret_arn"])
    cloudformation.create_stack(StackName="due-archive", TemplateBody=body)

    assert command.main(["--address", ANA, "--archive-stack", "due-archive", "--dry-run"], session=aws) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] is True
    assert {s["store"]: s["count"] for s in printed["stores"] if s["outcome"] == erasure.WOULD_REMOVE} == {
        "archive": 5, "profiles": 2, "contact list": 1}

    fakes.sesv2.fail_next("DeleteContact", "BadRequestException")
    assert command.main(["--address", ANA, "--archive-stack", "due-archive"], session=aws) == 1
    captured = capsys.readouterr()
    assert {s["store"]: s["outcome"] for s in json.loads(captured.out)["stores"]} == {
        "archive": erasure.REMOVED, "profiles": erasure.REMOVED, "profile opt-out": erasure.KEPT,
        "contact list": erasure.FAILED, "SES account suppression list": erasure.NOTHING_FOUND}
    assert "failed:" in captured.err and "ana.silva" not in captured.err.lower()
    assert command.main(["--address", "ana", "--archive-stack", "due-archive"], session=aws) == 2
    assert command.main(["--address", ANA, "--archive-stack", "no-such-stack"], session=aws) == 2


def test_the_pinpoint_mode_events_bucket_is_reported_as_what_cannot_be_removed_here(aws, fakes, account):
    archive_stack = Stack("due-archive", {**account["archive"].outputs, "PinpointEventsBucketName": "events-bucket"})
    report = erase_person(ANA, aws, archive_stack, [])
    events = outcome(report, "Pinpoint events bucket")
    assert (events.outcome, events.resource) == (erasure.CANNOT, "events-bucket")
    assert not [s for s in report.stores if s.store == "unqueued send events"]  # Mode Current keeps none

    pinpoint_mode = Stack("due-archive", archive_stack.outputs, {"Mode": "Pinpoint"})
    unqueued = outcome(erase_person(ANA, aws, pinpoint_mode, []), "unqueued send events")
    assert (unqueued.outcome, unqueued.resource) == (erasure.CANNOT, f"{BUCKET}/unqueued/")


PAGE = pathlib.Path(__file__).parents[2] / "docs" / "Erasing_a_person.md"
# The IAM action each call needs (service authorization reference; S3 API reference, Permissions: a GetObject with
# a VersionId needs s3:GetObjectVersion, and DeleteObjects with version ids s3:DeleteObjectVersion).
IAM_PREFIX = {"customer-profiles": "profile", "sesv2": "ses", "pinpoint-sms-voice-v2": "sms-voice"}
S3_ACTION = {"ListObjectVersions": "ListBucketVersions", "DeleteObjects": "DeleteObjectVersion"}


def iam_action(call: tuple[str, str], params: dict) -> str:
    service, operation = call
    if service == "s3":
        operation = S3_ACTION.get(operation, operation)
        if operation == "GetObject" and params.get("VersionId"):
            operation = "GetObjectVersion"
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def test_the_page_lists_exactly_the_actions_the_command_calls(aws, fakes, account, capsys):
    calls: list = []
    recording = _Recording(aws, calls, keep_params=True)
    aws.client("cloudformation").create_stack(
        StackName="due-archive", TemplateBody=json.dumps(TEMPLATE).replace("SECRET_ARN", account["secret_arn"]))
    command.main(["--address", ANA, "--archive-stack", "due-archive"], session=recording)
    account["sesv2"].create_contact(ContactListName=CONTACTS, EmailAddress="cy@example.com", UnsubscribeAll=True)
    erase_person("cy@example.com", recording, None, account["stacks"])
    erase_person(BO, recording, None, account["stacks"])
    connect = aws.client("connect")
    contact_id = connect.start_outbound_voice_contact(DestinationPhoneNumber=ANA_PHONE, ContactFlowId="flow",
                                                      InstanceId="instance-1", SourcePhoneNumber="+18445550100",
                                                      Attributes={"first_name": "Ana"})["ContactId"]
    fakes.connect.disconnect(contact_id)
    ArchiveWriter(account["s3"], BUCKET, SECRET.encode()).write(message(ANA_PHONE, contact_id, "voice"))
    erase_person(ANA_PHONE, recording, account["archive"], [
        *account["stacks"], Stack("due-connect", {}, {"ConnectInstanceId": "instance-1", "Channel": "Connect"})])
    called = {iam_action(call, params) for call, params in calls}

    section = PAGE.read_text().split("## Permissions the person running it needs")[1].split("\n## ")[0]
    listed = {a for a in re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", section) if not a.startswith("kms:")}
    assert listed == called
