"""Writing to and erasing from an archive bucket with Object Lock in compliance mode (ObjectLock=Enabled).

S3 refuses a PutObject into a bucket with a default retention unless it carries Content-MD5 or an
x-amz-checksum-* header; a client that adds a checksum only when an operation requires one
(``request_checksum_calculation="when_required"``, botocore before 1.36 behaved so) must be given one by the
writer. moto enforces both the header and the retention.
"""

from __future__ import annotations

import pytest
from botocore.config import Config

from due.archive import ArchiveWriter, SentMessage, erase

BUCKET = "locked-archive"
SECRET = b"an-archive-secret-for-tests"


@pytest.fixture
def locked_s3(aws):
    s3 = aws.client("s3", config=Config(request_checksum_calculation="when_required"))
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=BUCKET, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}})
    return s3


def message() -> SentMessage:
    return SentMessage(channel="email", recipient="ana@example.com", message_id="0100-ses-1",
                       sent_at="2026-11-28T09:15:00Z", subject="Hi", text="Hi Ana")


def test_the_writer_puts_into_a_locked_bucket_once(locked_s3):
    writer = ArchiveWriter(locked_s3, BUCKET, SECRET)

    assert writer.write(message()) is True
    assert writer.write(message()) is False
    versions = locked_s3.list_object_versions(Bucket=BUCKET)["Versions"]
    assert len(versions) == 1
    assert locked_s3.head_object(Bucket=BUCKET, Key=versions[0]["Key"])["ObjectLockMode"] == "COMPLIANCE"


def test_erasing_a_locked_message_reports_the_version_s3_refused(locked_s3):
    ArchiveWriter(locked_s3, BUCKET, SECRET).write(message())

    result = erase(locked_s3, BUCKET, SECRET, "email", "ana@example.com")

    assert result.versions == 1
    assert result.deleted == 0
    assert [entry["code"] for entry in result.refused] == ["AccessDenied"]
    assert len(locked_s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 1
