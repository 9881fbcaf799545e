"""A batch of events applied to Customer Profiles and Pinpoint endpoints (the fakes): one write per person."""

from __future__ import annotations

import base64
import json

import pytest

from due import aws as due_aws
from due.event_segmentation.applier_handler import MAX_SET_ASIDE_BYTES, apply_records, set_aside_body
from due.event_segmentation.applier_handler import set_aside as set_aside_messages
from due.event_segmentation.apply import EndpointsTarget, ProfilesTarget, apply_batch
from due.event_segmentation.events import EngagementEvent, Person, forwarded, partition_key
from due.event_segmentation.forwarder_handler import forward
from due.event_segmentation.rule_source import CachedRules, read_rules
from due.event_segmentation.rules import Mode, RuleSetError, default_rules, load_rules
from due.profiles import ProfileStore

DOMAIN = "people"


def event(event_type: str, person: Person, **attributes) -> EngagementEvent:
    return EngagementEvent(event_type, person, "2026-11-27T10:00:00.000Z", attributes)


@pytest.fixture
def profiles(fakes, aws):
    client = due_aws.client("customer-profiles")
    client.create_domain(DomainName=DOMAIN, DefaultExpirationDays=30)
    return client


@pytest.fixture
def target(profiles):
    return ProfilesTarget(ProfileStore(profiles, DOMAIN, ""))


def create(profiles, **fields) -> str:
    return profiles.create_profile(DomainName=DOMAIN, **fields)["ProfileId"]


def attributes(fakes, profile_id: str) -> dict[str, str]:
    return fakes.profiles.profiles[profile_id]["Attributes"]


def test_many_events_of_few_people_are_one_write_each(fakes, profiles, target):
    ana = create(profiles, EmailAddress="ana@example.com")
    bo = create(profiles, PhoneNumber="+14255550182")
    events = [event("_email.open", Person(email="ana@example.com")) for _ in range(30)]
    events += [event("webinar.registration", Person(phone="+14255550182"), webinar_id=f"webinar{n % 3}")
               for n in range(30)]
    outcome = apply_batch(events, default_rules(), target)
    assert len(fakes.profiles.calls_of("UpdateProfile")) == 2 == outcome.written
    assert attributes(fakes, ana) == {"email_opened": "true"}
    assert attributes(fakes, bo) == {f"webinar_registration_webinar{n}": "true" for n in range(3)}


def test_a_person_without_a_profile_is_counted_and_nothing_is_created(fakes, profiles, target):
    outcome = apply_batch([event("_email.open", Person(email="nobody@example.com"))], default_rules(), target)
    assert (outcome.no_profile, outcome.written, outcome.created) == (1, 0, 0)
    assert fakes.profiles.profiles == {}


def test_a_create_profile_rule_creates_the_person_with_the_change(fakes, profiles, target):
    rules = load_rules(json.dumps({"rules": [{"event_type": "signup", "create_profile": True,
                                              "set": {"attribute": "signed_up", "from": "timestamp"}}]}))
    outcome = apply_batch([event("signup", Person(email="new@example.com"))], rules, target)
    assert outcome.created == 1
    [profile] = fakes.profiles.profiles.values()
    assert (profile["EmailAddress"], profile["Attributes"]) == ("new@example.com",
                                                                {"signed_up": "2026-11-27T10:00:00.000Z"})


def test_an_address_two_profiles_share_is_not_guessed_between(fakes, profiles, target):
    for _ in range(2):
        create(profiles, EmailAddress="family@example.com")
    outcome = apply_batch([event("_email.open", Person(email="family@example.com"))], default_rules(), target)
    assert (outcome.ambiguous, outcome.written) == (1, 0)
    assert fakes.profiles.calls_of("UpdateProfile") == []


def test_a_count_goes_on_from_the_profiles_current_value(fakes, profiles, target):
    ana = create(profiles, EmailAddress="ana@example.com", Attributes={"clicks": "4"})
    rules = load_rules(json.dumps({"rules": [{"event_type": "_email.click", "count": {"attribute": "clicks"}}]}))
    apply_batch([event("_email.click", Person(email="ana@example.com"))] * 3, rules, target)
    assert attributes(fakes, ana) == {"clicks": "7"}


def test_a_removal_writes_the_empty_string_that_removes_the_member(fakes, profiles, target):
    ana = create(profiles, EmailAddress="ana@example.com", Attributes={"webinar_registration_webinar5": "true"})
    rules = load_rules(json.dumps({"rules": [{"event_type": "webinar.cancellation", "remove": {
        "attribute": "webinar_registration", "from": "attributes.webinar_id"}}]}))
    apply_batch([event("webinar.cancellation", Person(email="ana@example.com"), webinar_id="webinar5")], rules,
                target)
    assert attributes(fakes, ana) == {}


