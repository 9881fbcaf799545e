"""Package the Lambda code, upload it with the templates, and deploy stacks.

Run through scripts/package_and_deploy.sh, which sets up the venv first.
With --local everything happens against an AWS emulator started on
127.0.0.1 (no account needed), and each architecture's sample flow is run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CODE_PARAMETERS = ("CodeBucket", "CodeKey")
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
          "UPDATE_ROLLBACK_FAILED", "DELETE_COMPLETE", "DELETE_FAILED", "UPDATE_FAILED"}

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.cfn import TEMPLATES_DIR, TemplateError, available_templates, load_template  # noqa: E402


class UsageError(Exception):
    """Something the user can fix: printed without a traceback, exit code 2."""


# ------------------------------------------------------------------ templates
@dataclass
class ParameterRequest:
    """Parameters from --parameters-file and --param, before they meet a template."""

    per_template: dict[str, dict[str, str]]  # template name or "*" -> {key: value}

    @classmethod
    def from_args(cls, parameters_file: str | None, params: list[str]) -> ParameterRequest:
        per_template: dict[str, dict[str, str]] = {}
        if parameters_file:
            try:
                loaded = json.loads(Path(parameters_file).read_text())
            except (OSError, ValueError) as exc:
                raise UsageError(f"--parameters-file {parameters_file}: {exc}") from None
            if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
                raise UsageError('--parameters-file must hold {"TemplateName" or "*": {"Key": "value"}}')
            per_template = {name: {k: str(v) for k, v in values.items()} for name, values in loaded.items()}
        for item in params:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UsageError(f"--param {item!r}: expected Key=Value or Template.Key=Value")
            template, _, key = key.rpartition(".") if "." in key else ("*", "", key)
            per_template.setdefault(template or "*", {})[key] = value
        return cls(per_template)

    def for_template(self, name: str, template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
        declared = template.get("Parameters", {})
        values = {k: v for k, v in self.per_template.get("*", {}).items() if k in declared}
        specific = self.per_template.get(name, {})
        unknown = sorted(set(specific) - set(declared))
        if unknown:
            raise UsageError(f"{name} has no parameter {', '.join(unknown)} (it has: {', '.join(declared)})")
        values.update(specific)
        values.update(given)
        missing = [k for k, spec in declared.items() if "Default" not in spec and k not in values]
        if missing:
            lines = [f"  {k}: {declared[k].get('Description', '').strip()}" for k in missing]
            raise UsageError(f"{name} needs parameters that were not given:\n" + "\n".join(lines)
                             + f"\nPass them with --param {name}.{missing[0]}=VALUE or --parameters-file.")
        return values


# ----------------------------------------------------------------- artifacts
def artifact_bucket_name(account: str, region: str) -> str:
    return f"due-artifacts-{account}-{region}"


def tls_only_policy(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


def ensure_artifact_bucket(s3, bucket: str, region: str, say: Callable[[str], None], tls_only: bool = True) -> None:
    """A versioned, encrypted, private, TLS-only bucket; created once, settings re-applied every time."""
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise UsageError(f"artifact bucket {bucket} exists but is not usable by you: {exc}") from None
        say(f"creating artifact bucket s3://{bucket}")
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **kwargs)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    if tls_only:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_policy(bucket)))


def upload_code(s3, bucket: str, zip_path: Path, digest: str, say: Callable[[str], None]) -> str:
    key = f"code/due-lambda-{digest}.zip"
    try:
        s3.head_object(Bucket=bucket, Key=key)
        say(f"code s3://{bucket}/{key} already uploaded")
    except s3.exceptions.ClientError:
        s3.upload_file(str(zip_path), bucket, key)
        say(f"uploaded code to s3://{bucket}/{key}")
    return key


def upload_template(s3, bucket: str, region: str, name: str) -> str:
    key = f"templates/{name}.yaml"
    s3.upload_file(str(TEMPLATES_DIR / f"{name}.yaml"), bucket, key)
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def launch_url(region: str, template_url: str, stack_name: str, parameters: dict[str, str]) -> str:
    query = {"templateURL": template_url, "stackName": stack_name}
    query.update({f"param_{k}": v for k, v in parameters.items() if k in CODE_PARAMETERS})
    return (f"https://{region}.console.aws.amazon.com/cloudformation/home?region={region}"
            f"#/stacks/create/review?{urllib.parse.urlencode(query)}")


# --------------------------------------------------------------------- stacks
def deploy_stack(cfn, stack_name: str, template_url: str, parameters: dict[str, str], say: Callable[[str], None],
                 poll_seconds: float = 5.0, timeout_seconds: float = 3600) -> dict[str, str]:
    """Create or update ``stack_name``, streaming its events; returns its outputs."""
    existing = _stack_status(cfn, stack_name)
    if existing == "ROLLBACK_COMPLETE":
        raise UsageError(f"stack {stack_name} failed to create earlier and must be deleted first: "
                         f"aws cloudformation delete-stack --stack-name {stack_name}")
    arguments = {
        "StackName": stack_name, "TemplateURL": template_url, "Capabilities": ["CAPABILITY_IAM"],
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
    }
    seen = {e["EventId"] for e in _events(cfn, stack_name)} if existing else set()
    if existing is None:
        say(f"creating stack {stack_name}")
        cfn.create_stack(**arguments)
    else:
        say(f"updating stack {stack_name} ({existing})")
        try:
            cfn.update_stack(**arguments)
        except cfn.exceptions.ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            say(f"{stack_name}: no changes")
            return _outputs(cfn, stack_name)
    deadline = time.monotonic() + timeout_seconds
    while True:
        for event in reversed(_events(cfn, stack_name)):
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                reason = f" ({event['ResourceStatusReason']})" if event.get("ResourceStatusReason") else ""
                say(f"  {event['LogicalResourceId']:<28} {event['ResourceType']:<40} {event['ResourceStatus']}{reason}")
        status = _stack_status(cfn, stack_name)
        if status in DONE:
            return _outputs(cfn, stack_name)
        if status in FAILED:
            raise UsageError(f"stack {stack_name} ended in {status}; see the events above")
        if time.monotonic() > deadline:
            raise UsageError(f"stack {stack_name} still {status} after {timeout_seconds:.0f}s")
        time.sleep(poll_seconds)


def _stack_status(cfn, stack_name: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def _events(cfn, stack_name: str) -> list[dict[str, Any]]:
    return cfn.describe_stack_events(StackName=stack_name)["StackEvents"]


def _outputs(cfn, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def stack_name_for(prefix: str, template: str) -> str:
    return f"{prefix}-{template.replace('_', '-').lower()}"


# ----------------------------------------------------------------- the runs
def build_code(say: Callable[[str], None]) -> tuple[Path, str]:
    from scripts.build_zip import build

    zip_path, digest = build(REPO / "dist")
    say(f"built {zip_path.relative_to(REPO)} ({zip_path.stat().st_size / 1e6:.2f} MB, sha256 {digest[:12]}...)")
    return zip_path, digest


def run_account(args, request: ParameterRequest, say: Callable[[str], None]) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        session = boto3.Session(region_name=(args.region or [None])[0])
        account = session.client("sts").get_caller_identity()["Account"]
    except (NoCredentialsError, BotoCoreError, ClientError) as exc:
        raise UsageError(f"no usable AWS credentials ({exc}); configure them, or run with --local") from None
    regions = args.region or [session.region_name or ""]
    if not all(regions):
        raise UsageError("no region: pass --region or set AWS_REGION")
    templates = {name: load_template(name) for name in args.template}
    for name, template in templates.items():  # every parameter problem is reported before anything changes
        request.for_template(name, template, dict.fromkeys(CODE_PARAMETERS, "-"))
    zip_path, digest = build_code(say)
    for region in regions:
        s3 = session.client("s3", region_name=region)
        bucket = args.bucket or artifact_bucket_name(account, region)
        ensure_artifact_bucket(s3, bucket, region, say)
        key = upload_code(s3, bucket, zip_path, digest, say)
        cfn = session.client("cloudformation", region_name=region)
        for name, template in templates.items():
            parameters = request.for_template(name, template, {"CodeBucket": bucket, "CodeKey": key})
            url = upload_template(s3, bucket, region, name)
            stack_name = stack_name_for(args.stack_prefix, name)
            if not args.upload_only:
                outputs = deploy_stack(cfn, stack_name, url, parameters, say)
                for output_key, value in outputs.items():
                    say(f"  output {output_key} = {value}")
            say(f"launch {name} in {region} from the console: {launch_url(region, url, stack_name, parameters)}")
    return 0


@dataclass
class LocalArtifacts:
    bucket: str
    code_key: str


def prepare_local_artifacts(emulator, say: Callable[[str], None],
                            built: tuple[Path, str] | None = None) -> LocalArtifacts:
    zip_path, digest = built or build_code(say)
    s3 = emulator.client("s3")
    bucket = artifact_bucket_name("123456789012", emulator.region)
    # The emulator speaks plain HTTP, which the TLS-only policy would (rightly) refuse.
    ensure_artifact_bucket(s3, bucket, emulator.region, say, tls_only=False)
    say("artifact bucket: TLS-only policy left off locally (the emulator speaks plain HTTP)")
    return LocalArtifacts(bucket, upload_code(s3, bucket, zip_path, digest, say))


def deploy_local(emulator, artifacts: LocalArtifacts, name: str, given: dict[str, str],
                 request: ParameterRequest | None = None, stack_prefix: str = "due"):
    """Deploy one template to the emulator exactly as to an account; returns the emulator's Stack."""
    template = load_template(name)
    request = request or ParameterRequest({})
    parameters = request.for_template(name, template, {"CodeBucket": artifacts.bucket,
                                                        "CodeKey": artifacts.code_key, **given})
    stack_name = stack_name_for(stack_prefix, name)
    url = upload_template(emulator.client("s3"), artifacts.bucket, emulator.region, name)
    deploy_stack(emulator.client("cloudformation"), stack_name, url, parameters, lambda line: None,
                 poll_seconds=0.2, timeout_seconds=120)
    return emulator.stack(stack_name, template)


