import pytest

from due.self_managed_opt_outs.keywords import Intent, KeywordRules

RULES = KeywordRules(extra_opt_out=["BASTA", " ", "halt"])


@pytest.mark.parametrize(("body", "intent", "keyword"), [
    ("stop", Intent.OPT_OUT, "STOP"),
    ("Stop.", Intent.OPT_OUT, "STOP"),
    ("STOP please", Intent.OPT_OUT, "STOP"),
    ("  stop!!  ", Intent.OPT_OUT, "STOP"),
    ("\"Stop\"", Intent.OPT_OUT, "STOP"),
    ("STOPALL", Intent.OPT_OUT, "STOPALL"),
    ("unsubscribe me", Intent.OPT_OUT, "UNSUBSCRIBE"),
    ("Cancel", Intent.OPT_OUT, "CANCEL"),
    ("end", Intent.OPT_OUT, "END"),
    ("quit", Intent.OPT_OUT, "QUIT"),
    ("opt-out", Intent.OPT_OUT, "OPT-OUT"),
    ("OPTOUT", Intent.OPT_OUT, "OPTOUT"),
    ("remove", Intent.OPT_OUT, "REMOVE"),
    ("Arret", Intent.OPT_OUT, "ARRET"),
    ("basta!", Intent.OPT_OUT, "BASTA"),  # added by parameter
    ("Halt", Intent.OPT_OUT, "HALT"),
    ("START", Intent.OPT_IN, "START"),
    ("unstop", Intent.OPT_IN, "UNSTOP"),
    ("Yes", Intent.OPT_IN, "YES"),
    ("help", Intent.HELP, "HELP"),
    ("Help?", Intent.HELP, "HELP"),
    ("info", Intent.HELP, "INFO"),
    ("SEND", Intent.NONE, ""),
    ("WEEKEND", Intent.NONE, ""),
    ("don't stop", Intent.NONE, ""),
    ("Please stop", Intent.NONE, ""),
    ("stopping by later", Intent.NONE, ""),
    ("endless fun", Intent.NONE, ""),
    ("", Intent.NONE, ""),
    ("   ", Intent.NONE, ""),
    ("?!", Intent.NONE, ""),
])
def test_first_word_rule(body, intent, keyword):
    assert RULES.classify(body) == (intent, keyword)
