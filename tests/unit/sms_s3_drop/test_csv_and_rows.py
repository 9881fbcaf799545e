"""Streaming the CSV and checking its rows."""

import pytest

from due.csv_stream import NotUtf8, S3Object, require_utf8, rows
from due.sms_s3_drop.requests import check_header, from_row
from tests.unit.sms_s3_drop.conftest import SAMPLE


@pytest.fixture
def sample(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="drop")
    s3.put_object(Bucket="drop", Key="incoming/sample.csv", Body=SAMPLE)
    return s3


@pytest.mark.parametrize("chunk_size", [7, 64, 1 << 20])  # chunks that cut rows, quotes and characters
def test_rows_with_quoted_commas_and_line_breaks_and_their_offsets(sample, chunk_size):
    parsed = list(rows(sample, S3Object("drop", "incoming/sample.csv"), chunk_size=chunk_size))
    assert parsed[0][0][0] == "sms_number"
    assert parsed[3][0][1] == "Multi-line works too:\r\nline two, with a comma"
    assert parsed[3][0][6] == "josé"
    assert parsed[-1][1] == len(SAMPLE)
    # Starting at any row's offset gives the rest of the file, exactly.
    for index, (_, offset) in enumerate(parsed):
        rest = [r for r, _ in rows(sample, S3Object("drop", "incoming/sample.csv"), start=offset,
                                   chunk_size=chunk_size)]
        assert rest == [r for r, _ in parsed[index + 1:]]


def test_a_byte_order_mark_is_not_part_of_the_header(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="drop")
    s3.put_object(Bucket="drop", Key="bom.csv", Body="\ufeffsms_number,message\n".encode())
    assert next(rows(s3, S3Object("drop", "bom.csv")))[0] == ["sms_number", "message"]


HEADER = b"sms_number,message,external_campaign_id,short_code,message_type,id_1,id_2\r\n"
# What a spreadsheet writes when it saves "CSV" in Windows-1252: the accent is one byte, 0xE9, which is not UTF-8.
CP1252_ROW = "+14255550101,Hola José,c,+18445550100,TRANSACTIONAL,,\r\n".encode("cp1252")


@pytest.mark.parametrize("chunk_size", [7, 1 << 20])
def test_a_windows_1252_file_is_refused_at_its_first_byte_that_is_not_utf8(aws, chunk_size):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="drop")
    body = HEADER + CP1252_ROW
    s3.put_object(Bucket="drop", Key="cp1252.csv", Body=body)
    source = S3Object("drop", "cp1252.csv")
    accent = len(HEADER) + len("+14255550101,Hola Jos")
    with pytest.raises(NotUtf8, match=rf"^not UTF-8 at byte {accent} \(line 2\)$") as raised:
        require_utf8(s3, source, chunk_size=chunk_size)
    assert body[raised.value.offset:raised.value.offset + 1] == "é".encode("cp1252")
    # Reading the rows refuses it too, rather than handing on "Hola Jos\ufffd".
    read = rows(s3, source, chunk_size=chunk_size)
    assert next(read)[0][0] == "sms_number"
    with pytest.raises(NotUtf8):
        next(read)
    # The same file saved as UTF-8 (with the BOM spreadsheets write) reads as it should.
    s3.put_object(Bucket="drop", Key="utf8.csv", Body=body.decode("cp1252").encode("utf-8-sig"))
    require_utf8(s3, S3Object("drop", "utf8.csv"), chunk_size=chunk_size)
    assert [r for r, _ in rows(s3, S3Object("drop", "utf8.csv"), chunk_size=chunk_size)][1][1] == "Hola José"


def test_header_must_be_the_documented_one():
    check_header(["sms_number", "message", "external_campaign_id", "short_code", "message_type", "id_1", " ID_2 "])
    with pytest.raises(ValueError, match="the header must be sms_number,message"):
        check_header(["number", "text"])


@pytest.mark.parametrize(("row", "reason"), [
    (["+1425555", "hi", "c", "+18445550100", "TRANSACTIONAL", "", ""], "not an E.164 number"),
    (["14255550101", "hi", "c", "+18445550100", "TRANSACTIONAL", "", ""], "not an E.164 number"),
    (["+14255550101", "  ", "c", "+18445550100", "TRANSACTIONAL", "", ""], "message is empty"),
    (["+14255550101", "x" * 1601, "c", "+18445550100", "TRANSACTIONAL", "", ""], "longer than 1600"),
    (["+14255550101", "hi", "c", "", "TRANSACTIONAL", "", ""], "not an origination identity"),
    (["+14255550101", "hi", "c", "my number", "TRANSACTIONAL", "", ""], "not an origination identity"),
    (["+14255550101", "hi", "c", "12345", "MARKETING", "", ""], "TRANSACTIONAL or PROMOTIONAL"),
    (["+14255550101", "hi"], "expected 7 columns, found 2"),
    (["+14255550101", "Hola Jos\ufffd", "c", "12345", "PROMOTIONAL", "", ""], "U+FFFD at character 9"),
    (["+14255550101", "bell\x07", "c", "12345", "PROMOTIONAL", "", ""], "U+0007 at character 5"),
])
def test_bad_rows_say_why_without_repeating_the_data(row, reason):
    result = from_row("f", 9, row)
    assert isinstance(result, str) and reason in result
    assert "+1425555" not in result


def test_good_row_and_its_context():
    request = from_row("drop/k@v", 3, ["+14255550101", " hi ", "c", "12345", "promotional", "", "x"])
    assert (request.message, request.message_type, request.origination) == (" hi ", "PROMOTIONAL", "12345")
    assert request.context() == {"external_campaign_id": "c", "id_2": "x", "row": "3"}
    assert request.deduplication_id == from_row("drop/k@v", 3, ["+14255550101", "other", "", "1", "TRANSACTIONAL",
                                                                "", ""]).deduplication_id
    assert request.deduplication_id != from_row("drop/k@v", 4, ["+14255550101", " hi ", "c", "12345",
                                                                "promotional", "", "x"]).deduplication_id
