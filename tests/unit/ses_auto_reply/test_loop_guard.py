import pytest

from due.ses_auto_reply import inbound
from due.ses_auto_reply.loop_guard import OwnAddresses, reason_not_to_reply
from tests.unit.ses_auto_reply.conftest import receipt_event

OWN = OwnAddresses.from_list(["no-reply@example.com", "support.example.com", " "])


def reason(**changes):
    return reason_not_to_reply(inbound.parse(receipt_event(**changes)), OWN)


def test_an_ordinary_message_gets_a_reply():
    assert reason() is None
    assert reason(headers={"Auto-Submitted": "no"}) is None
    assert reason(headers={"Precedence": "first-class"}) is None
    assert reason(verdicts={"spam": "GRAY", "dkim": "FAIL", "dmarc": "PROCESSING_FAILED"}) is None


NO_REPLY_CASES = [
    ({"headers": {"Auto-Submitted": "auto-replied"}}, "Auto-Submitted: auto-replied"),
    ({"headers": {"auto-submitted": "Auto-Generated"}}, "Auto-Submitted: auto-generated"),
    ({"headers": {"Precedence": "bulk"}}, "Precedence: bulk"),
    ({"headers": {"Precedence": "Junk"}}, "Precedence: junk"),
    ({"headers": {"Precedence": "list"}}, "Precedence: list"),
    ({"headers": {"List-Id": "<news.example.org>"}}, "mailing list (List-Id)"),
    ({"headers": {"List-Unsubscribe": "<mailto:leave@example.org>"}}, "mailing list (List-Unsubscribe)"),
    ({"headers": {"X-Auto-Response-Suppress": "OOF, AutoReply"}}, "X-Auto-Response-Suppress"),
    ({"source": "<>"}, "empty return path (a bounce or notification)"),
    ({"source": "MAILER-DAEMON@mx.example.net"}, "automated sender"),
    ({"source": "postmaster@example.net"}, "automated sender"),
    ({"from_header": "Shop <noreply@shop.example.net>"}, "automated sender"),
    ({"from_header": "do-not-reply@shop.example.net"}, "automated sender"),
    ({"source": "bounces+abc123@mail.example.net"}, "automated sender"),
    ({"from_header": "no-reply@example.com"}, "automated sender"),
    ({"from_header": "Desk <desk@support.example.com>"}, "sent from one of our own addresses"),
    ({"source": "Desk@Support.Example.com"}, "sent from one of our own addresses"),  # kept as written, compared folded
    ({"from_header": "Other box <inbox@example.org>", "recipients": ["inbox@example.org"]},
     "sent from one of our own addresses"),
    ({"verdicts": {"spam": "FAIL"}}, "spam verdict FAIL"),
    ({"verdicts": {"virus": "FAIL"}}, "virus verdict FAIL"),
    ({"verdicts": {"spf": "FAIL"}}, "spf verdict FAIL"),
    ({"verdicts": {"dmarc": "FAIL"}}, "dmarc verdict FAIL"),
]


@pytest.mark.parametrize(("changes", "expected"), NO_REPLY_CASES)
def test_no_reply(changes, expected):
    assert reason(**changes) == expected


def test_people_whose_names_merely_contain_the_words_get_replies():
    assert reason(source="noreen@example.net", from_header="Noreen <noreen@example.net>") is None
    assert reason(source="bouncer.fan@example.net", from_header="bouncer.fan@example.net") is None
