"""The Pinpoint event stream custom resource: retried through IAM propagation, removed only while it is ours."""

from __future__ import annotations

import pytest

from due import aws as due_aws
from due import pinpoint_event_stream
from due.custom_resource import TIMEOUT_MARGIN_SECONDS
from due.pinpoint_event_stream import EventStreamRefused, point, remove
from due_local.cfn_response import ResponseCatcher
from due_local.lambda_runtime import LambdaContext
from scripts.cfn import load_template

OURS = "arn:aws:firehose:us-east-1:123456789012:deliverystream/data-lake"
ROLE = "arn:aws:iam::123456789012:role/pinpoint-stream"
ELSEWHERE = "arn:aws:kinesis:us-east-1:123456789012:stream/someone-else"


class FakeClock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def project(aws, fakes) -> str:
    return aws.client("pinpoint").create_app(CreateApplicationRequest={"Name": "p"})["ApplicationResponse"]["Id"]


@pytest.fixture
def pinpoint(aws, fakes):
    return aws.client("pinpoint")


def test_a_refused_stream_is_retried_with_backoff_until_pinpoint_takes_it(pinpoint, fakes, project):
    fakes.pinpoint.fail_next("PutEventStream", "BadRequestException", times=3,
                             message="Make sure the IAM Role is configured correctly")
    clock = FakeClock()

    attempts = point(pinpoint, project, OURS, ROLE, sleep=clock.sleep, clock=clock)

    assert attempts == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert fakes.pinpoint.event_streams[project]["DestinationStreamArn"] == OURS
    assert fakes.pinpoint.event_streams[project]["RoleArn"] == ROLE


def test_throttling_that_outlasts_botocore_is_retried_too(fakes, project, no_backoff):
    # The handler's client tries 5 times itself (standard mode): the 5 refusals reach our loop as one, whose
    # second call is refused once more and then taken by botocore's retry.
    fakes.pinpoint.fail_next("PutEventStream", "TooManyRequestsException", times=6, status=429)
    clock = FakeClock()

    assert point(due_aws.client("pinpoint"), project, OURS, ROLE, sleep=clock.sleep, clock=clock) == 2
    assert len(fakes.pinpoint.calls_of("PutEventStream")) == 7
    assert project in fakes.pinpoint.event_streams


def test_gives_up_after_the_budget_with_pinpoints_message(pinpoint, fakes, project):
    fakes.pinpoint.fail_next("PutEventStream", "BadRequestException", times=100,
                             message="Make sure the IAM Role is configured correctly")
    clock = FakeClock()

    with pytest.raises(EventStreamRefused) as refused:
        point(pinpoint, project, OURS, ROLE, budget_seconds=60, sleep=clock.sleep, clock=clock)

    assert clock.now <= 60
    assert str(refused.value) == (
        f"Pinpoint still refused the event stream of project {project} after {len(clock.sleeps) + 1} attempts "
        f"over {clock.now:.0f} s: BadRequestException: Make sure the IAM Role is configured correctly")
    assert project not in fakes.pinpoint.event_streams


def test_an_error_that_is_not_propagation_fails_at_once(pinpoint, fakes, project):
    fakes.pinpoint.fail_next("PutEventStream", "ForbiddenException", status=403, message="not allowed")
    clock = FakeClock()

    with pytest.raises(EventStreamRefused, match=f"project {project}: ForbiddenException: not allowed"):
        point(pinpoint, project, OURS, ROLE, sleep=clock.sleep, clock=clock)

    assert clock.sleeps == []
    assert len(fakes.pinpoint.calls_of("PutEventStream")) == 1


def test_delete_removes_the_stream_while_it_is_ours(pinpoint, fakes, project):
    point(pinpoint, project, OURS, ROLE)

    assert remove(pinpoint, project, OURS) is True
    assert project not in fakes.pinpoint.event_streams


def test_delete_leaves_a_stream_pointed_elsewhere_since_alone(pinpoint, fakes, project):
    point(pinpoint, project, OURS, ROLE)
    pinpoint.put_event_stream(ApplicationId=project,
                              WriteEventStream={"DestinationStreamArn": ELSEWHERE, "RoleArn": ROLE})

    assert remove(pinpoint, project, OURS) is False
    assert fakes.pinpoint.event_streams[project]["DestinationStreamArn"] == ELSEWHERE
    assert fakes.pinpoint.calls_of("DeleteEventStream") == []


def test_delete_of_a_project_without_a_stream_succeeds(pinpoint, fakes, project):
    assert remove(pinpoint, project, OURS) is False


# ------------------------------------------------------------------ handler
@pytest.fixture
def catcher():
    running = ResponseCatcher()
    yield running
    running.close()


