"""The auto reply archives each reply it sent, after the send, and never fails or repeats a reply for it."""

from __future__ import annotations

import pytest

from due import aws as due_aws
from due.archive import ArchiveQueue, SentMessage
from due.archiving import SentArchive
from due.ses_auto_reply import inbound
from due.ses_auto_reply.reply_log import ReplyLog
from due.ses_auto_reply.responder import CONTENT_NOT_KEPT_HEADER, AutoResponder, Outcome, Settings
from due.ses_auto_reply.templates import SesV2Templates
from due_local.flows import sent_mail as sent_messages
from tests.archive_doubles import on_archive_calls
from tests.unit.ses_auto_reply.conftest import receipt_event
from tests.unit.ses_auto_reply.test_loop_guard import OWN
from tests.unit.ses_auto_reply.test_responder import account, responder  # noqa: F401 (account: the fixture)


def with_archive(archive: SentArchive) -> AutoResponder:
    return AutoResponder(SesV2Templates(due_aws.client("sesv2")),
                         ReplyLog(due_aws.client("dynamodb"), "replies", 86400), due_aws.client("sesv2"),
                         Settings("auto-reply", "", "", OWN), archive)


@pytest.fixture
def order(aws) -> list[str]:
    """The reply sends, their SES message ids and the archive calls, in order."""
    calls: list[str] = []
    due_aws.client("sesv2").meta.events.register("before-call.sesv2.SendEmail", lambda **_: calls.append("send"))
    due_aws.client("sesv2").meta.events.register(
        "after-call.sesv2.SendEmail", lambda parsed, **_: calls.append(f"id {parsed.get('MessageId')}"))
    on_archive_calls(lambda: calls.append("archive"))
    return calls


def another_mail(event: dict) -> inbound.InboundMail:
    """The event as a different mail (SES message id) from the same sender."""
    event["Records"][0]["ses"]["mail"]["messageId"] += "-another"
    return inbound.parse(event)


def archived(url: str) -> list[SentMessage]:
    messages = due_aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [SentMessage.from_json(m["Body"]) for m in messages]


def test_the_reply_is_archived_as_sent_with_its_ses_message_id(account, order):  # noqa: F811
    url = due_aws.client("sqs").create_queue(QueueName="archive")["QueueUrl"]
    answering = with_archive(SentArchive(ArchiveQueue(due_aws.client("sqs"), url)))
    assert answering.respond(inbound.parse(receipt_event())) == (Outcome.REPLIED, "")
    assert answering.respond(another_mail(receipt_event(subject="again")))[0] is Outcome.ALREADY_REPLIED
    (reply,) = sent_messages()
    (message,) = archived(url)
    assert order == ["send", f"id {message.message_id}", "archive"]
    assert (message.channel, message.recipient, message.origination) == (
        "email", "jose.muller@example.net", "no-reply@example.com")
    assert message.subject == reply["Subject"] == "Thanks for writing: Question about my order"
    assert message.text == reply.get_body(("plain",)).get_content()
    assert message.html == reply.get_body(("html",)).get_content()
    assert message.template == "auto-reply"
    assert message.headers["Auto-Submitted"] == "auto-replied"
    assert message.headers["Message-ID"] == reply["Message-ID"]


def test_mail_not_replied_to_is_not_archived(account, order):  # noqa: F811
    url = due_aws.client("sqs").create_queue(QueueName="archive")["QueueUrl"]
    answering = with_archive(SentArchive(ArchiveQueue(due_aws.client("sqs"), url)))
    outcome, _ = answering.respond(inbound.parse(receipt_event(headers={"Auto-Submitted": "auto-replied"})))
    assert outcome is Outcome.NOT_REPLYING
    assert order == []


def test_without_the_archive_nothing_is_queued(account, order):  # noqa: F811
    assert responder().respond(inbound.parse(receipt_event()))[0] is Outcome.REPLIED
    assert [call for call in order if call == "archive"] == []


