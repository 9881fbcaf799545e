"""The thin handler: settings from the environment, throttling past botocore handed to the state machine's Retry."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from due.advanced_segmentation import steps_handler
from due.advanced_segmentation.steps import Steps

ENVIRONMENT = {"MODE": "CustomerProfiles", "SEGMENT_TOKEN": "openers", "BUCKET_NAME": "b", "DATABASE": "due_events",
               "TABLE": "events", "WORKGROUP": "segment-x", "QUERY_NAME": "email_openers",
               "QUERY_VALUES": "minimum_opens=2,days=30", "PERSON_KEY": "email", "DOMAIN_NAME": "people",
               "PINPOINT_APPLICATION_ID": "", "CALLS_PER_SECOND": "80", "RATE_TABLE_NAME": "rates",
               "NOTIFICATIONS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t"}


@pytest.fixture
def environment(monkeypatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def test_settings_come_from_the_environment(environment):
    settings = steps_handler.settings_from_environment()
    assert (settings.segment_token, settings.calls_per_second, settings.results_location) == (
        "openers", 80.0, "s3://b/athena-results/")
    assert settings.audience_key == "audience/openers.csv"


def test_throttling_that_outlasts_botocore_becomes_a_transient_error_and_a_refusal_does_not(environment,
                                                                                           monkeypatch,
                                                                                           lambda_context):
    def throttled(self, action, state):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "UpdateProfile")

    def refused(self, action, state):
        raise ClientError({"Error": {"Code": "BadRequestException", "Message": "ana@example.com is not valid"}},
                          "SearchProfiles")

    event = {"action": "apply", "state": {"run": {"id": "r1"}}}
    monkeypatch.setattr(Steps, "run", throttled)
    with pytest.raises(steps_handler.TransientError, match=r"apply: .*ThrottlingException"):
        steps_handler.lambda_handler(event, lambda_context)
    monkeypatch.setattr(Steps, "run", refused)  # not passing trouble: the run fails at once, announced
    with pytest.raises(steps_handler.ServiceError) as raised:
        steps_handler.lambda_handler(event, lambda_context)
    # The message becomes the Step Functions Cause and the notification: the service's text (it may quote the
    # key) stays out of it.
    assert str(raised.value) == "apply: SearchProfiles answered BadRequestException (HTTP ?)"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
