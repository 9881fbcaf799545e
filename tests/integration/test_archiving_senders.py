"""The collection's senders deployed with the message archive: each message they send becomes one MIME file.

The issue's test: sends through the SMS S3 drop and the auto reply with the archive given, then the archiver
writes them; each file sits at its recipient's derived path and holds what was sent. And a sender whose
archive queue fails still sends everything.
"""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest

from due.archive import SentMessage
from due.message_archiver.secret import recipient_secret
from due_local import iam
from due_local.flows import FLOWS, sent_mail
from scripts.deploy import deploy_local
from tests.integration.test_message_archiver import archived
from tests.unit.sms_s3_drop.conftest import SAMPLE

pytestmark = pytest.mark.integration
INBOUND = json.loads((Path(__file__).resolve().parents[2]
                      / "examples" / "ses_auto_reply" / "inbound.json").read_text())


@pytest.fixture
def archiver(emulator, artifacts):
    stack = deploy_local(emulator, artifacts, "Message_Archiver", {})
    emulator.complete_wiring(stack)
    return stack


def given(archiver) -> dict[str, str]:
    return {"ArchiveQueueArn": archiver.outputs["ArchiveQueueArn"], "ArchiveKeyArn": archiver.outputs["ArchiveKeyArn"]}


def parsed(mime: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(mime, policy=email.policy.default)


def text_of(message: email.message.EmailMessage) -> str:
    """The plain part, line ends aside (the archive's MIME is written with the SMTP policy: CRLF)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n").strip()


def test_sms_and_auto_replies_sent_are_each_one_mime_file_at_the_recipients_path(emulator, artifacts, archiver):
    drop = deploy_local(emulator, artifacts, "SMS_S3_drop", {**FLOWS["SMS_S3_drop"].prepare(emulator),
                                                            **given(archiver)})
    emulator.complete_wiring(drop)
    replies = deploy_local(emulator, artifacts, "SES_Auto_Reply", {**FLOWS["SES_Auto_Reply"].prepare(emulator),
                                                                  **given(archiver)})
    emulator.complete_wiring(replies)
    sent_url = emulator.function_spec(drop, "SenderFunction").environment["ARCHIVE_QUEUE_URL"]
    assert sent_url.endswith("/" + archiver.outputs["ArchiveQueueArn"].rsplit(":", 1)[1])

    emulator.client("s3").put_object(Bucket=drop.outputs["DropBucketName"], Key="incoming/sample.csv", Body=SAMPLE)
    emulator.pump(drop)
    assert emulator.async_invoker(replies, "ResponderFunction").invoke(emulator.runtime, INBOUND)["outcome"] == \
        "replied"
    emulator.pump(archiver)

    secret = recipient_secret(emulator.client("secretsmanager"), archiver.outputs["RecipientSecretArn"])
    files = archived(emulator, archiver)
    sms, (reply,) = emulator.fakes.sms.sent, sent_mail()
    assert len(sms) == 4 and len(files) == 5
    for sent in sms:
        (key,) = [k for k in files if k.endswith(f"/{sent['MessageId']}.eml")]
        mime = parsed(files[key])
        # The derived path: the number's folder, the hour it was sent, the send's message id.
        assert key == SentMessage("sms", sent["DestinationPhoneNumber"], sent["MessageId"],
                                  mime["Date"].datetime.isoformat()).key(secret)
        assert (mime["To"], mime["X-Archive-Origination"], mime["X-Archive-Message-Type"]) == (
            sent["DestinationPhoneNumber"], sent["OriginationIdentity"], sent["MessageType"])
        assert mime["X-Archive-Campaign-Id"] == sent["Context"]["external_campaign_id"]
        assert text_of(mime) == sent["MessageBody"].replace("\r\n", "\n").strip()
    (reply_key,) = [k for k in files if not any(k.endswith(f"/{s['MessageId']}.eml") for s in sms)]
    mime = parsed(files[reply_key])
    ses_message_id = mime["Message-ID"].strip("<>").removesuffix("@archive.invalid")
    assert reply_key == SentMessage("email", "Jose.Muller@example.net", ses_message_id,
                                    mime["Date"].datetime.isoformat()).key(secret)
    assert (mime["To"], mime["From"], mime["Subject"]) == (reply["To"], reply["From"], reply["Subject"])
    assert mime["X-Archive-Header-Auto-Submitted"] == "auto-replied"
    assert text_of(mime) == text_of(reply)
    assert mime.get_body(("html",)).get_content().strip() == reply.get_body(("html",)).get_content().strip()
    assert not any(number in "".join(files) for number in (s["DestinationPhoneNumber"] for s in sms))
    assert "muller" not in "".join(files).lower()

    # With the archive given, each sender's role allows everything its code called, the archive queue included
    # (the other paths' calls are checked by test_event_processing's test of every role).
    for stack, function in ((drop, "SenderFunction"), (replies, "ResponderFunction")):
        calls = emulator.runtime.api_calls.get(stack.physical(function), set())
        allowed = iam.allowed_actions(stack.template, function, stack.conditions)
        assert stack.conditions["Archiving"] and "sqs:SendMessage" in calls and "sqs:SendMessage" in allowed
        assert {c for c in calls if not iam.is_allowed(c, allowed)} == set(), function


def test_a_sender_whose_archive_queue_fails_still_sends_everything(emulator, artifacts):
    gone = {"ArchiveQueueArn": "arn:aws:sqs:us-east-1:123456789012:no-such-archive",
            "ArchiveKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    drop = deploy_local(emulator, artifacts, "SMS_S3_drop", {**FLOWS["SMS_S3_drop"].prepare(emulator), **gone})
    emulator.complete_wiring(drop)
    emulator.client("s3").put_object(Bucket=drop.outputs["DropBucketName"], Key="incoming/sample.csv", Body=SAMPLE)
    stats = emulator.pump(drop)
    assert len(emulator.fakes.sms.sent) == 4
    assert stats[drop.physical("SenderFunction")].failed_records == 0
