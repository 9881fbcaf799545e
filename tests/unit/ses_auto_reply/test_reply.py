import email
from email import policy

from due.ses_auto_reply import inbound, reply
from due.ses_auto_reply.templates import EmailTemplate
from tests.unit.ses_auto_reply.conftest import receipt_event

TEMPLATE = EmailTemplate("t", "Thanks %%NAME%%:", "<p>Hi %%NAME%%, ref %%ID%%. %%NAME%%</p>",
                         "Hi %%NAME%%, ref %%ID%%.")


def parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def parts(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in parsed(message).walk()
            if part.get_content_maintype() == "text"}


def test_addresses_subject_and_rfc3834_headers(mail):
    message = parsed(reply.build(mail, EmailTemplate("t", "Re:", "", "body"), "help@example.com"))
    assert message["From"] == "help@example.com"
    assert message["To"] == "jose.muller@example.net"
    assert message["Subject"] == "Re: Question about my order"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<CAF1234abcd@mail.example.net>"
    assert message["References"] == "<earlier-thread@mail.example.net> <CAF1234abcd@mail.example.net>"
    assert message["Message-ID"].endswith("@example.com>")


def test_placeholders_filled_everywhere_and_escaped_in_html():
    mail = inbound.parse(receipt_event(from_header='"Ann <b>&</b> Co" <ann@example.net>'))
    message = reply.build(mail, TEMPLATE, "help@example.com")
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    assert text.strip() == 'Hi "Ann <b>&</b> Co" <ann@example.net>, ref o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1.'
    assert "&quot;Ann &lt;b&gt;&amp;&lt;/b&gt; Co&quot; &lt;ann@example.net&gt;" in html
    assert html.count("&lt;ann@example.net&gt;") == 2  # every occurrence
    assert "<b>" not in html
    assert parsed(message)["Subject"].startswith('Thanks "Ann <b>&</b> Co" <ann@example.net>: Question')


def test_unicode_names_survive(mail):
    text = parts(reply.build(mail, TEMPLATE, "help@example.com"))["text/plain"]
    assert "José Müller" in text


def test_original_subject_cannot_inject_headers():
    mail = inbound.parse(receipt_event(subject="Hello\r\nBcc: victim@example.org"))
    message = parsed(reply.build(mail, EmailTemplate("t", "Re:", "", "x"), "help@example.com"))
    assert message["Bcc"] is None
    assert message["Subject"] == "Re: Hello Bcc: victim@example.org"


def test_message_without_message_id_gets_no_threading_headers():
    mail = inbound.parse(receipt_event())
    mail = type(mail)(**{**mail.__dict__, "rfc_message_id": "", "references": ""})
    message = parsed(reply.build(mail, TEMPLATE, "help@example.com"))
    assert message["In-Reply-To"] is None and message["References"] is None
