"""The wiring function as its two callers invoke it: CloudFormation and the schedule."""

import pytest

from due.ses_event_processing import identity_wiring, wiring_handler
from due_local.lambda_runtime import LambdaContext
from due_local.tables import create_table


@pytest.fixture
def ses(aws, monkeypatch):
    create_table(aws.client("dynamodb"), "wiring-state", "pk")
    monkeypatch.setenv("WIRING_STATE_TABLE_NAME", "wiring-state")
    # The pace is tested in test_identity_wiring; here no call waits a real second.
    monkeypatch.setattr(wiring_handler, "_pacer", lambda: identity_wiring.Pacer(interval=0))
    return aws.client("ses")


def test_the_schedule_wires_an_identity_verified_since_the_stack_was_created(ses, aws):
    topic = aws.client("sns").create_topic(Name="feedback")["TopicArn"]
    ses.verify_domain_identity(Domain="example.org")
    # The rule's constant input, as the template writes it.
    data = wiring_handler.lambda_handler({"TopicArn": topic, "Overwrite": "false"},
                                         LambdaContext(timeout_seconds=900))
    assert (data["Wired"], data["Complete"]) == ("2", "true")
    attributes = ses.get_identity_notification_attributes(Identities=["example.org"])["NotificationAttributes"]
    assert attributes["example.org"]["BounceTopic"] == topic


def test_a_run_stops_short_of_the_functions_timeout(ses, aws):
    topic = aws.client("sns").create_topic(Name="feedback")["TopicArn"]
    ses.verify_domain_identity(Domain="example.org")
    data = wiring_handler.lambda_handler({"TopicArn": topic}, LambdaContext(timeout_seconds=30))
    assert (data["Wired"], data["Complete"]) == ("0", "false")
