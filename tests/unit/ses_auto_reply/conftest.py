from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from due.ses_auto_reply import inbound

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "ses_auto_reply"


def receipt_event(headers: dict[str, str] | None = None, source: str | None = None, from_header: str | None = None,
                  verdicts: dict[str, str] | None = None, recipients: list[str] | None = None,
                  subject: str | None = None) -> dict:
    """The sample receipt event with some parts changed."""
    event = copy.deepcopy(json.loads((EXAMPLES / "inbound.json").read_text()))
    mail, receipt = event["Records"][0]["ses"]["mail"], event["Records"][0]["ses"]["receipt"]
    for name, value in (headers or {}).items():
        mail["headers"].append({"name": name, "value": value})
    if source is not None:
        mail["source"] = source
    if from_header is not None:
        mail["commonHeaders"]["from"] = [from_header]
    if subject is not None:
        mail["commonHeaders"]["subject"] = subject
    for name, status in (verdicts or {}).items():
        receipt[f"{name}Verdict"] = {"status": status}
    if recipients is not None:
        receipt["recipients"] = recipients
    return event


@pytest.fixture
def mail() -> inbound.InboundMail:
    return inbound.parse(receipt_event())