def test_one_persons_failed_write_fails_only_their_events(fakes, profiles, target, no_backoff):
    create(profiles, EmailAddress="ana@example.com")
    bo = create(profiles, EmailAddress="bo@example.com")
    fakes.profiles.fail_next("UpdateProfile", "InternalServerException", times=5, status=500)  # botocore's 5 tries
    events = [event("_email.open", Person(email=who)) for who in ("ana@example.com", "bo@example.com")]
    outcome = apply_batch(events, default_rules(), target)
    assert list(outcome.failed) == ["email:ana@example.com"]
    assert outcome.failed["email:ana@example.com"] == ([0], "InternalServerException")
    assert attributes(fakes, bo) == {"email_opened": "true"}


def test_throttling_is_retried_by_the_client_and_the_write_lands(fakes, profiles, target, no_backoff):
    ana = create(profiles, EmailAddress="ana@example.com")
    fakes.profiles.fail_next("SearchProfiles", "ThrottlingException", times=2, status=429)
    fakes.profiles.fail_next("UpdateProfile", "ThrottlingException", times=2, status=429)
    outcome = apply_batch([event("_email.open", Person(email="ana@example.com"))], default_rules(), target)
    assert (outcome.written, outcome.failed) == (1, {})
    assert attributes(fakes, ana) == {"email_opened": "true"}


# --- Pinpoint mode ----------------------------------------------------------------------------------------
@pytest.fixture
def pinpoint(fakes, aws):
    return due_aws.client("pinpoint")


def test_pinpoint_mode_writes_100_endpoints_a_call_and_keeps_the_list_free_of_duplicates(fakes, pinpoint):
    for n in range(150):
        pinpoint.update_endpoint(ApplicationId="app", EndpointId=f"ep-{n}", EndpointRequest={
            "Attributes": {"webinar_registration": ["webinar2"]}})
    events = [event("webinar.registration", Person(endpoint_id=f"ep-{n}"), webinar_id=webinar)
              for n in range(150) for webinar in ("webinar5", "webinar2", "webinar5")]
    outcome = apply_batch(events, default_rules(Mode.PINPOINT), EndpointsTarget(pinpoint, "app"))
    assert (outcome.written, outcome.write_calls) == (150, 2)
    endpoint = pinpoint.get_endpoint(ApplicationId="app", EndpointId="ep-149")["EndpointResponse"]
    assert endpoint["Attributes"]["webinar_registration"] == ["webinar2", "webinar5"]


def test_pinpoint_mode_does_not_create_an_endpoint_no_rule_creates(fakes, pinpoint):
    outcome = apply_batch([event("_email.open", Person(endpoint_id="missing"))], default_rules(Mode.PINPOINT),
                          EndpointsTarget(pinpoint, "app"))
    assert (outcome.no_profile, outcome.write_calls) == (1, 0)


# --- the applier's records ----------------------------------------------------------------------------------
def kinesis_records(*payloads: bytes) -> list[dict]:
    return [{"kinesis": {"sequenceNumber": str(100 + n), "data": base64.b64encode(p).decode()}}
            for n, p in enumerate(payloads)]


def queue(aws) -> str:
    return aws.client("sqs").create_queue(QueueName="rejected")["QueueUrl"]


def set_aside(aws, url: str) -> list[dict]:
    messages = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return [json.loads(m["Body"]) for m in messages]


def test_a_malformed_record_and_a_refused_event_are_set_aside_with_the_reason_and_the_rest_applied(
        fakes, aws, profiles, target):
    ana = create(profiles, EmailAddress="ana@example.com")
    url = queue(aws)
    records = kinesis_records(
        b"not json",
        json.dumps({"event_type": "webinar.registration", "person": {"email": "ana@example.com"}}).encode(),
        json.dumps({"event_type": "webinar.registration", "person": {"email": "ana@example.com"},
                    "attributes": {"webinar_id": "webinar5"}}).encode())
    response = apply_records(records, default_rules(), target, aws.client("sqs"), url)
    assert response == {"batchItemFailures": []}
    reasons = {item["sequence_number"]: item["reasons"] for item in set_aside(aws, url)}
    assert set(reasons) == {"100", "101"}
    assert "JSON" in reasons["100"][0]
    assert "webinar registration" in reasons["101"][0] and "attributes.webinar_id" in reasons["101"][0]
    assert attributes(fakes, ana) == {"webinar_registration_webinar5": "true"}


