"""A stand-in for the archive queue that the senders' tests share: it keeps what each batch queued."""

from __future__ import annotations

from due.archive import ArchiveQueue, SentMessage
from due.archiving import SentArchive


class RecordingArchiveSqs:
    def __init__(self, fail: bool = False):
        self.batches: list[list[SentMessage]] = []
        self._fail = fail

    def send_message_batch(self, QueueUrl, Entries):
        if self._fail:
            raise ConnectionResetError("the archive queue is unreachable")
        self.batches.append([SentMessage.from_json(e["MessageBody"]) for e in Entries])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def archive_of(sqs: RecordingArchiveSqs) -> SentArchive:
    return SentArchive(ArchiveQueue(sqs, "https://sqs.us-east-1.amazonaws.com/123456789012/archive"))


def on_archive_calls(callback) -> None:
    """Calls ``callback()`` before every SendMessageBatch of the archive's own clients (due.archiving) and of the
    shared SQS client, so that a test sees an archive call whichever client made it."""
    from due import archiving
    from due import aws as due_aws

    for client in (archiving.archive_client("us-east-1"), archiving.archive_client(None), due_aws.client("sqs")):
        client.meta.events.register("before-call.sqs.SendMessageBatch", lambda **_: callback())
