"""The senders' side of the archive: kept only when on, queued once per batch, never failing the send."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import EndpointConnectionError

from due.archive import TRUNCATED_HEADER, ArchiveQueue, SentMessage
from due.archiving import SentArchive

# The characters SendMessage and SendMessageBatch accept (SQS API reference): "#x9 | #xA | #xD | #x20 to #xD7FF |
# #xE000 to #xFFFD | #x10000 to #x10FFFF".
SQS_ALLOWED = re.compile(r"^[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")


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


def test_batches_are_cut_at_sqs_1_mib_and_a_300_kb_email_is_queued_whole():
    sqs = RecordingSqs()
    archive = SentArchive(ArchiveQueue(sqs, "https://queue"))
    for n in range(5):
        archive.add("email", f"p{n}@example.com", f"id-{n}", html="<p>" + "x" * 400_000 + "</p>")
    archive.add("email", "big@example.com", "id-big", html="y" * 300_000)
    assert archive.flush() == 0
    assert [len(b) for b in sqs.batches] == [2, 2, 2]
    assert all(sum(len(e["MessageBody"].encode()) for e in b) <= 1_048_576 for b in sqs.batches)
    assert SentMessage.from_json(sqs.batches[-1][-1]["MessageBody"]).html == "y" * 300_000


def test_an_email_over_1_mib_is_queued_without_its_html_and_says_so():
    sqs = RecordingSqs()
    archive = SentArchive(ArchiveQueue(sqs, "https://queue"))
    archive.add("email", "big@example.com", "id-big", subject="News", text="the text", html="y" * 1_100_000)
    assert archive.flush() == 0
    ((entry,),) = sqs.batches
    kept = SentMessage.from_json(entry["MessageBody"])
    assert (kept.html, kept.text, kept.headers) == ("", "the text", {TRUNCATED_HEADER: "html"})
    assert f"{TRUNCATED_HEADER}: html" in kept.to_mime().decode()


class FailingEntriesSqs(RecordingSqs):
    """SendMessageBatch answering with entries failed: ``answers`` gives, call by call, {Id: SenderFault}."""

    def __init__(self, *answers: dict[str, bool]):
        super().__init__()
        self._answers = list(answers)

    def send_message_batch(self, QueueUrl, Entries):
        self.batches.append(Entries)
        failing = self._answers.pop(0) if self._answers else {}
        failed = [{"Id": e["Id"], "SenderFault": failing[e["Id"]], "Code": "InternalError"} for e in Entries
                  if e["Id"] in failing]
        return {"Successful": [{"Id": e["Id"]} for e in Entries if e["Id"] not in failing], "Failed": failed}


def test_entries_the_service_failed_are_sent_again_and_the_callers_faults_are_lost_with_their_ids(caplog):
    sqs = FailingEntriesSqs({"3": False, "4": True})
    archive = SentArchive(ArchiveQueue(sqs, "https://queue", sleep=lambda s: None))
    for n in range(6):
        sms(archive, n)
    assert archive.flush() == 1
    assert [[e["Id"] for e in b] for b in sqs.batches] == [["0", "1", "2", "3", "4", "5"], ["3"]]
    assert SentMessage.from_json(sqs.batches[1][0]["MessageBody"]).message_id == "id-3"


def test_an_entry_the_service_keeps_failing_is_lost_after_the_resends():
    sqs = FailingEntriesSqs({"0": False}, {"0": False}, {"0": False}, {"0": False})
    archive = SentArchive(ArchiveQueue(sqs, "https://queue", sleep=lambda s: None))
    sms(archive, 1)
    assert archive.flush() == 1
    assert len(sqs.batches) == 3  # the call and two resends


def test_the_flush_starts_no_call_without_the_time_for_one():
    sqs = RecordingSqs()
    archive = SentArchive(ArchiveQueue(sqs, "https://queue"))
    for n in range(12):
        sms(archive, n)
    left = iter([60.0, 2.0])
    assert archive.flush(lambda: next(left)) == 2  # the first 10 queued, the last 2 not: 2 s left
    assert [len(b) for b in sqs.batches] == [10]


def test_the_archive_client_is_short_and_for_the_queues_own_region(monkeypatch, aws):
    from due import archiving

    monkeypatch.setenv("ARCHIVE_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/archive")
    archive = SentArchive.from_environment()
    client = archive._queue._sqs
    assert client.meta.region_name == "eu-west-1"
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (1, 3)
    assert client.meta.config.retries["total_max_attempts"] == 2
    assert archiving.queue_region("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/a") == "cn-north-1"
    assert archiving.queue_region("http://localhost:5000/123456789012/a") is None


@pytest.mark.parametrize("fields", [{"text": "a\uffff"}, {"text": "a\ud800 b"}, {"html": "y" * 2_000_000},
                                    {"replacement_data": {"k\udfff": "\x01\ufffe"}}])
def test_a_flush_never_raises_and_queues_only_what_sqs_accepts(fields):
    sqs = RecordingSqs()
    archive = SentArchive(ArchiveQueue(sqs, "https://queue"))
    archive.add("email", "p@example.com", "id-1", **fields)
    assert archive.flush() == 0
    ((entry,),) = sqs.batches
    assert SQS_ALLOWED.match(entry["MessageBody"]) and len(entry["MessageBody"].encode()) <= 1_048_576
    SentMessage.from_json(entry["MessageBody"]).to_mime()  # and the writer can write it


def test_a_queue_refusing_with_a_kms_error_loses_the_batch_but_raises_nothing():
    from botocore.exceptions import ClientError

    refused = ClientError({"Error": {"Code": "KMS.AccessDeniedException", "Message": "denied"}}, "SendMessageBatch")
    archive = SentArchive(ArchiveQueue(RecordingSqs(refused), "https://queue"))
    sms(archive, 1)
    assert archive.flush() == 1
