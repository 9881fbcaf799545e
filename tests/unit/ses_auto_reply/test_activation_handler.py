import pytest

from due.ses_auto_reply import activation_handler
from due_local.cfn_response import ResponseCatcher
from due_local.lambda_runtime import LambdaContext


@pytest.fixture
def catcher():
    running = ResponseCatcher()
    yield running
    running.close()


def test_an_update_that_renames_the_rule_set_still_restores_the_set_active_before_the_stack(aws, catcher):
    ses = aws.client("ses")
    for name in ("theirs", "stack-old-name", "auto-reply-uuid"):
        ses.create_receipt_rule_set(RuleSetName=name)
    ses.set_active_receipt_rule_set(RuleSetName="stack-old-name")
    update = catcher.event("Update", {"RuleSetName": "auto-reply-uuid"}, old={"RuleSetName": "stack-old-name"},
                           physical_id="active-rule-set:stack-old-name:previous:theirs")
    activation_handler.lambda_handler(update, LambdaContext())
    (response,) = catcher.responses
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == "active-rule-set:auto-reply-uuid:previous:theirs"
