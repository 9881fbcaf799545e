"""Erase one person across the collection: ``python -m scripts.erase_person --address ADDRESS --archive-stack NAME
[--stack NAME ...] [--also-as SPELLING ...] [--mfa 'SERIAL CODE'] [--dry-run]``.

Reads each named stack (DescribeStacks, ListStackResources), then removes what holds the address, keeps what
records consent, and reports what it cannot remove (``due.erasure``; docs/Erasing_a_person.md). The report goes
to stdout as JSON, a summary to stderr; neither names the address. Exit status: 0 when nothing that should have
been removed was refused, 1 when something was (Object Lock, a failed call), 2 for bad usage. The report is
printed even when an unexpected error stops the run (what was erased by then is in it).
"""

from __future__ import annotations

import argparse
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from due.erasure import Person, Report, erase_person, read_stack


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.erase_person",
        description="Erase one person (an email address, or a phone number in E.164) from the message archive "
                    "and every store of the stacks named. Stacks are named explicitly: list yours with "
                    "`aws cloudformation describe-stacks --query 'Stacks[].StackName'`.",
        epilog="Example:\n  python -m scripts.erase_person --address ana@example.com --archive-stack due-archive "
               "--stack due-S3-triggered-import --stack due-SMS-S3-drop --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", required=True, help="the person's email address or E.164 phone number")
    parser.add_argument("--archive-stack", metavar="NAME",
                        help="the Message_Archiver stack (its archive bucket and recipient secret)")
    parser.add_argument("--stack", action="append", default=[], metavar="NAME",
                        help="another stack of the collection whose stores may hold the person (repeatable)")
    parser.add_argument("--region", help="the stacks' region (default: your configured region)")
    parser.add_argument("--also-as", action="append", default=[], metavar="SPELLING",
                        help="another spelling the contact list and the profiles may hold the address under (as an "
                             "import file wrote it, a number in national format); repeatable")
    parser.add_argument("--mfa", default="", metavar="'SERIAL CODE'",
                        help="for an archive bucket with MFA Delete: the MFA device's serial number, a space and "
                             "the code it shows (DeleteObjects' x-amz-mfa)")
    parser.add_argument("--dry-run", action="store_true", help="report what would be removed; delete nothing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, session=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        person = Person.of(args.address, args.also_as)
    except ValueError as error:
        print(f"erase_person: {error}", file=sys.stderr)
        return 2
    session = session or boto3.Session(region_name=args.region)
    cloudformation = session.client("cloudformation")
    try:
        archive_stack = read_stack(cloudformation, args.archive_stack) if args.archive_stack else None
        stacks = [read_stack(cloudformation, name) for name in dict.fromkeys(args.stack)]
    except (ClientError, BotoCoreError) as error:
        print(f"erase_person: cannot read the stacks: {error}", file=sys.stderr)
        return 2
    report = Report(person.kind, args.dry_run)
    try:
        erase_person(args.address, session, archive_stack, stacks, dry_run=args.dry_run, also_as=args.also_as,
                     mfa=args.mfa, report=report)
    finally:
        # Printed even when something unexpected stops the run: the stores already erased are in it.
        print(report.to_json())
        print(report.summary(), file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
