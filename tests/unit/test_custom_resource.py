import time

import pytest

from due.custom_resource import respond_to_cloudformation
from due_local.cfn_response import ResponseCatcher
from due_local.lambda_runtime import LambdaContext


@pytest.fixture
def catcher():
    running = ResponseCatcher()
    yield running
    running.close()


def ok(properties, old, physical_id):
    return physical_id, {"Echo": properties.get("Value", "")}


def boom(properties, old, physical_id):
    raise RuntimeError("identity example.org is not verified")


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_success_for_every_request_type(catcher, request_type):
    event = catcher.event(request_type, {"Value": "x"}, physical_id=None if request_type == "Create" else "p-1")
    respond_to_cloudformation(event, LambdaContext(), create=ok, update=ok, delete=ok)
    (response,) = catcher.responses
    assert response["Status"] == "SUCCESS"
    assert response["Data"] == {"Echo": "x"}
    assert response["RequestId"] == "r-1" and response["LogicalResourceId"] == "Thing"
    if request_type != "Create":
        assert response["PhysicalResourceId"] == "p-1"  # never changes on Update/Delete


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_failure_answers_failed_with_the_reason(catcher, request_type):
    respond_to_cloudformation(catcher.event(request_type, {}, physical_id="p-1"), LambdaContext(),
                              create=boom, update=boom, delete=boom)
    (response,) = catcher.responses
    assert response["Status"] == "FAILED"
    assert response["Reason"] == "RuntimeError: identity example.org is not verified"


def test_unknown_request_type_answers_failed(catcher):
    respond_to_cloudformation(catcher.event("Teleport", {}), LambdaContext(), create=ok, update=ok, delete=ok)
    assert catcher.responses[0]["Status"] == "FAILED"
    assert "unknown RequestType 'Teleport'" in catcher.responses[0]["Reason"]


def test_answers_failed_before_the_function_times_out(catcher, monkeypatch):
    monkeypatch.setattr("due.custom_resource.TIMEOUT_MARGIN_SECONDS", 11.5)  # fires 0.5 s into a 12 s budget

    def slow(properties, old, physical_id):
        time.sleep(3)  # well past the 1 s timer, so a busy machine cannot reorder them
        return physical_id, {}

    respond_to_cloudformation(catcher.event("Create", {}), LambdaContext(timeout_seconds=12),
                              create=slow, update=slow, delete=slow)
    assert [r["Status"] for r in catcher.responses] == ["FAILED"]  # exactly one answer, the timeout's
    assert "timed out" in catcher.responses[0]["Reason"]
