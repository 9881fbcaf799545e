import io
import json
import logging

import pytest

from due.ses_auto_reply import handler
from due_local.tables import create_table
from tests.unit.ses_auto_reply.conftest import EXAMPLES, receipt_event


@pytest.fixture
def environment(aws, fakes, monkeypatch):
    aws.client("ses").verify_domain_identity(Domain="example.com")
    aws.client("sesv2").create_email_template(**json.loads((EXAMPLES / "template.json").read_text()))
    create_table(aws.client("dynamodb"), "replies", "sender")
    for name, value in {"TEMPLATE_SOURCE": "SESv2", "TEMPLATE_NAME": "auto-reply", "DEFAULT_RESPONSE_ADDRESS": "",
                        "CONFIGURATION_SET_NAME": "", "OWN_ADDRESSES": "no-reply@example.com",
                        "REPLY_LOG_TABLE_NAME": "replies", "REPLY_WINDOW_HOURS": "24"}.items():
        monkeypatch.setenv(name, value)


def test_reply_and_a_log_line_without_addresses(environment, lambda_context, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", stream)
    assert handler.lambda_handler(receipt_event(), lambda_context) == {"outcome": "replied", "reason": ""}
    assert "inbound mail handled" in stream.getvalue()
    assert "jose.muller@example.net" not in stream.getvalue()


def test_failure_is_logged_with_the_message_id_and_raised_for_lambda_to_retry(environment, lambda_context,
                                                                             monkeypatch, caplog):
    monkeypatch.setenv("TEMPLATE_NAME", "missing")
    with caplog.at_level(logging.ERROR), pytest.raises(LookupError, match="'missing' does not exist"):
        handler.lambda_handler(receipt_event(), lambda_context)
    (record,) = [r for r in caplog.records if r.getMessage() == "reply failed"]
    assert record.ses_message_id == "o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1"
    assert record.error_type == "TemplateMissing"
