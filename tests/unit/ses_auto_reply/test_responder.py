"""The whole reply decision against moto SES (sending, identities) and the template fakes."""

import json

import pytest

from due import aws as due_aws
from due.ses_auto_reply import inbound
from due.ses_auto_reply.reply_log import ReplyLog
from due.ses_auto_reply.responder import AutoResponder, Outcome, SendRefused, Settings
from due.ses_auto_reply.templates import PinpointTemplates, SesV2Templates, TemplateMissing
from due_local.flows import sent_mail as sent_messages
from due_local.tables import create_table
from tests.unit.ses_auto_reply.conftest import EXAMPLES, receipt_event
from tests.unit.ses_auto_reply.test_loop_guard import NO_REPLY_CASES, OWN


@pytest.fixture
def account(aws, fakes):
    aws.client("ses").verify_domain_identity(Domain="example.com")
    template = json.loads((EXAMPLES / "template.json").read_text())
    aws.client("sesv2").create_email_template(**template)
    create_table(aws.client("dynamodb"), "replies", "sender")
    return fakes


def responder(templates=None, template_name="auto-reply", default="", configuration_set=""):
    settings = Settings(template_name, default, configuration_set, OWN)
    return AutoResponder(templates or SesV2Templates(due_aws.client("sesv2")),
                         ReplyLog(due_aws.client("dynamodb"), "replies", 86400), due_aws.client("sesv2"), settings)


def test_reply_sent_from_the_address_written_to(account):
    outcome = responder().respond(inbound.parse(receipt_event()))
    assert outcome == (Outcome.REPLIED, "")
    (message,) = sent_messages()
    assert message["From"] == "no-reply@example.com"
    assert message["To"] == "jose.muller@example.net"
    assert message["Subject"] == "Thanks for writing: Question about my order"
    assert message["Auto-Submitted"] == "auto-replied"
    text = message.get_body(("plain",)).get_content()
    assert "Hello \"José Müller\" <jose.muller@example.net>," in text
    assert "o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1" in text


def test_default_response_address_and_configuration_set(account, aws):
    calls = []
    aws.events.register("before-parameter-build.sesv2.SendEmail", lambda params, **_: calls.append(params))
    responder(default="help@example.com", configuration_set="replies").respond(inbound.parse(receipt_event()))
    assert sent_messages()[0]["From"] == "help@example.com"
    assert calls[0]["ConfigurationSetName"] == "replies"


def test_second_message_from_the_same_sender_within_the_window_gets_no_reply(account):
    assert responder().respond(inbound.parse(receipt_event()))[0] is Outcome.REPLIED
    assert responder().respond(inbound.parse(receipt_event(subject="again")))[0] is Outcome.ALREADY_REPLIED
    assert len(sent_messages()) == 1


@pytest.mark.parametrize(("changes", "reason"), NO_REPLY_CASES)
def test_every_loop_guard_case_sends_nothing(account, changes, reason):
    outcome = responder().respond(inbound.parse(receipt_event(**changes)))
    assert outcome == (Outcome.NOT_REPLYING, reason)
    assert sent_messages() == []


def test_missing_template_is_an_error_naming_it_and_records_nothing(account):
    with pytest.raises(TemplateMissing, match="SES email template 'nope' does not exist"):
        responder(template_name="nope").respond(inbound.parse(receipt_event()))
    assert responder().respond(inbound.parse(receipt_event()))[0] is Outcome.REPLIED  # no claim was left behind


def test_unverified_identity_is_an_error_naming_it_and_the_retry_can_send(account, aws):
    mail = inbound.parse(receipt_event(recipients=["desk@example.org"]))
    with pytest.raises(SendRefused, match=r"SES refused to send from desk@example\.org"):
        responder().respond(mail)
    aws.client("ses").verify_domain_identity(Domain="example.org")
    assert responder().respond(mail)[0] is Outcome.REPLIED  # the failed attempt released its claim


def test_pinpoint_templates(account, aws):
    aws.client("pinpoint").create_email_template(TemplateName="pp", EmailTemplateRequest={
        "Subject": "Auto:", "HtmlPart": "<p>%%ID%%</p>", "TextPart": "id %%ID%%"})
    responder(PinpointTemplates(due_aws.client("pinpoint")), template_name="pp").respond(
        inbound.parse(receipt_event()))
    (message,) = sent_messages()
    assert message["Subject"] == "Auto: Question about my order"
    assert message.get_body(("html",)).get_content().strip() == "<p>o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1</p>"
    with pytest.raises(TemplateMissing, match="Pinpoint email template 'gone'"):
        PinpointTemplates(due_aws.client("pinpoint")).get("gone")


@pytest.mark.parametrize("return_paths", [
    ["prvs=0123abcdef=jose.muller@example.net", "prvs=4567fedcba=jose.muller@example.net"],  # BATV, per message
    ["SRS0=a1b2=7B=example.net=jose.muller@forwarder.example",
     "SRS0=c3d4=7C=example.net=jose.muller@forwarder.example"],  # SRS via a forwarder
])
def test_one_person_gets_one_reply_however_the_return_path_is_rewritten(account, return_paths):
    outcomes = [responder().respond(inbound.parse(receipt_event(source=path)))[0] for path in return_paths]
    assert outcomes == [Outcome.REPLIED, Outcome.ALREADY_REPLIED]
    (message,) = sent_messages()
    assert message["To"] == return_paths[0]  # the reply still goes to the return path (RFC 3834 section 4)


def test_sub_address_and_case_of_the_author_are_one_person(account):
    first = receipt_event(from_header="José <Jose.Muller+orders@Example.net>")
    assert responder().respond(inbound.parse(first))[0] is Outcome.REPLIED
    assert responder().respond(inbound.parse(receipt_event()))[0] is Outcome.ALREADY_REPLIED


def test_forged_authors_with_one_return_path_earn_its_owner_one_reply(account):
    # Someone sets a victim's address as the return path and varies From: only one reply may reach the victim.
    victim = "victim@example.org"
    outcomes = [responder().respond(inbound.parse(receipt_event(source=victim, from_header=f"X <x{i}@example.net>")))[0]
                for i in range(3)]
    assert outcomes == [Outcome.REPLIED, Outcome.ALREADY_REPLIED, Outcome.ALREADY_REPLIED]
    assert [m["To"] for m in sent_messages()] == [victim]
    # A refused claim gives back the author's claim it took first: that author may still be answered.
    honest = receipt_event(source="x1@example.net", from_header="X <x1@example.net>")
    assert responder().respond(inbound.parse(honest))[0] is Outcome.REPLIED


def test_different_authors_each_get_a_reply(account):
    assert responder().respond(inbound.parse(receipt_event()))[0] is Outcome.REPLIED
    other = receipt_event(source="ana@example.net", from_header="Ana <ana@example.net>")
    assert responder().respond(inbound.parse(other))[0] is Outcome.REPLIED
    assert len(sent_messages()) == 2