def test_the_records_of_a_person_whose_write_failed_are_reported_for_retry(fakes, aws, profiles, target, no_backoff):
    create(profiles, EmailAddress="ana@example.com")
    create(profiles, EmailAddress="bo@example.com")
    fakes.profiles.fail_next("SearchProfiles", "InternalServerException", times=5, status=500)
    records = kinesis_records(*(json.dumps({"event_type": "_email.open", "person": {"email": who}}).encode()
                                for who in ("ana@example.com", "bo@example.com", "ana@example.com")))
    response = apply_records(records, default_rules(), target, aws.client("sqs"), queue(aws))
    assert response == {"batchItemFailures": [{"itemIdentifier": "100"}, {"itemIdentifier": "102"}]}


def test_forwarded_events_keep_their_shape_through_the_stream(fakes, aws, profiles, target):
    ana = create(profiles, EmailAddress="ana@example.com")
    records = kinesis_records(forwarded(event("_email.open", Person(email="ana@example.com"))))
    assert apply_records(records, default_rules(), target, aws.client("sqs"), queue(aws)) == {"batchItemFailures": []}
    assert attributes(fakes, ana) == {"email_opened": "true"}


# --- the forwarder ---------------------------------------------------------------------------------------
def ses_open(*recipients: str) -> str:
    return json.dumps({"eventType": "Open", "mail": {"timestamp": "2026-11-27T10:00:00.000Z", "messageId": "m-1",
                                                     "destination": list(recipients), "tags": {}},
                       "open": {"timestamp": "2026-11-27T10:05:00.000Z"}})


def stream(aws) -> str:
    aws.client("kinesis").create_stream(StreamName="events", ShardCount=1)
    return "events"


def stream_records(aws) -> list[dict]:
    kinesis = aws.client("kinesis")
    shard = kinesis.describe_stream(StreamName="events")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="events", ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return kinesis.get_records(ShardIterator=iterator)["Records"]


def test_the_forwarder_puts_each_person_partitioned_by_person_and_fails_only_bad_messages(aws):
    name = stream(aws)
    failed = forward({"a": ses_open("Ana@Example.com"), "b": "{}", "c": ses_open("x@example.com", "y@example.com")},
                     aws.client("kinesis"), name, sleep=lambda _: None)
    assert failed == {"b"}
    [record] = stream_records(aws)  # the open of a message to two people names nobody: not forwarded
    assert record["PartitionKey"] == partition_key(Person(email="ana@example.com"))
    assert "ana@example.com" not in record["PartitionKey"]
    assert json.loads(record["Data"])["forwarded"]["person"]["email"] == "ana@example.com"


# --- where the rules come from -----------------------------------------------------------------------------
def test_rules_come_from_s3_when_a_key_is_given_and_are_reread_after_the_cache_time(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="rules")
    s3.put_object(Bucket="rules", Key="r.json", Body=json.dumps({"rules": [
        {"event_type": "a", "set": {"attribute": "x", "value": "1"}}]}))
    now = [0.0]
    cached = CachedRules(s3, "", "rules", "r.json", "", "profiles", clock=lambda: now[0])
    assert [r.event_type for r in cached.get().rules] == ["a"]
    s3.put_object(Bucket="rules", Key="r.json", Body=json.dumps({"rules": [
        {"event_type": "b", "set": {"attribute": "x", "value": "1"}}]}))
    now[0] = 100.0
    assert [r.event_type for r in cached.get().rules] == ["a"]
    now[0] = 301.0
    assert [r.event_type for r in cached.get().rules] == ["b"]


def test_a_missing_rules_object_and_an_invalid_rule_set_are_refused_naming_the_problem(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="rules")
    with pytest.raises(RuleSetError, match=r"the rule set at s3://rules/missing\.json cannot be read"):
        read_rules(s3, "", "rules", "missing.json", "", "profiles")
    with pytest.raises(RuleSetError, match=r"rule 1 \('bad'\): attribute 'sms_opt_out' belongs to another writer"):
        read_rules(s3, json.dumps({"rules": [{"name": "bad", "event_type": "_SMS.OPTOUT",
                                              "set": {"attribute": "sms_opt_out", "value": "true"}}]}),
                   "", "", "", "profiles")
    assert len(read_rules(s3, "", "", "", "", "pinpoint").rules) == 2  # empty: the seed rules


def test_a_refusal_retrying_cannot_change_sets_the_person_aside_and_a_5xx_is_retried(fakes, pinpoint, no_backoff):
    fakes.pinpoint.fail_next("GetEndpoint", "ForbiddenException", status=403)
    fakes.pinpoint.fail_next("GetEndpoint", "InternalServerErrorException", status=500, times=5)
    outcome = apply_batch([event("_email.open", Person(endpoint_id="ep-1")),
                           event("_email.open", Person(endpoint_id="ep-2"))], default_rules(Mode.PINPOINT),
                          EndpointsTarget(pinpoint, "app"))
    assert outcome.rejected == {"endpoint_id:ep-1": ([0], "ForbiddenException")}
    assert outcome.failed == {"endpoint_id:ep-2": ([1], "InternalServerErrorException")}


