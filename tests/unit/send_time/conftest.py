"""Shared pieces of the send-time tests: a clock that moves only when told, and stores as the templates make them."""

from __future__ import annotations

import json

import pytest

from due_local.tables import create_table


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def offers(aws):
    """#11's table, keyed by "id", with three people's offers."""
    dynamodb = aws.client("dynamodb")
    create_table(dynamodb, "offers", "id")
    for key, offer in (("c-1", "20% off boots"), ("c-2", "Free <b>socks</b> & laces"), ("c-3", "Two for one")):
        dynamodb.put_item(TableName="offers", Item={"id": {"S": key}, "Offer": {"S": offer},
                                                    "Points": {"N": "120"}, "Vip": {"BOOL": True},
                                                    "Tags": {"SS": ["a", "b"]}})
    return "offers"


def put_content(s3, bucket: str, campaign: str, locale: str, subject: str, html: str = "", text: str = "") -> None:
    s3.put_object(Bucket=bucket, Key=f"content/{campaign}/{locale}.json",
                  Body=json.dumps({"subject": subject, "html": html, "text": text}).encode())


@pytest.fixture
def content_bucket(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="content")
    put_content(s3, "content", "spring", "en_US", "Spring {{first_name}}", "<p>Hello {{first_name}}</p>", "Hello")
    put_content(s3, "content", "spring", "es", "Primavera {{first_name}}", "<p>Hola {{first_name}}</p>", "Hola")
    put_content(s3, "content", "spring", "es_MX", "Primavera MX {{first_name}}", "<p>Qué tal {{first_name}}</p>")
    return "content"
