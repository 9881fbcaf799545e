"""The erase command against deployed stacks: the Message_Archiver and an SMS S3 drop that archives what it sends,
on the emulator (moto server with versioning on, the stacks read back from its CloudFormation)."""

from __future__ import annotations

import json

import boto3
import pytest

from due.archive import recipient_folder
from due.message_archiver.secret import recipient_secret
from due_local.flows import EXAMPLES, FLOWS
from scripts import erase_person as command
from scripts.deploy import deploy_local

pytestmark = pytest.mark.integration

ANA, OTHERS = "+14255550101", {"+14255550102", "+447700900103", "+14255550107"}  # the sample file's numbers


@pytest.fixture
def sent(emulator, artifacts):
    """The sample file sent through an SMS S3 drop deployed with the archive, and each SMS archived."""
    archiver = deploy_local(emulator, artifacts, "Message_Archiver", {})
    emulator.complete_wiring(archiver)
    drop = deploy_local(emulator, artifacts, "SMS_S3_drop", {
        **FLOWS["SMS_S3_drop"].prepare(emulator), "ArchiveQueueArn": archiver.outputs["ArchiveQueueArn"],
        "ArchiveKeyArn": archiver.outputs["ArchiveKeyArn"]}, stack_prefix="drop")
    emulator.complete_wiring(drop)
    emulator.client("s3").put_object(Bucket=drop.outputs["DropBucketName"], Key="incoming/sample.csv",
                                     Body=(EXAMPLES / "sms_s3_drop" / "sample.csv").read_bytes())
    emulator.pump(drop)
    emulator.pump(archiver)
    return archiver, drop


def folders(emulator, archiver) -> list[str]:
    listed = emulator.client("s3").list_object_versions(Bucket=archiver.outputs["ArchiveBucketName"])
    return sorted(v["Key"].split("/")[1] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []))


def test_one_number_is_erased_from_the_deployed_archive_and_the_report_names_the_drop_stacks_stores(
        emulator, sent, capsys):
    archiver, drop = sent
    secret = recipient_secret(emulator.client("secretsmanager"), archiver.outputs["RecipientSecretArn"])
    others = sorted(recipient_folder(secret, "sms", number) for number in OTHERS)
    assert folders(emulator, archiver) == sorted([*others, recipient_folder(secret, "sms", ANA)])
    arguments = ["--address", ANA, "--archive-stack", archiver.name, "--stack", drop.name]

    assert command.main([*arguments, "--dry-run"], session=boto3.DEFAULT_SESSION) == 0
    dry = {s["store"]: s for s in json.loads(capsys.readouterr().out)["stores"]}
    assert (dry["archive"]["outcome"], dry["archive"]["count"]) == ("would remove", 1)
    assert len(folders(emulator, archiver)) == 4

    assert command.main(arguments, session=boto3.DEFAULT_SESSION) == 0
    report = {(s["store"], s["stack"]): s for s in json.loads(capsys.readouterr().out)["stores"]}
    assert (report[("archive", archiver.name)]["outcome"], report[("archive", archiver.name)]["count"]) == (
        "removed", 1)
    assert folders(emulator, archiver) == others
    assert report[("send markers", drop.name)]["outcome"] == "holds no address"
    assert report[("dropped files", drop.name)]["outcome"] == "cannot remove here"
    assert "SendDeadLetterQueueUrl" in report[("queues", drop.name)]["resource"]
