"""When an automatic reply must not be sent (RFC 3834, and the conventions around it).

Replying to the wrong message is how two auto-responders mail each other
forever, or how a reply lands on a mailing list or goes back to a spammer.
``reason_not_to_reply`` returns why not to reply, or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from due.ses_auto_reply.inbound import InboundMail

# Local parts of senders that are machines, not people.
_AUTOMATED_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?|auto[-_.]?reply|"
    r"notifications?|listserv|majordomo|owner-.+|.+-owner|.+-request)(\+.*)?$",
    re.IGNORECASE,
)
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "Mailing-List")
_FAILING_VERDICTS = ("spam", "virus", "spf", "dmarc")


@dataclass(frozen=True)
class OwnAddresses:
    """Our receiving and sending addresses; a domain stands for every address at it."""

    addresses: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def from_list(cls, entries: list[str]) -> OwnAddresses:
        cleaned = [e.strip().lower() for e in entries if e.strip()]
        return cls(frozenset(e for e in cleaned if "@" in e), frozenset(e for e in cleaned if "@" not in e))

    def __contains__(self, address: str) -> bool:
        return address in self.addresses or address.rpartition("@")[2] in self.domains


def reason_not_to_reply(mail: InboundMail, own: OwnAddresses) -> str | None:
    auto_submitted = (mail.header("Auto-Submitted") or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    precedence = (mail.header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    for name in _LIST_HEADERS:
        if mail.header(name) is not None:
            return f"mailing list ({name})"
    suppress = (mail.header("X-Auto-Response-Suppress") or "").lower()
    if any(token in suppress for token in ("all", "oof", "autoreply")):
        return "X-Auto-Response-Suppress"
    if not mail.envelope_sender:
        return "empty return path (a bounce or notification)"
    for address in (mail.envelope_sender, mail.from_address):
        if not address or _AUTOMATED_SENDER.match(address.partition("@")[0]):
            return "automated sender"
    if mail.envelope_sender.lower() in own or mail.from_address in own or mail.from_address in mail.recipients:
        return "sent from one of our own addresses"
    for name in _FAILING_VERDICTS:
        if mail.verdicts.get(name) == "FAIL":
            return f"{name} verdict FAIL"
    return None
