"""The local run: deploy templates to the emulator, then push sample input, or yours, through them.

Two ways in:

* ``scripts/package_and_deploy.sh --local`` deploys every template (or those named)
  and runs each architecture's sample flow from ``examples/`` (``run_samples``).
* ``python -m due_local --template NAME --input FILE`` deploys one template and
  delivers your own file or events where AWS would deliver them for that
  architecture (``flows.FEEDS``), then reports what came out: messages sent,
  addresses suppressed, table items and objects written, notifications
  published, dead letters. ``--serve`` keeps the emulator up afterwards so you
  can look with the AWS CLI.

What the emulator stands in for, and what it cannot do, is in this package's
``__init__`` and in the README.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from due_local.emulator import Emulator, Stack
from due_local.flows import FEEDS, FLOWS, NotTaken, listen, sent_mail
from scripts.cfn import available_templates
from scripts.deploy import ParameterRequest, TemplateError, UsageError, deploy_local, prepare_local_artifacts

Say = Callable[[str], None]


# ------------------------------------------------------------- sample flows
def run_samples(templates: list[str], request: ParameterRequest, say: Say, stack_prefix: str = "due") -> int:
    """Deploy each template and run its sample flow; one line each. Returns the exit code."""
    results = []
    with Emulator(function_log_level="WARNING") as emulator:
        say(f"local AWS emulator (moto) listening on {emulator.endpoint}")
        artifacts = prepare_local_artifacts(emulator, say)
        for name in templates:
            flow = FLOWS.get(name)
            try:
                stack = deploy_local(emulator, artifacts, name, flow.prepare(emulator) if flow else {}, request,
                                     stack_prefix)
            except UsageError as exc:
                say(f"FAIL {name}: deploy: {exc}")
                results.append(False)
                continue
            say(emulation_report(name, stack))
            if flow is None:
                say(f"---- {name}: deployed; no sample flow yet")
                continue
            try:
                result = flow.run(emulator, stack)
            except Exception as exc:  # a crashing flow is a failed flow, reported with the rest
                say(f"FAIL {name}: the flow raised {type(exc).__name__}: {exc}")
                results.append(False)
                continue
            say(result.line())
            results.append(result.passed)
    passed = sum(results)
    say(f"local run: {passed} of {len(results)} flows passed")
    return 0 if results and all(results) else 1


def emulation_report(name: str, stack: Stack) -> str:
    """What the emulator created, what it skipped (moto reports those created without creating them)."""
    created, skipped_by_emulator, not_created = [], set(), []
    conditions = stack.conditions
    for logical_id, resource in stack.template.get("Resources", {}).items():
        if not conditions.get(resource.get("Condition"), True):
            not_created.append(logical_id)
        elif logical_id in stack.resources:
            created.append(logical_id)
        else:
            skipped_by_emulator.add(resource["Type"])
    line = f"deployed {name}: {len(created)} resources created"
    if skipped_by_emulator:
        line += f"; not emulated locally: {', '.join(sorted(skipped_by_emulator))}"
    if not_created:
        line += f"; not created (conditions): {', '.join(not_created)}"
    return line


# ----------------------------------------------------------- what came out
@dataclass
class Snapshot:
    """What a user can see of the account: read before and after their input, then compared."""

    sms_sent: int = 0
    mail_sent: int = 0
    suppressed: set[str] = field(default_factory=set)
    opted_out: set[tuple[str, str]] = field(default_factory=set)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # "table/key" -> item
    objects: dict[str, tuple[str, str]] = field(default_factory=dict)  # "BucketLogicalId/key" -> (bucket, key)
    queue_depths: dict[str, int] = field(default_factory=dict)  # output name -> messages
    profiles: dict[str, str] = field(default_factory=dict)  # Customer Profiles: profile id -> the profile, as JSON
    invocations: int = 0

    @classmethod
    def take(cls, emulator: Emulator, stack: Stack) -> Snapshot:
        fakes = emulator.fakes
        snapshot = cls(
            sms_sent=len(fakes.sms.sent), mail_sent=len(sent_mail()), suppressed=set(fakes.sesv2.suppressed),
            opted_out={(name, number) for name, numbers in fakes.sms.opt_out_lists.items() for number in numbers},
            invocations=len(emulator.runtime.invocations),
            profiles={pid: json.dumps(p, ensure_ascii=False, sort_keys=True, default=str)
                      for pid, p in fakes.profiles.profiles.items()})
        dynamodb, s3, sqs = emulator.client("dynamodb"), emulator.client("s3"), emulator.client("sqs")
        for table in stack.of_type("AWS::DynamoDB::Table"):
            key = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table.physical_id)["Table"][
                "KeySchema"]]
            for page in dynamodb.get_paginator("scan").paginate(TableName=table.physical_id):
                for item in page["Items"]:
                    label = "/".join(str(next(iter(item[k].values()))) for k in key)
                    snapshot.items[f"{table.logical_id}/{label}"] = item
        for bucket in stack.of_type("AWS::S3::Bucket"):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.physical_id):
                snapshot.objects |= {f"{bucket.logical_id}/{o['Key']}": (bucket.physical_id, o["Key"])
                                     for o in page.get("Contents", [])}
        for output, value in stack.outputs.items():
            if output.endswith("QueueUrl"):
                attributes = sqs.get_queue_attributes(QueueUrl=value, AttributeNames=[
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
                snapshot.queue_depths[output] = sum(int(v) for v in attributes.values())
        return snapshot


def what_came_out(before: Snapshot, after: Snapshot, heard: dict[str, list[dict]],
                  emulator: Emulator) -> list[str]:
    """Plain lines saying what the input changed, in the order a reader cares about."""
    lines = [f"functions invoked: {after.invocations - before.invocations}"]
    for message in emulator.fakes.sms.sent[before.sms_sent:after.sms_sent]:
        lines.append(f"SMS sent to {message['DestinationPhoneNumber']} from {message.get('OriginationIdentity')}: "
                     f"{message.get('MessageBody', '')!r}")
    for mail in sent_mail()[before.mail_sent:after.mail_sent]:
        lines.append(f"email sent to {mail['To']} from {mail['From']}: {mail['Subject']!r}")
    for address in sorted(after.suppressed - before.suppressed):
        lines.append(f"suppressed in SES: {address} ({emulator.fakes.sesv2.suppressed[address]['Reason']})")
    for address in sorted(before.suppressed - after.suppressed):
        lines.append(f"no longer suppressed in SES: {address}")
    for name, number in sorted(after.opted_out - before.opted_out):
        lines.append(f"opted out: {number} (opt-out list {name})")
    for name, number in sorted(before.opted_out - after.opted_out):
        lines.append(f"opted back in: {number} (opt-out list {name})")
    for pid in sorted(after.profiles):
        if after.profiles[pid] != before.profiles.get(pid):
            verb = "changed" if pid in before.profiles else "written"
            lines.append(f"profile {verb}: {after.profiles[pid][:400]}")
    for key in sorted(after.items):
        if after.items[key] != before.items.get(key):
            verb = "changed" if key in before.items else "written"
            lines.append(f"table item {verb}: {key} {_plain(after.items[key])}")
    for key in sorted(set(before.items) - set(after.items)):
        lines.append(f"table item deleted: {key}")
    for label in sorted(after.objects.keys() - before.objects.keys()):
        lines.append(f"object written: {label}{_small_json(emulator, *after.objects[label])}")
    for topic, messages in heard.items():
        for message in messages:
            lines.append(f"published on {topic}: {json.dumps(message, ensure_ascii=False)[:300]}")
    for output, depth in sorted(after.queue_depths.items()):
        if depth > before.queue_depths.get(output, 0):
            lines.append(f"waiting in {output}: {depth} message(s)")
    return lines


def _small_json(emulator: Emulator, bucket: str, key: str) -> str:
    """A short JSON object's content (reports, results), so the reader need not fetch it."""
    if not key.endswith(".json"):
        return ""
    body = emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return f" {body[:600].decode('utf-8', 'replace')}" if len(body) <= 2048 else f" ({len(body)} bytes)"


