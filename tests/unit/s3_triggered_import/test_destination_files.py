from __future__ import annotations

import pytest

from due.profiles import EMAIL_OPT_OUT, SMS_OPT_OUT
from due.s3_triggered_import.destination_files import MIN_PART_SIZE, MultipartWriter, email_problem, opted_out
from tests.unit.s3_triggered_import.conftest import BUCKET


def _count_calls(s3, operation: str) -> list[int]:
    calls = []
    s3.meta.events.register(f"before-call.s3.{operation}", lambda **_: calls.append(1))
    return calls


def test_a_file_larger_than_a_part_is_uploaded_in_parts_and_never_held_whole(s3):
    line = "x" * 999  # 1,000 bytes with its line break
    lines = (MIN_PART_SIZE * 2 + MIN_PART_SIZE // 2) // 1000  # two and a half parts
    parts = _count_calls(s3, "UploadPart")

    with MultipartWriter(s3, BUCKET, "out.json", "application/x-ndjson", part_size=MIN_PART_SIZE) as out:
        for _ in range(lines):
            out.write_line(line)

    body = s3.get_object(Bucket=BUCKET, Key="out.json")["Body"].read()
    assert body == (line + "\n").encode() * lines
    assert len(parts) == 3
    assert out.largest_buffer <= MIN_PART_SIZE + 1000  # one part and one line, whatever the file's size


def test_an_error_while_writing_aborts_the_upload_and_leaves_no_object(s3):
    with pytest.raises(RuntimeError), MultipartWriter(s3, BUCKET, "out.json", "application/x-ndjson") as out:
        out.write_json({"emailAddress": "a@example.com"})
        raise RuntimeError("the reader failed")

    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_a_file_with_no_lines_is_an_empty_object(s3):
    with MultipartWriter(s3, BUCKET, "empty.json", "application/x-ndjson"):
        pass

    assert s3.get_object(Bucket=BUCKET, Key="empty.json")["Body"].read() == b""
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_parts_smaller_than_s3_allows_are_refused(s3):
    with pytest.raises(ValueError, match="at least"):
        MultipartWriter(s3, BUCKET, "out.json", "text/csv", part_size=MIN_PART_SIZE - 1)


@pytest.mark.parametrize(("address", "problem"), [
    ("", "no email address"),
    ("jane.doe@example", "not a valid host name"),
    ("jane doe@example.com", "whitespace"),
    ("jane@doe@example.com", "exactly one @"),
    ("jané@example.com", "SMTPUTF8"),
    ("jane@exämple.com", "Punycode"),
    ("@example.com", "empty local part"),
    ("j" * 65 + "@example.com", "longer than RFC 5321"),
])
def test_addresses_ses_cannot_send_to_have_a_reason_that_does_not_repeat_them(address, problem):
    reason = email_problem(address)
    assert problem in reason
    assert not address or address not in reason


@pytest.mark.parametrize("address", ["jane.doe@example.com", "j+tag@mail.xn--exmple-cua.com"])
def test_usable_addresses_have_no_problem(address):
    assert email_problem(address) is None


@pytest.mark.parametrize("column", ["email_opt_out", "Email Opt Out", "EMAIL-OPT-OUT", " email opt out "])
def test_an_email_opt_out_is_read_under_any_spelling_customer_profiles_maps_to_email_opt_out(column):
    assert opted_out({"email": "a@example.com", column: "Yes"}, EMAIL_OPT_OUT)
    assert not opted_out({"email": "a@example.com", column: "no"}, EMAIL_OPT_OUT)
    assert not opted_out({"email": "a@example.com", column: "yes"}, SMS_OPT_OUT)


def test_two_spellings_of_one_opt_out_opt_out_if_either_says_so_and_unnamable_columns_are_ignored():
    assert opted_out({"email_opt_out": "", "Email Opt Out": "true", "!!!": "x"}, EMAIL_OPT_OUT)
