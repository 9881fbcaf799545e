"""The refresh state machine's error handling, read from the template."""

from __future__ import annotations

from scripts.cfn import load_template

# Step Functions Developer Guide, "Handle Lambda service exceptions": retry these four.
LAMBDA_SERVICE_EXCEPTIONS = {"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
                             "Lambda.AWSLambdaException", "Lambda.SdkClientException"}


def test_every_task_retries_lambdas_service_exceptions_and_is_caught():
    definition = load_template("Advanced_Segmentation_S3")["Resources"]["RefreshStateMachine"]["Properties"][
        "Definition"]
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert len(tasks) == 6
    for name, task in tasks.items():
        retried = {error for retry in task["Retry"] for error in retry["ErrorEquals"]}
        assert retried >= LAMBDA_SERVICE_EXCEPTIONS, name
        assert task["Catch"], name
