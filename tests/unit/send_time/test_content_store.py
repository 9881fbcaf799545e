"""#12's S3 store: content per campaign and locale, the default locale behind it, fetched once per version."""

import json

import pytest

from due import aws as due_aws
from due.send_time import content_store
from due.send_time.content_store import BadContent, CampaignContentMissing, ContentStore, normalised_locale
from due.send_time.lookup import Recipient
from tests.unit.send_time.conftest import put_content


@pytest.fixture
def store(content_bucket, clock):
    return ContentStore(due_aws.client("s3"), content_bucket, "content/", "en-us", 2, clock=clock)


def test_locales_are_read_however_written():
    assert [normalised_locale(x) for x in ("es-mx", "ES_mx", "EN", " fr_CA ", "zh_Hant_TW")] == [
        "es_MX", "es_MX", "en", "fr_CA", "zh_Hant_TW"]


def test_each_locale_gets_its_own_content_then_its_language_then_the_default(store):
    found = store.look_up("spring", [Recipient("1", "", locale="es-MX"), Recipient("2", "", locale="es_AR"),
                                     Recipient("3", "", locale="de_DE"), Recipient("4", "", locale="")])
    assert found.data["1"]["subject"] == "Primavera MX {{first_name}}"
    assert "text" not in found.data["1"]  # es_MX has no text part
    assert found.data["2"]["subject"] == "Primavera {{first_name}}"  # es_AR -> es
    assert found.data["3"]["subject"] == found.data["4"]["subject"] == "Spring {{first_name}}"  # -> en_US


def test_a_campaign_without_default_content_is_refused_before_sending_and_missing_per_recipient(store):
    with pytest.raises(CampaignContentMissing, match=r"s3://content/content/autumn/en_US\.json"):
        store.require("autumn")
    assert store.look_up("autumn", [Recipient("1", "", locale="es")]).missing == {"1"}
    assert store.require("spring").subject == "Spring {{first_name}}"


def test_content_is_fetched_once_per_locale_and_version_across_many_chunks(store, clock):
    for _ in range(20):  # 20 chunks of one campaign, two locales
        store.look_up("spring", [Recipient(str(i), "", locale="es_MX" if i % 2 else "en_US") for i in range(50)])
    assert store.fetches == 2 and store.requests == 2


def test_after_the_revalidation_time_an_unchanged_object_costs_a_304_and_a_changed_one_is_fetched(store, clock):
    store.content_for("spring", "en_US")
    clock.now += content_store.REVALIDATE_SECONDS
    assert store.content_for("spring", "en_US").subject == "Spring {{first_name}}"
    assert (store.fetches, store.revalidations) == (1, 1)
    put_content(due_aws.client("s3"), "content", "spring", "en_US", "Spring, new", text="t")
    clock.now += content_store.REVALIDATE_SECONDS
    assert store.content_for("spring", "en_US").subject == "Spring, new"
    assert store.fetches == 2


def test_a_locale_without_content_is_remembered_as_missing_for_a_while(store):
    for _ in range(5):
        store.content_for("spring", "de_DE")
    # de_DE and de once each, en_US once: later chunks in German ask S3 nothing
    assert store.requests == 3


def test_the_subject_becomes_one_line_no_longer_than_998_characters():
    content = content_store.parse_content(json.dumps({"subject": "a\r\n b" + "x" * 2000, "text": "t"}).encode(),
                                          "k", "e")
    assert content.subject.startswith("a b") and len(content.subject) == 998


@pytest.mark.parametrize(("document", "problem"), [
    ({"html": "<p/>"}, "no subject"), ({"subject": "s"}, "neither html nor text"), ("[1]", "no subject")])
def test_unusable_content_says_why(document, problem):
    with pytest.raises(BadContent, match=problem):
        content_store.parse_content(json.dumps(document).encode(), "k", "e")


def test_content_larger_than_ses_takes_inline_is_refused():
    body = json.dumps({"subject": "s", "html": "x" * content_store.MAX_CONTENT_BYTES}).encode()
    with pytest.raises(BadContent, match="bytes"):
        content_store.parse_content(body, "k", "e")


def test_a_slow_content_store_makes_recipients_late(content_bucket):
    import threading

    release = threading.Event()

    class Slow:
        def get_object(self, **kwargs):
            release.wait(5)
            raise AssertionError("too late to matter")

    found = ContentStore(Slow(), content_bucket, "content/", "en_US", 0.05).look_up(
        "spring", [Recipient("1", "", locale="en_US")])
    release.set()
    assert found.late == {"1"}


class _DeniedWhenMissing:
    """S3 as the roles see it on AWS: GetObject without s3:ListBucket answers a missing key 403 AccessDenied."""

    def __init__(self, s3):
        self._s3 = s3

    def get_object(self, **request):
        from botocore.exceptions import ClientError
        try:
            return self._s3.get_object(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchKey":
                raise
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject") from None


def test_a_missing_object_answered_403_as_on_aws_without_list_bucket_is_missing(content_bucket, clock):
    store = ContentStore(_DeniedWhenMissing(due_aws.client("s3")), content_bucket, "content/", "en-us", 2, clock=clock)
    found = store.look_up("spring", [Recipient("1", "", locale="es_AR"), Recipient("2", "", locale="de_DE")])
    assert found.data["1"]["subject"] == "Primavera {{first_name}}"  # es_AR (403) -> es
    assert found.data["2"]["subject"] == "Spring {{first_name}}"  # de_DE, de (403) -> en_US
    with pytest.raises(CampaignContentMissing):
        store.require("autumn")