def _plain(item: dict[str, Any]) -> str:
    """A DynamoDB item without its type descriptors."""
    return json.dumps({k: next(iter(v.values())) for k, v in item.items()}, ensure_ascii=False, default=str)


def run_inputs(template: str, inputs: list[Path], request: ParameterRequest, say: Say, stack_prefix: str = "due",
               serve: bool = False) -> int:
    """Deploy one template, push each input through it, report what came out."""
    flow, feed = FLOWS.get(template), FEEDS.get(template)
    if feed is None and inputs:
        raise UsageError(f"{template} takes no --input locally yet; run it without --input for its sample flow")
    with Emulator(function_log_level="WARNING") as emulator:
        say(f"local AWS emulator (moto) listening on {emulator.endpoint}")
        artifacts = prepare_local_artifacts(emulator, say)
        stack = deploy_local(emulator, artifacts, template, flow.prepare(emulator) if flow else {}, request,
                             stack_prefix)
        say(emulation_report(template, stack))
        for line in emulator.complete_wiring(stack):
            say(f"wired locally: {line}")
        sns, sqs = emulator.client("sns"), emulator.client("sqs")
        listeners = {output: listen(sns, sqs, arn) for output, arn in stack.outputs.items()
                     if output.endswith("TopicArn") and output != getattr(feed, "input_topic", "")}
        failed = 0
        for path in inputs:
            before = Snapshot.take(emulator, stack)
            try:
                went_in = feed.put(emulator, stack, path)
            except NotTaken as refused:  # delivered, and refused: what came out says why
                went_in = str(refused)
                failed += 1
            except (ValueError, UnicodeDecodeError) as exc:  # the file is not what this architecture takes
                say(f"== {path}: not delivered: {exc}")
                failed += 1
                continue
            emulator.pump(stack)
            heard = {output: reader() for output, reader in listeners.items()}
            say(f"== {path}: {went_in}")
            for line in what_came_out(before, Snapshot.take(emulator, stack), heard, emulator):
                say(f"   {line}")
        if serve:
            _serve(emulator, stack, listeners, say)
    return 1 if failed else 0


