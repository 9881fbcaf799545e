"""Audience files through the shared pipeline's row format: columns found however spelt, chunks per locale."""

import json

import pytest

from due.dropped_file import FileRefused
from due.send_time.audience import EmailRequest, campaign_of, row_format


def test_the_campaign_is_the_folder_the_file_is_dropped_in():
    assert campaign_of("b/incoming/spring-sale/list.csv@v1") == "spring-sale"
    assert campaign_of("b/incoming/list.csv@v1") == "default"


def test_rows_become_requests_with_their_columns_key_and_locale():
    fmt = row_format(chunk_size=50, key_column="id", locale_column="locale")
    fmt.check_header(["id", "Email Address", "First Name", "Locale"])
    request = fmt.parse("b/incoming/x/f.csv@v1", 7, ["c-1", " ana@example.com ", "Ana", "es-mx"])
    assert isinstance(request, EmailRequest)
    assert (request.address, request.key, request.locale) == ("ana@example.com", "c-1", "es_MX")
    assert request.fields == {"id": "c-1", "Email Address": " ana@example.com ", "First Name": "Ana",
                              "Locale": "es-mx"}
    assert EmailRequest.from_dict(json.loads(request.to_json())) == request


def test_a_bad_address_or_a_short_row_is_a_bad_row_with_its_reason():
    fmt = row_format(chunk_size=50)
    fmt.check_header(["email", "name"])
    assert "email" in fmt.parse("b/incoming/f.csv@v1", 1, ["not-an-address", "x"])
    assert fmt.parse("b/incoming/f.csv@v1", 2, ["a@example.com"]) == "expected 2 columns, found 1"


def test_a_file_without_an_email_column_is_refused():
    with pytest.raises(ValueError, match="no email column"):
        row_format(chunk_size=50).check_header(["id", "name"])


def test_rows_of_one_locale_share_a_group_and_groups_change_every_500_rows():
    fmt = row_format(chunk_size=50, locale_column="locale")
    fmt.check_header(["email", "locale"])

    def group(row, locale):
        return fmt.parse("b/incoming/f.csv@v1", row, ["a@example.com", locale]).message_group_id

    assert group(1, "es") == group(500, "es") != group(501, "es")
    assert group(1, "es") != group(1, "en") and len(group(1, "en")) <= 128


def test_an_unusual_locale_cell_still_gives_a_group_id_sqs_accepts():
    import re
    import string

    fmt = row_format(chunk_size=50, locale_column="locale")
    fmt.check_header(["email", "locale"])
    allowed = re.compile("[A-Za-z0-9" + re.escape(string.punctuation) + "]{1,128}")  # SQS's MessageGroupId

    def group(locale):
        return fmt.parse("b/incoming/f.csv@v1", 1, ["a@example.com", locale]).message_group_id

    for locale in ("pt BR", "français", "zh\u5b57", "en_US", ""):
        assert allowed.fullmatch(group(locale)), locale
    assert group("pt BR") != group("français") and group("pt BR") == group(" pt BR ")
    assert fmt.parse("b/incoming/f.csv@v1", 1, ["a@example.com", "pt BR"]).locale == "pt BR"


def test_the_same_file_row_and_address_always_give_the_same_deduplication_id():
    fmt = row_format(chunk_size=50)
    fmt.check_header(["email"])
    one = fmt.parse("b/incoming/f.csv@v1", 1, ["A@example.com"]).deduplication_id
    assert one == fmt.parse("b/incoming/f.csv@v1", 1, ["a@example.com"]).deduplication_id
    fmt.check_header(["email"])  # the pipeline checks each file's header at its start
    assert one != fmt.parse("b/incoming/f.csv@v2", 1, ["a@example.com"]).deduplication_id


def test_a_file_check_refuses_the_file_before_its_first_row():
    def refuse(file):
        raise FileRefused("campaign x has no content")

    fmt = row_format(chunk_size=50, check_file=refuse)
    fmt.check_header(["email"])
    with pytest.raises(FileRefused):
        fmt.parse("b/incoming/f.csv@v1", 1, ["a@example.com"])


def test_a_continued_file_reads_its_header_again(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="audience")
    s3.put_object(Bucket="audience", Key="incoming/f.csv", Body=b"email,first_name\na@example.com,A\n")
    fmt = row_format(chunk_size=50, s3=s3)  # no check_header: another invocation read the start
    request = fmt.parse("audience/incoming/f.csv@null", 1, ["a@example.com", "A"])
    assert request.fields == {"email": "a@example.com", "first_name": "A"}


def test_a_continued_file_is_not_checked_again(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="audience")
    s3.put_object(Bucket="audience", Key="incoming/f.csv", Body=b"email\na@example.com\nb@example.com\n")
    checked = []
    start = row_format(chunk_size=50, check_file=checked.append, s3=s3)
    start.check_header(["email"])
    start.parse("audience/incoming/f.csv@null", 1, ["a@example.com"])
    continuation = row_format(chunk_size=50, check_file=checked.append, s3=s3)  # a cold invocation goes on
    continuation.parse("audience/incoming/f.csv@null", 2, ["b@example.com"])
    assert checked == ["audience/incoming/f.csv@null"]
