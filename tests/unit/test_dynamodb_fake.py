"""The benchmark's in-memory DynamoDB agrees with moto on everything AddressBook does."""

import random

import pytest

from due.email_feedback import EmailFeedback, FeedbackKind
from due.ses_event_processing.reputation import AddressBook, Policy, Reputation, SuppressionList
from due_local.dynamodb_fake import DynamoDbFake
from due_local.tables import create_table


def run_sequence(session) -> list[dict]:
    dynamodb = session.client("dynamodb")
    create_table(dynamodb, "t", "email")
    reputation = Reputation(SuppressionList(session.client("sesv2")), AddressBook(dynamodb, "t"), Policy(2))
    rng = random.Random(3)
    outcomes = []
    for _ in range(300):
        address = f"a{rng.randrange(20)}@example.com"
        kind = rng.choice(list(FeedbackKind))
        event_id = f"e{rng.randrange(250)}"  # collisions make duplicates
        at = f"2026-11-20T10:{rng.randrange(60):02d}:00.000Z"  # and out-of-order arrivals
        outcomes.append(reputation.apply(EmailFeedback(kind, (address,), event_id, at, "m")))
    items = dynamodb.scan(TableName="t")["Items"]
    for item in items:
        item["processed_event_ids"]["SS"] = sorted(item["processed_event_ids"]["SS"])
    return [outcomes, sorted(items, key=lambda item: item["email"]["S"])]


@pytest.fixture
def moto_result(aws, fakes):
    return run_sequence(aws)


def test_same_outcomes_and_items_as_moto(moto_result, aws):
    import boto3

    fresh = boto3.Session(region_name="us-east-1")
    from due_local.fakes import SesV2Fake

    SesV2Fake().attach(fresh)
    DynamoDbFake().attach(fresh)
    assert run_sequence(fresh) == moto_result


def test_unsupported_expressions_fail_loudly(aws):
    DynamoDbFake().attach(aws)
    dynamodb = aws.client("dynamodb")
    create_table(dynamodb, "t", "k")
    with pytest.raises(NotImplementedError):
        dynamodb.update_item(TableName="t", Key={"k": {"S": "x"}}, UpdateExpression="REMOVE a")
