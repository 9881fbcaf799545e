"""scripts/package_and_deploy.sh's Python side: flags, parameters, bucket, stacks, launch links."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from scripts import deploy
from scripts.cfn import available_templates, load_template

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this interpreter running our own script)
        [sys.executable, "-m", "scripts.deploy", *args], cwd=REPO, capture_output=True,
        text=True, env=env, timeout=120)


def test_help_documents_every_flag():
    result = run_cli("--help")
    assert result.returncode == 0
    for flag in ("--local", "--template", "--region", "--stack-prefix", "--parameters-file", "--param", "--bucket",
                 "--upload-only"):
        assert flag in result.stdout
    for name in available_templates():
        assert name in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["--template", "Nope"], "unknown template Nope"),
    (["--local", "--region", "eu-west-1"], "--local deploys to the emulator"),
    (["--local", "--param", "novalue"], "expected Key=Value"),
    (["--local", "--parameters-file", "/no/such/file.json"], "--parameters-file /no/such/file.json"),
])
def test_bad_usage_is_a_clear_message_not_a_traceback(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_no_credentials_is_a_clear_message(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_DEFAULT_REGION": "us-east-1"}
    result = run_cli("--template", "SES_Event_Processing", env=env)
    assert result.returncode == 2
    assert "no usable AWS credentials" in result.stderr and "--local" in result.stderr
    assert "Traceback" not in result.stderr


def test_parameters_merge_file_then_flags_and_apply_star_only_where_declared(tmp_path):
    parameters_file = tmp_path / "p.json"
    parameters_file.write_text(json.dumps({"*": {"SoftBounceThreshold": "2", "PinpointApplicationId": "fromstar"},
                                           "SES_Event_Processing": {"WireIdentities": "false"}}))
    request = deploy.ParameterRequest.from_args(str(parameters_file), ["SoftBounceThreshold=4"])
    values = request.for_template("SES_Event_Processing", load_template("SES_Event_Processing"),
                                  {"CodeBucket": "b", "CodeKey": "k"})
    assert values == {"SoftBounceThreshold": "4", "WireIdentities": "false", "CodeBucket": "b", "CodeKey": "k"}


def test_unknown_and_missing_parameters_are_named():
    template = load_template("Pinpoint_Event_Processing")
    with pytest.raises(deploy.UsageError, match="has no parameter Nope"):
        deploy.ParameterRequest({"Pinpoint_Event_Processing": {"Nope": "1"}}).for_template(
            "Pinpoint_Event_Processing", template, {})
    with pytest.raises(deploy.UsageError, match="PinpointApplicationId: Id of an existing Pinpoint project"):
        deploy.ParameterRequest({}).for_template("Pinpoint_Event_Processing", template,
                                                 {"CodeBucket": "b", "CodeKey": "k"})


def test_missing_parameter_stops_before_anything_is_created(emulator, capsys):
    assert deploy.main(["--template", "Pinpoint_Event_Processing"]) == 2
    assert "needs parameters that were not given" in capsys.readouterr().err
    assert emulator.client("s3").list_buckets()["Buckets"] == []


def test_launch_url_opens_the_create_page_with_the_code_location():
    url = deploy.launch_url("eu-west-1", "https://b.s3.eu-west-1.amazonaws.com/templates/T.yaml", "due-t",
                            {"CodeBucket": "b", "CodeKey": "code/due-lambda-abc.zip", "Other": "x"})
    assert url.startswith("https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1"
                          "#/stacks/create/review?")
    query = urllib.parse.parse_qs(url.split("review?", 1)[1])
    assert query == {"templateURL": ["https://b.s3.eu-west-1.amazonaws.com/templates/T.yaml"],
                     "stackName": ["due-t"], "param_CodeBucket": ["b"], "param_CodeKey": ["code/due-lambda-abc.zip"]}


def test_artifact_bucket_is_versioned_encrypted_private_and_tls_only(emulator):
    s3 = emulator.client("s3")
    deploy.ensure_artifact_bucket(s3, "artifacts", "us-east-1", lambda line: None)
    deploy.ensure_artifact_bucket(s3, "artifacts", "us-east-1", lambda line: None)  # again: reuses it
    assert s3.get_bucket_versioning(Bucket="artifacts")["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket="artifacts")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket="artifacts")["PublicAccessBlockConfiguration"].values())
    # The emulator speaks plain HTTP: the TLS-only policy refuses it, as S3 would.
    with pytest.raises(s3.exceptions.ClientError, match=r"AccessDenied|Forbidden|403"):
        s3.put_object(Bucket="artifacts", Key="x", Body=b"x")


def test_deploy_stack_creates_then_reports_no_changes(emulator):
    s3, cfn = emulator.client("s3"), emulator.client("cloudformation")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="t.yaml", Body=b"""
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  QueueUrl:
    Value: !Ref Queue
""")
    url = "https://plain.s3.us-east-1.amazonaws.com/t.yaml"
    lines: list[str] = []
    outputs = deploy.deploy_stack(cfn, "s", url, {}, lines.append, poll_seconds=0.05)
    assert "/s-Queue-" in outputs["QueueUrl"]
    assert lines[0] == "creating stack s"
    # Events are streamed as they come (moto records the stack's own events only).
    assert lines[1:] == [f"  {'s':<28} {'AWS::CloudFormation::Stack':<40} CREATE_IN_PROGRESS (User Initiated)",
                         f"  {'s':<28} {'AWS::CloudFormation::Stack':<40} CREATE_COMPLETE"]
    again: list[str] = []
    assert deploy.deploy_stack(cfn, "s", url, {}, again.append, poll_seconds=0.05) == outputs
    assert again[0] == "updating stack s (CREATE_COMPLETE)"


def test_a_stack_that_failed_to_create_must_be_deleted_first(emulator):
    cfn = emulator.client("cloudformation")

    class RolledBack:
        exceptions = cfn.exceptions

        def describe_stacks(self, StackName):
            return {"Stacks": [{"StackStatus": "ROLLBACK_COMPLETE"}]}

    with pytest.raises(deploy.UsageError, match="must be deleted first: aws cloudformation delete-stack"):
        deploy.deploy_stack(RolledBack(), "s", "https://x/t.yaml", {}, print)


def test_local_run_fails_when_a_flow_fails(monkeypatch, capsys):
    from due_local import flows

    def broken_run(emulator, stack):
        return flows.FlowResult("SES_Event_Processing", "x", "y", problems=["nothing came out"])

    original = flows.FLOWS["SES_Event_Processing"]
    monkeypatch.setitem(flows.FLOWS, "SES_Event_Processing", flows.Flow(original.template, original.prepare,
                                                                        broken_run))
    assert deploy.main(["--local", "--template", "SES_Event_Processing"]) == 1
    output = capsys.readouterr().out
    assert "FAIL SES_Event_Processing" in output and "problem: nothing came out" in output
    assert "local run: 0 of 1 flows passed" in output