def _serve(emulator: Emulator, stack: Stack, listeners: dict[str, Callable[[], list[dict]]], say: Say) -> None:
    """Keep the stack up for the AWS CLI; every second, deliver what arrived and say what came out."""
    say(f"stack {stack.name} is up; outputs:")
    for output, value in sorted(stack.outputs.items()):
        say(f"   {output} = {value}")
    say(f"in another shell: export AWS_ENDPOINT_URL={emulator.endpoint} AWS_ACCESS_KEY_ID=testing "
        f"AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={emulator.region}, then use the AWS CLI "
        "(aws s3 cp, aws sns publish, ...). Ctrl-C stops.")
    try:
        while True:
            before = Snapshot.take(emulator, stack)
            emulator.pump(stack)
            after = Snapshot.take(emulator, stack)
            heard = {output: reader() for output, reader in listeners.items()}
            if after != before or any(heard.values()):
                for line in what_came_out(before, after, heard, emulator):
                    say(f"   {line}")
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopped")


# ------------------------------------------------------------------ command
def parse_args(argv: list[str]) -> argparse.Namespace:
    feeds = "".join(f"  {name:<27} --input: {feed.takes}\n" for name, feed in sorted(FEEDS.items()))
    parser = argparse.ArgumentParser(
        prog="python -m due_local",
        description="Deploy one template to a local AWS emulator (moto on 127.0.0.1; no account needed). "
                    "Without --input, run its sample flow from examples/; with --input, deliver your own "
                    "files where AWS would and print what came out.",
        epilog=f"What --input takes, per template:\n{feeds}\nExample:\n"
               "  .venv/bin/python -m due_local --template SMS_S3_drop --input examples/sms_s3_drop/sample.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", required=True, metavar="NAME", help="the template to deploy")
    parser.add_argument("--input", action="append", default=[], metavar="FILE", type=Path,
                        help="a file to push through the stack (repeatable; in order)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a stack parameter (repeatable)")
    parser.add_argument("--stack-prefix", default="due", help="the stack is PREFIX-template-name (default: due)")
    parser.add_argument("--serve", action="store_true",
                        help="keep the stack up after the inputs (if any) for the AWS CLI, delivering what "
                             "arrives and printing what came out, until Ctrl-C")
    args = parser.parse_args(argv)
    if args.template not in available_templates():
        parser.error(f"unknown template {args.template}; choose from {', '.join(available_templates())}")
    missing = [str(p) for p in args.input if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    return args


def main(argv: list[str] | None = None, say: Say | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    say = say or (lambda line: print(line, flush=True))
    try:
        request = ParameterRequest.from_args(None, args.param)
        if args.input or args.serve:
            return run_inputs(args.template, args.input, request, say, args.stack_prefix, args.serve)
        return run_samples([args.template], request, say, args.stack_prefix)
    except (UsageError, TemplateError) as exc:
        print(f"due_local: {exc}", file=sys.stderr)
        return 2