def test_a_profile_merged_away_between_lookup_and_write_is_set_aside_not_retried(fakes, aws, profiles, target):
    create(profiles, EmailAddress="ana@example.com")
    fakes.profiles.fail_next("UpdateProfile", "ResourceNotFoundException", status=404)
    url = queue(aws)
    records = kinesis_records(json.dumps({"event_type": "_email.open",
                                          "person": {"email": "ana@example.com"}}).encode())
    assert apply_records(records, default_rules(), target, aws.client("sqs"), url) == {"batchItemFailures": []}
    [item] = set_aside(aws, url)
    assert item["reasons"] == ["the service refused the person's change: ResourceNotFoundException"]


def test_pinpoint_mode_finds_the_one_endpoint_a_batch_was_refused_for(fakes, pinpoint):
    for n in range(3):
        pinpoint.update_endpoint(ApplicationId="app", EndpointId=f"ep-{n}", EndpointRequest={"ChannelType": "EMAIL"})
    fakes.pinpoint.fail_next("UpdateEndpointsBatch", "BadRequestException", status=400)  # the call of all three
    fakes.pinpoint.fail_next("UpdateEndpointsBatch", "BadRequestException", status=400)  # then ep-0 alone
    events = [event("_email.open", Person(endpoint_id=f"ep-{n}")) for n in range(3)]
    outcome = apply_batch(events, default_rules(Mode.PINPOINT), EndpointsTarget(pinpoint, "app"))
    assert outcome.rejected == {"endpoint_id:ep-0": ([0], "BadRequestException")}
    assert (outcome.written, outcome.write_calls) == (2, 4)


def test_a_profile_is_created_only_for_an_address_or_number(fakes, profiles, target):
    rules = load_rules(json.dumps({"rules": [{"event_type": "signup", "create_profile": True,
                                              "set": {"attribute": "signed_up", "value": "true"}}]}))
    outcome = apply_batch([event("signup", Person(profile_id="a" * 32))], rules, target)
    assert outcome.rejected == {f"profile_id:{'a' * 32}": ([0], "a profile is created only for an email address "
                                                                "or number")}
    assert fakes.profiles.profiles == {}


def test_an_event_naming_nobody_the_mode_writes_to_is_set_aside(fakes, aws, profiles, target):
    url = queue(aws)
    records = kinesis_records(json.dumps({"event_type": "_email.open", "person": {"endpoint_id": "ep-1"}}).encode())
    apply_records(records, default_rules(), target, aws.client("sqs"), url)
    [item] = set_aside(aws, url)
    assert "names nobody the profiles mode can write to" in item["reasons"][0]


def test_set_aside_messages_fit_sqs_however_long_the_record(fakes, aws):
    url = queue(aws)
    bodies = [set_aside_body(str(n), ["bad"], ("é\u0001" * 200_000).encode()) for n in range(12)]
    assert all(len(body.encode()) <= MAX_SET_ASIDE_BYTES for body in bodies)
    assert json.loads(bodies[0])["data_truncated"] is True
    set_aside_messages(aws.client("sqs"), url, bodies)  # more than one batch's 256 KiB and 10 entries
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "12"


def test_a_failed_reread_keeps_the_rules_in_use_and_a_pinned_version_is_read_once(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="rules")
    s3.put_bucket_versioning(Bucket="rules", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="rules", Key="r.json", Body=json.dumps({"rules": [
        {"event_type": "a", "set": {"attribute": "x", "value": "1"}}]}))["VersionId"]
    now = [0.0]
    unpinned = CachedRules(s3, "", "rules", "r.json", "", "profiles", clock=lambda: now[0])
    pinned = CachedRules(s3, "", "rules", "r.json", first, "profiles", clock=lambda: now[0])
    assert unpinned.get().rules[0].event_type == pinned.get().rules[0].event_type == "a"
    s3.put_object(Bucket="rules", Key="r.json", Body=b"{not a rule set")
    now[0] = 301.0
    assert unpinned.get().rules[0].event_type == "a"  # the bad upload is logged, the stream goes on
    s3.put_object(Bucket="rules", Key="r.json", Body=json.dumps({"rules": [
        {"event_type": "b", "set": {"attribute": "x", "value": "1"}}]}))
    now[0] = 700.0
    assert unpinned.get().rules[0].event_type == "b"
    assert pinned.get().rules[0].event_type == "a"


def test_pinpoint_mode_refuses_a_rule_that_would_create_endpoints():
    with pytest.raises(RuleSetError, match="Pinpoint mode does not create endpoints"):
        load_rules(json.dumps({"rules": [{"event_type": "signup", "create_profile": True,
                                          "set": {"attribute": "x", "value": "1"}}]}), Mode.PINPOINT)