def run_local(args, request: ParameterRequest, say: Callable[[str], None]) -> int:
    """Everything against the local emulator (src/due_local), then each template's sample flow."""
    from due_local.local_run import run_samples

    return run_samples(args.template, request, say, args.stack_prefix)


# ------------------------------------------------------------------------ CLI
def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/package_and_deploy.sh",
        description="Build the Lambda code zip, upload it and the templates to an artifact bucket, and deploy "
                    "the stacks. Without --local this uses the AWS account of your current credentials.",
        epilog="Templates:\n" + "".join(f"  {name}\n" for name in available_templates()) + "\nExamples:\n"
               "  scripts/package_and_deploy.sh --local\n"
               "  scripts/package_and_deploy.sh --template SES_Event_Processing --region eu-west-1\n"
               "  scripts/package_and_deploy.sh --template Pinpoint_Event_Processing "
               "--param Pinpoint_Event_Processing.PinpointApplicationId=abc123\n"
               "  scripts/package_and_deploy.sh --upload-only   # only print one-click launch URLs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--local", action="store_true",
                        help="deploy to a local AWS emulator (moto on 127.0.0.1) and run each architecture's "
                             "sample flow; needs no AWS account; exits non-zero if any flow fails")
    parser.add_argument("--template", action="append", metavar="NAME",
                        help="template to deploy (repeatable; default: all; the names are listed below)")
    parser.add_argument("--region", action="append", metavar="REGION",
                        help="region to deploy to (repeatable; default: your configured region)")
    parser.add_argument("--stack-prefix", default="due", help="stack names are PREFIX-template-name (default: due)")
    parser.add_argument("--parameters-file", metavar="FILE",
                        help='JSON file: {"TemplateName": {"Key": "value"}, "*": {"Key": "value"}}; '
                             '"*" applies to every template that declares the key')
    parser.add_argument("--param", action="append", default=[], metavar="[TEMPLATE.]KEY=VALUE",
                        help="a stack parameter (repeatable); without TEMPLATE. it applies to every template "
                             "that declares KEY; overrides --parameters-file")
    parser.add_argument("--bucket", help="artifact bucket (default: due-artifacts-ACCOUNT-REGION, created if missing)")
    parser.add_argument("--upload-only", action="store_true",
                        help="upload code and templates and print the console launch URLs; deploy nothing")
    args = parser.parse_args(argv)
    known = available_templates()
    args.template = args.template or known
    unknown = [t for t in args.template if t not in known]
    if unknown:
        parser.error(f"unknown template {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.local and (args.region or args.bucket or args.upload_only):
        parser.error("--local deploys to the emulator: --region, --bucket and --upload-only do not apply")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        request = ParameterRequest.from_args(args.parameters_file, args.param)
        return run_local(args, request, say) if args.local else run_account(args, request, say)
    except (UsageError, TemplateError) as exc:
        print(f"package_and_deploy: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
