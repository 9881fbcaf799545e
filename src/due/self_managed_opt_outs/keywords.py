"""Which keyword a reply is, by one written rule.

The rule: take the message, trimmed; its first word (letters, digits and
hyphens), compared without regard to case, is the keyword. Punctuation around
it does not matter. So "stop", "Stop." and "STOP please" opt out; "SEND",
"WEEKEND" and "don't stop" do not (their first words are SEND, WEEKEND and
don't). A message that is only punctuation or empty has no keyword.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

OPT_OUT_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPT-OUT", "OPTOUT", "REMOVE", "ARRET")
OPT_IN_KEYWORDS = ("START", "UNSTOP", "YES")
HELP_KEYWORDS = ("HELP", "INFO")

_FIRST_WORD = re.compile(r"^[^\w'-]*([\w'-]+)")


class Intent(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    NONE = "none"


class KeywordRules:
    def __init__(self, extra_opt_out: Iterable[str] = ()):
        self._intents: dict[str, Intent] = {}
        for words, intent in ((HELP_KEYWORDS, Intent.HELP), (OPT_IN_KEYWORDS, Intent.OPT_IN),
                              ((*OPT_OUT_KEYWORDS, *extra_opt_out), Intent.OPT_OUT)):
            for word in words:
                if word.strip():
                    self._intents[word.strip().upper()] = intent

    def classify(self, body: str) -> tuple[Intent, str]:
        """The intent and the keyword that decided it ("" when none)."""
        match = _FIRST_WORD.match(body.strip())
        if not match:
            return Intent.NONE, ""
        word = match.group(1).upper().rstrip("'")
        intent = self._intents.get(word, Intent.NONE)
        return intent, word if intent is not Intent.NONE else ""
