"""The message archiver deployed on the emulator: sent messages queued, written once, as MIME, at their keys."""

from __future__ import annotations

import email
import email.policy

import pytest

from due.archive import ArchiveQueue, SentMessage
from due.message_archiver.secret import recipient_secret
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration

SENT = [
    SentMessage(channel="sms", recipient="+14255550101", message_id="sms-0001", sent_at="2026-11-28T10:05:00Z",
                campaign_id="winter", origination="+18445550100", message_type="TRANSACTIONAL",
                text="Your parcel arrives today."),
    SentMessage(channel="email", recipient="Bo.Larsen@Example.org", message_id="ses-0002",
                sent_at="2026-11-28T10:06:30Z", journey_id="welcome", origination="news@example.org",
                subject="Welcome", template="welcome", template_version="3",
                replacement_data={"first_name": "Bo"}, headers={"List-Unsubscribe": "<https://example.org/u>"}),
    SentMessage(channel="voice", recipient="+447700900103", message_id="contact-0003",
                sent_at="2026-11-28T11:00:00Z", origination="+18445550100", text="This is a reminder call."),
]


@pytest.fixture
def archiver(emulator, artifacts):
    stack = deploy_local(emulator, artifacts, "Message_Archiver", {})
    emulator.complete_wiring(stack)
    return stack


def readable(mime: bytes) -> tuple[list, list]:
    """A MIME file's headers (the multipart boundary aside, random per rendering) and its parts' contents."""
    parsed = email.message_from_bytes(mime, policy=email.policy.default)
    headers = [(name, value) for name, value in parsed.items() if name != "Content-Type"]
    parts = [(part.get_content_type(), part.get_content()) for part in parsed.walk() if not part.is_multipart()]
    return headers, parts


def archived(emulator, stack) -> dict[str, bytes]:
    s3, bucket = emulator.client("s3"), stack.outputs["ArchiveBucketName"]
    versions = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    assert len(versions) == len({v["Key"] for v in versions}), "a message was written twice"
    return {v["Key"]: s3.get_object(Bucket=bucket, Key=v["Key"])["Body"].read() for v in versions}


def test_each_queued_message_becomes_one_mime_file_at_its_recipients_key(emulator, archiver):
    assert ArchiveQueue(emulator.client("sqs"), archiver.outputs["ArchiveQueueUrl"]).submit(SENT) == 0
    emulator.pump(archiver)
    secret = recipient_secret(emulator.client("secretsmanager"), archiver.outputs["RecipientSecretArn"])
    files = archived(emulator, archiver)
    assert set(files) == {message.key(secret) for message in SENT}
    for message in SENT:
        headers, parts = readable(files[message.key(secret)])
        assert (headers, parts) == readable(message.to_mime())
        assert (dict(headers)["To"], dict(headers)["X-Archive-Channel"]) == (message.recipient, message.channel)
        text = message.text or "(the sender kept no text of this message)"
        assert parts[0] == ("text/plain", text + "\r\n")  # SMTP policy: CRLF line ends
    templated = email.message_from_bytes(files[SENT[1].key(secret)], policy=email.policy.default)
    (attachment,) = templated.iter_attachments()
    assert b'"first_name": "Bo"' in attachment.get_content()
    assert all("4255550101" not in key and "larsen" not in key.lower() for key in files)


def test_redelivered_messages_add_no_version_and_a_bad_body_ends_in_the_dead_letter_queue(emulator, archiver):
    sqs = emulator.client("sqs")
    queue = ArchiveQueue(sqs, archiver.outputs["ArchiveQueueUrl"])
    queue.submit(SENT[:1])
    emulator.pump(archiver)
    queue.submit(SENT[:1])  # a sender's retry, or SQS delivering twice
    sqs.send_message(QueueUrl=archiver.outputs["ArchiveQueueUrl"], MessageBody='{"channel": "sms"}')
    emulator.pump(archiver)
    assert len(archived(emulator, archiver)) == 1
    dead = sqs.receive_message(QueueUrl=archiver.outputs["ArchiveDeadLetterQueueUrl"], MaxNumberOfMessages=10)
    assert [m["Body"] for m in dead.get("Messages", [])] == ['{"channel": "sms"}']


def test_the_stack_exports_what_senders_and_the_erase_command_take(emulator, archiver):
    exports = {e["Name"]: e["Value"] for e in emulator.client("cloudformation").list_exports()["Exports"]}
    for output in ("ArchiveBucketName", "ArchiveQueueArn", "ArchiveQueueUrl", "ArchiveKeyArn", "RecipientSecretArn"):
        assert exports[f"{archiver.name}-{output}"] == archiver.outputs[output]
    assert archiver.outputs["ArchiveKeyArn"].startswith("arn:aws:kms:")
    assert archiver.outputs["RecipientSecretArn"].startswith("arn:aws:secretsmanager:")