def test_an_archive_queue_that_fails_neither_fails_nor_repeats_the_reply(account, order):  # noqa: F811
    gone = "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue"
    answering = with_archive(SentArchive(ArchiveQueue(due_aws.client("sqs"), gone)))
    assert answering.respond(inbound.parse(receipt_event())) == (Outcome.REPLIED, "")
    assert [call for call in order if not call.startswith("id ")] == ["send", "archive"]
    # The claim on the sender stands: a retry of this mail would not reply twice.
    assert answering.respond(inbound.parse(receipt_event()))[0] is Outcome.ALREADY_REPLIED
    assert len(sent_messages()) == 1


def test_a_pinpoint_templates_reply_is_archived_with_the_version_it_used(account, aws):  # noqa: F811
    from due.ses_auto_reply.templates import PinpointTemplates

    aws.client("pinpoint").create_email_template(TemplateName="auto-reply", EmailTemplateRequest={
        "Subject": "Auto:", "HtmlPart": "<p>%%ID%%</p>", "TextPart": "id %%ID%%"})
    url = due_aws.client("sqs").create_queue(QueueName="archive")["QueueUrl"]
    answering = AutoResponder(PinpointTemplates(due_aws.client("pinpoint")),
                              ReplyLog(due_aws.client("dynamodb"), "replies", 86400), due_aws.client("sesv2"),
                              Settings("auto-reply", "", "", OWN),
                              SentArchive(ArchiveQueue(due_aws.client("sqs"), url)))
    answering.respond(inbound.parse(receipt_event()))
    (message,) = archived(url)
    assert (message.template, message.template_version) == ("auto-reply", "1")


class InvocationDied(BaseException):
    """The invocation ends here (a timeout or crash): nothing after it runs, nothing handles it."""


class DyingArchive(SentArchive):
    def flush(self, time_left=lambda: float("inf")) -> int:
        raise InvocationDied


def test_a_reply_whose_archive_died_with_the_invocation_is_archived_by_the_retry(account, order):  # noqa: F811
    """The invocation dies after the send and before the archive queue took the reply: Lambda retries the mail,
    which finds its own claim, replies nothing, and archives the reply from what the reply log kept of it."""
    url = due_aws.client("sqs").create_queue(QueueName="archive")["QueueUrl"]
    with pytest.raises(InvocationDied):
        with_archive(DyingArchive(ArchiveQueue(due_aws.client("sqs"), url))).respond(inbound.parse(receipt_event()))
    assert archived(url) == []
    retry = with_archive(SentArchive(ArchiveQueue(due_aws.client("sqs"), url)))  # a new execution environment
    assert retry.respond(inbound.parse(receipt_event()))[0] is Outcome.ALREADY_REPLIED
    (reply,) = sent_messages()
    (message,) = archived(url)
    assert order == ["send", f"id {message.message_id}", "archive"]
    assert message.sent_at
    assert (message.recipient, message.origination) == ("jose.muller@example.net", "no-reply@example.com")
    assert message.subject == reply["Subject"]
    assert message.text == reply.get_body(("plain",)).get_content()
    assert message.html == reply.get_body(("html",)).get_content()
    assert message.headers["Message-ID"] == reply["Message-ID"]
    assert CONTENT_NOT_KEPT_HEADER not in message.headers


def test_a_retry_after_the_template_changed_archives_the_reply_without_content_never_sent(account, order):  # noqa: F811
    url = due_aws.client("sqs").create_queue(QueueName="archive")["QueueUrl"]
    with pytest.raises(InvocationDied):
        with_archive(DyingArchive(ArchiveQueue(due_aws.client("sqs"), url))).respond(inbound.parse(receipt_event()))
    account.sesv2.templates["auto-reply"]["Text"] = "We changed our wording."
    retry = with_archive(SentArchive(ArchiveQueue(due_aws.client("sqs"), url)))
    assert retry.respond(inbound.parse(receipt_event()))[0] is Outcome.ALREADY_REPLIED
    (reply,) = sent_messages()
    (message,) = archived(url)
    assert (message.subject, message.text, message.html) == ("", "", "")
    assert message.headers[CONTENT_NOT_KEPT_HEADER]
    assert message.headers["Message-ID"] == reply["Message-ID"]
    assert message.template == "auto-reply"