def test_handler_answers_cloudformation_with_the_project_as_physical_id(fakes, project, catcher, monkeypatch):
    monkeypatch.setattr(pinpoint_event_stream, "FIRST_DELAY_SECONDS", 0.0)
    fakes.pinpoint.fail_next("PutEventStream", "BadRequestException", message="role not usable yet")
    properties = {"ApplicationId": project, "DestinationStreamArn": OURS, "RoleArn": ROLE}

    pinpoint_event_stream.lambda_handler(catcher.event("Create", properties), LambdaContext(timeout_seconds=300))
    pinpoint_event_stream.lambda_handler(catcher.event("Delete", properties, physical_id=f"{project}/event-stream"),
                                         LambdaContext(timeout_seconds=300))

    created, deleted = catcher.responses
    assert (created["Status"], created["PhysicalResourceId"], created["Data"]) == (
        "SUCCESS", f"{project}/event-stream", {"Attempts": "2"})
    assert (deleted["Status"], deleted["Data"]) == ("SUCCESS", {"Removed": "true"})
    assert fakes.pinpoint.event_streams == {}


def test_handler_fails_with_pinpoints_reason(fakes, project, catcher):
    fakes.pinpoint.fail_next("PutEventStream", "NotFoundException", status=404, message="Application not found")
    properties = {"ApplicationId": project, "DestinationStreamArn": OURS, "RoleArn": ROLE}

    pinpoint_event_stream.lambda_handler(catcher.event("Create", properties), LambdaContext(timeout_seconds=300))

    (response,) = catcher.responses
    assert response["Status"] == "FAILED"
    assert response["Reason"] == (f"EventStreamRefused: Pinpoint refused the event stream of project {project}: "
                                  "NotFoundException: Application not found")


# ---------------------------------------------------------------- templates
STREAM_OF = {"Pinpoint_Event_Processing": "EventStream", "S3_Data_Lake": "DeliveryStream"}


@pytest.mark.parametrize("template_name", sorted(STREAM_OF))
def test_both_templates_set_the_stream_with_this_custom_resource(template_name):
    resources = load_template(template_name)["Resources"]
    assert [k for k, v in resources.items() if v["Type"] == "AWS::Pinpoint::EventStream"] == []
    stream = resources["PinpointProjectEventStream"]
    assert stream["Type"] == "Custom::PinpointEventStream"
    assert stream["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": ["PinpointEventStreamFunction", "Arn"]},
        "ApplicationId": {"Ref": "PinpointApplicationId"},
        "DestinationStreamArn": {"Fn::GetAtt": [STREAM_OF[template_name], "Arn"]},
        "RoleArn": {"Fn::GetAtt": ["PinpointStreamRole", "Arn"]},
    }
    function = resources["PinpointEventStreamFunction"]["Properties"]
    assert function["Handler"] == "due.pinpoint_event_stream.lambda_handler"
    # The last attempt may start just before the budget ends and take botocore's own attempts, each up to its
    # connect and read timeouts; the function must still answer CloudFormation before Lambda stops it.
    config = due_aws.RETRY_CONFIG
    one_call = config.retries["total_max_attempts"] * (config.connect_timeout + config.read_timeout)
    assert function["Timeout"] - TIMEOUT_MARGIN_SECONDS >= pinpoint_event_stream.RETRY_BUDGET_SECONDS + one_call


@pytest.mark.parametrize("template_name", sorted(STREAM_OF))
def test_the_function_may_set_only_event_streams_and_pass_only_the_stream_role(template_name):
    resources = load_template(template_name)["Resources"]
    (policy,) = resources["PinpointEventStreamFunctionRole"]["Properties"]["Policies"]
    granted = {s["Sid"]: (s["Action"], s["Resource"]) for s in policy["PolicyDocument"]["Statement"]}
    # Event streams of any project in the account's region: an update to another project removes the old one's.
    assert granted["SetProjectEventStream"] == (
        ["mobiletargeting:PutEventStream", "mobiletargeting:GetEventStream", "mobiletargeting:DeleteEventStream"],
        {"Fn::Sub": "arn:${AWS::Partition}:mobiletargeting:${AWS::Region}:${AWS::AccountId}:apps/*/eventstream"})
    assert granted["HandPinpointTheStreamRole"] == ("iam:PassRole", {"Fn::GetAtt": ["PinpointStreamRole", "Arn"]})


def test_the_data_lake_creates_the_stream_setter_only_with_a_project():
    resources = load_template("S3_Data_Lake")["Resources"]
    for logical_id in ("PinpointProjectEventStream", "PinpointEventStreamFunction", "PinpointEventStreamFunctionRole",
                       "PinpointEventStreamLogGroup", "PinpointStreamRole", "PinpointStreamPolicy"):
        assert resources[logical_id]["Condition"] == "StreamPinpointEvents", logical_id
