"""The message archive's shared piece: keys without personal data, idempotent writes, MIME files, erasure."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from due.archive import ArchiveQueue, ArchiveWriter, SentMessage, erase, recipient_folder

SECRET = b"k" * 32
BUCKET = "archive-bucket"


def sms(**overrides) -> SentMessage:
    fields = {"channel": "sms", "recipient": "+14255550182", "message_id": "6c7b3e2a-9f41-4d8e-b5a0-1e2f3c4d5e6f",
              "sent_at": "2026-11-27T16:45:09Z", "campaign_id": "spring", "origination": "+12065550100",
              "message_type": "PROMOTIONAL", "text": "Olá Bo, the spring sale starts today. Reply STOP to opt out."}
    return SentMessage(**{**fields, **overrides})


@pytest.fixture
def bucket(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_the_key_names_the_hour_and_the_message_but_no_personal_data():
    key = sms().key(SECRET)
    folder = recipient_folder(SECRET, "sms", "+14255550182")
    assert key == f"archive/{folder}/2026/11/27/16/6c7b3e2a-9f41-4d8e-b5a0-1e2f3c4d5e6f.eml"
    assert "4255550182" not in key
    assert recipient_folder(SECRET, "email", "Ana@Example.com ") == recipient_folder(SECRET, "email",
                                                                                      "ana@example.com")
    assert recipient_folder(b"another secret", "sms", "+14255550182") != folder  # not a plain hash


def test_a_recipient_that_is_not_an_address_or_e164_number_is_refused():
    with pytest.raises(ValueError, match=r"E\.164"):
        recipient_folder(SECRET, "sms", "425-555-0182")
    with pytest.raises(ValueError, match="email address"):
        recipient_folder(SECRET, "email", "ana")


def test_a_redelivered_message_adds_neither_an_object_nor_a_version(bucket):
    writer = ArchiveWriter(bucket, BUCKET, SECRET)
    assert writer.write(sms()) is True
    assert writer.write(sms()) is False
    assert len(bucket.list_object_versions(Bucket=BUCKET)["Versions"]) == 1


def test_the_file_is_mime_naming_channel_campaign_and_time_with_the_text():
    parsed = email.message_from_bytes(sms().to_mime(), policy=email.policy.default)
    assert (parsed["X-Archive-Channel"], parsed["X-Archive-Campaign-Id"], parsed["X-Archive-Message-Type"]) == (
        "sms", "spring", "PROMOTIONAL")
    assert parsed["X-Archive-Origination"] == "+12065550100"
    assert parsed["Date"] == "Fri, 27 Nov 2026 16:45:09 +0000"
    assert parsed.get_content().strip() == "Olá Bo, the spring sale starts today. Reply STOP to opt out."


def test_a_templated_email_keeps_its_template_and_data_as_json():
    message = SentMessage("email", "ana@example.com", "0100019a-abc", "2026-11-27T16:45:09.120Z",
                          origination="news@shop.example.com", template="offers", template_version="3",
                          replacement_data={"offer": "10% off"}, headers={"List-Unsubscribe": "<https://u.example>"})
    parsed = email.message_from_bytes(message.to_mime(), policy=email.policy.default)
    [attachment] = list(parsed.iter_attachments())
    assert json.loads(attachment.get_content()) == {"template": "offers", "version": "3",
                                                    "replacement_data": {"offer": "10% off"}}
    assert parsed["From"] == "news@shop.example.com"
    assert parsed["X-Archive-Header-List-Unsubscribe"] == "<https://u.example>"


def test_a_message_survives_the_queue_as_json():
    assert SentMessage.from_json(sms().to_json()) == sms()
    with pytest.raises(ValueError, match="channel"):
        sms(channel="fax")
    with pytest.raises(ValueError, match="ISO 8601"):
        sms(sent_at="yesterday")


def test_erasure_removes_every_version_and_marker_of_that_person_only(bucket):
    writer = ArchiveWriter(bucket, BUCKET, SECRET)
    for n in range(3):
        writer.write(sms(message_id=f"m-{n}"))
    writer.write(sms(recipient="+14255550101", message_id="other"))
    bo_key = sms(message_id="m-0").key(SECRET)
    bucket.put_object(Bucket=BUCKET, Key=bo_key, Body=b"a second version")
    bucket.delete_object(Bucket=BUCKET, Key=sms(message_id="m-1").key(SECRET))  # a delete marker
    erased = erase(bucket, BUCKET, SECRET, "sms", "+14255550182")
    assert (erased.objects, erased.versions, erased.delete_markers, erased.deleted, erased.refused) == (
        3, 4, 1, 5, [])
    left = bucket.list_object_versions(Bucket=BUCKET)
    assert [v["Key"] for v in left["Versions"]] == [sms(recipient="+14255550101", message_id="other").key(SECRET)]
    assert "DeleteMarkers" not in left


def test_queueing_for_the_archive_never_fails_the_send(aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="archive")["QueueUrl"]
    assert ArchiveQueue(sqs, url).submit([sms(message_id=f"m-{n}") for n in range(12)]) == 0
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "12"
    missing = url.replace("archive", "no-such-queue")
    assert ArchiveQueue(sqs, missing).submit([sms()]) == 1


@pytest.mark.parametrize("fields, header", [
    ({"campaign_id": "c\r\nX: y"}, "X-Archive-Campaign-Id: c X: y"),
    ({"headers": {"External-Id": "a\nb"}}, "X-Archive-Header-External-Id: a b"),
    ({"subject": "one\n  two", "channel": "email", "recipient": "p@example.com"}, "Subject: one two"),
    ({"origination": "+1844\n5550100"}, "X-Archive-Origination: +1844 5550100")])
def test_a_line_break_in_a_header_value_becomes_a_space(fields, header):
    message = SentMessage(**{"channel": "sms", "recipient": "+14255550100", "message_id": "m-1",
                             "sent_at": "2026-11-28T12:00:00Z", **fields})
    parsed = email.message_from_bytes(message.to_mime(), policy=email.policy.default)
    name, value = header.split(": ", 1)
    assert parsed[name] == value


def test_a_body_is_ascii_json_with_lone_surrogates_replaced():
    body = SentMessage("sms", "+14255550100", "m-1", "2026-11-28T12:00:00Z", text="é \uffff \ud800").to_json()
    assert body.isascii()
    assert SentMessage.from_json(body).text == "é \uffff \ufffd"
