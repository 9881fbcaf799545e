"""The senders' side of the archive: kept only when on, queued once per batch, never failing the send."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from due.archive import ArchiveQueue, SentMessage
from due.archiving import SentArchive


class RecordingSqs:
    def __init__(self, error: Exception | None = None):
        self.batches: list[list[dict]] = []
        self._error = error

    def send_message_batch(self, QueueUrl, Entries):
        if self._error:
            raise self._error
        self.batches.append(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def sms(archive: SentArchive, n: int) -> None:
    archive.add("sms", f"+1425555{n:04d}", f"id-{n}", origination="+18445550100", message_type="TRANSACTIONAL",
                campaign_id="c", text=f"Message {n}")


def test_messages_kept_between_flushes_go_ten_a_call():
    sqs = RecordingSqs()
    archive = SentArchive(ArchiveQueue(sqs, "https://queue"))
    for n in range(12):
        sms(archive, n)
    assert sqs.batches == []  # nothing is queued until the flush
    assert archive.flush() == 0
    assert [len(b) for b in sqs.batches] == [10, 2]
    first = SentMessage.from_json(sqs.batches[0][0]["MessageBody"])
    assert (first.recipient, first.message_id, first.text, first.channel) == ("+14255550000", "id-0", "Message 0",
                                                                              "sms")
    assert archive.flush() == 0 and len(sqs.batches) == 2  # what was flushed is not queued again


def test_off_keeps_nothing_and_calls_nothing():
    archive = SentArchive(None)
    sms(archive, 1)
    assert (archive.enabled, archive.flush()) == (False, 0)


def test_from_environment_is_off_when_the_url_is_empty(monkeypatch, aws):
    monkeypatch.setenv("ARCHIVE_QUEUE_URL", "")
    assert not SentArchive.from_environment().enabled
    monkeypatch.setenv("ARCHIVE_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/archive")
    assert SentArchive.from_environment().enabled


@pytest.mark.parametrize("error", [EndpointConnectionError(endpoint_url="https://sqs"), ConnectionResetError()])
def test_a_queue_that_cannot_be_reached_loses_the_messages_but_raises_nothing(error):
    archive = SentArchive(ArchiveQueue(RecordingSqs(error), "https://queue"))
    for n in range(3):
        sms(archive, n)
    assert archive.flush() == 3


def test_a_send_without_a_message_id_is_counted_lost_not_raised():
    sqs = RecordingSqs()
    archive = SentArchive(ArchiveQueue(sqs, "https://queue"))
    archive.add("sms", "+14255550100", "", text="x")
    sms(archive, 2)
    assert archive.flush() == 1
    assert len(sqs.batches[0]) == 1


def test_batches_are_cut_at_sqs_256_kb_and_a_message_larger_than_that_is_counted_lost():
    sqs = RecordingSqs()
    archive = SentArchive(ArchiveQueue(sqs, "https://queue"))
    for n in range(5):
        archive.add("email", f"p{n}@example.com", f"id-{n}", html="<p>" + "x" * 100_000 + "</p>")
    archive.add("email", "big@example.com", "id-big", html="y" * 300_000)
    assert archive.flush() == 1
    assert [len(b) for b in sqs.batches] == [2, 2, 1]
    assert all(sum(len(e["MessageBody"].encode()) for e in b) <= 262_144 for b in sqs.batches)
