import pytest

from due.events import BadEvent
from due.ses_auto_reply import inbound
from tests.unit.ses_auto_reply.conftest import receipt_event


def test_sample_receipt_event(mail):
    assert mail.ses_message_id == "o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1"
    assert mail.envelope_sender == "jose.muller@example.net"
    assert mail.from_header == '"José Müller" <jose.muller@example.net>'
    assert mail.from_address == "jose.muller@example.net"
    assert mail.subject == "Question about my order"
    assert mail.rfc_message_id == "<CAF1234abcd@mail.example.net>"
    assert mail.references == "<earlier-thread@mail.example.net>"
    assert mail.recipients == ("no-reply@example.com",)
    assert mail.verdicts == {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}
    assert mail.header("content-type") == "text/plain; charset=UTF-8"
    assert mail.header("List-Id") is None


def test_bounce_has_an_empty_envelope_sender():
    assert inbound.parse(receipt_event(source="<>")).envelope_sender == ""


@pytest.mark.parametrize(("event", "error"), [
    ({}, "not an SES receipt event"),
    ({"Records": []}, "not an SES receipt event"),
    ({"Records": [{"ses": {"mail": {}, "receipt": {}}}]}, "not an SES receipt event"),
    (receipt_event(recipients=[]), "names no recipients"),
])
def test_bad_events(event, error):
    with pytest.raises(BadEvent, match=error):
        inbound.parse(event)


def test_return_path_is_kept_as_written():
    # An SRS hash or a local part may be case-sensitive: the reply goes back to exactly this address.
    mail = inbound.parse(receipt_event(source="<SRS0=a1B2=7B=example.net=Jose@forwarder.example>"))
    assert mail.envelope_sender == "SRS0=a1B2=7B=example.net=Jose@forwarder.example"
