"""Who the once-per-sender reply window counts: the person, not the envelope of one message.

The window keys on the author's address (the From header), not on the return
path the reply is sent to (RFC 3834 section 4). Return paths are rewritten per
message by design: BATV signs them with a tag that changes every day or message
(``prvs=<tag>=alice@example.com``), forwarders rewrite them with SRS
(``SRS0=<hash>=<time>=example.com=alice@forwarder.example``), and sending
services use one bounce address per message. Keyed on the return path, one
person could get a reply for every message; keyed on the From address, they get
one per window. (DMARC and SPF FAIL mail is never answered, so a From that
fails its domain's policy cannot buy extra replies.)

The key is also decoded and folded, erring towards fewer replies:
- BATV tags (``prvs=``, Microsoft's ``msprvs1=``) and SRS0/SRS1 rewriting are
  undone, in case they appear in a From header too;
- a sub-address (``alice+orders@``) counts as its mailbox (``alice@``): the
  ``+`` convention is not universal, but merging two of one person's
  sub-addresses costs at most one reply, never a loop;
- the whole address is lower-cased. RFC 5321 lets a local part be
  case-sensitive, but mailbox providers treat ``Alice@`` and ``alice@`` as one.
"""

from __future__ import annotations

import re

# BATV (draft-levine-smtp-batv): <tag-type>=<tag-val>=<local-part>@domain.
_BATV = re.compile(r"^(?:prvs|msprvs\d*)=[^=]+=(?P<local>.+)$", re.IGNORECASE)
# SRS0=<hash>=<timestamp>=<original domain>=<original local part>@forwarder (the
# separator after SRS0 may also be + or -); SRS1 wraps an SRS0 address rewritten
# again: SRS1=<hash>=<first forwarder>==<hash>=<timestamp>=<domain>=<local>@forwarder.
_SRS0 = re.compile(r"^srs0[=+-][^=]*=[^=]*=(?P<domain>[^=]+)=(?P<local>.+)$", re.IGNORECASE)
_SRS1 = re.compile(r"^srs1[=+-][^=]*=[^=]+=[=+-][^=]*=[^=]*=(?P<domain>[^=]+)=(?P<local>.+)$", re.IGNORECASE)


def canonical_address(address: str) -> str:
    """``address`` as one person's key: tags and rewriting removed, sub-address dropped, lower-cased."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if not local:
        return address.strip().lower()
    for _ in range(4):  # rewriting may be nested (SRS of a BATV address); each pass undoes one layer
        if batv := _BATV.match(local):
            local = batv["local"]
        elif srs := _SRS1.match(local) or _SRS0.match(local):
            local, domain = srs["local"], srs["domain"]
        else:
            break
    return f"{local.partition('+')[0] or local}@{domain}"
