"""Read a dropped CSV and put one message per good row on the FIFO send queue.

Rows go out 10 per SendMessageBatch; an entry the batch did not take is sent
again (three tries, then the invocation fails and the file is retried from
its last checkpoint). When the invocation's time runs short, the reader
stops after a whole batch and returns a ``Checkpoint``; the handler queues it
and the next invocation continues from that byte offset, so a file of any
size is fully enqueued. Bad rows are collected (row number and reason) and,
when the file is done, written with the counts to ``<key>.report.json`` next
to the file.

A file that is not UTF-8 is refused whole before any row is queued: its
accented rows could not be sent right, and sending only the others would send
those twice once the file is fixed and dropped again (a new version is a new
file to the deduplication).
"""

from __future__ import annotations

from collections.abc import Callable

from due.dropped_file import Checkpoint, FileRefused, records, write_report
from due.sms_s3_drop.requests import SmsRequest, check_header, from_row

BATCH = 10  # SendMessageBatch's limit
SEND_ATTEMPTS = 3


def continuation(checkpoint: Checkpoint) -> dict:
    """The message that carries a file's reading into the next invocation."""
    return {"continuation": checkpoint.to_dict()}


class Enqueuer:
    def __init__(self, s3, sqs, send_queue_url: str):
        self._s3, self._sqs, self._queue = s3, sqs, send_queue_url

    def run(self, checkpoint: Checkpoint, time_is_short: Callable[[], bool]) -> Checkpoint | None:
        """Enqueue from ``checkpoint``; returns where to continue, or None once the file is done and reported."""
        checkpoint.counts.setdefault("enqueued", 0)
        pending: list[tuple[SmsRequest, int]] = []
        try:
            for number, row, offset_after in records(self._s3, checkpoint, "csv", check_header):
                request = from_row(checkpoint.file, number, row)
                if isinstance(request, SmsRequest):
                    pending.append((request, offset_after))
                else:
                    checkpoint.bad(number, request)
                if len(pending) == BATCH:
                    self._send([r for r, _ in pending])
                    checkpoint.count("enqueued", len(pending))
                    pending.clear()
                    checkpoint.offset = offset_after
                    if time_is_short():
                        return checkpoint
                elif not pending:
                    checkpoint.offset = offset_after  # only bad rows since the last batch
        except FileRefused as refused:
            checkpoint.refuse(str(refused))
            write_report(self._s3, checkpoint)
            return None
        if pending:
            self._send([r for r, _ in pending])
            checkpoint.count("enqueued", len(pending))
        write_report(self._s3, checkpoint)
        return None

    def _send(self, requests: list[SmsRequest]) -> None:
        # One message group per origination identity: SQS hands Lambda one identity's rows in order and only
        # after the previous batch of that identity is done, so at most one sender works for an identity at a
        # time, and the sends of different identities go on side by side (SQS Developer Guide, "FIFO queue
        # delivery logic"; Lambda Developer Guide, "Configuring scaling behavior for SQS event source mappings").
        entries = {str(r.row): {"Id": str(r.row), "MessageBody": r.to_json(), "MessageGroupId": r.message_group_id,
                                "MessageDeduplicationId": r.deduplication_id} for r in requests}
        for _ in range(SEND_ATTEMPTS):
            response = self._sqs.send_message_batch(QueueUrl=self._queue, Entries=list(entries.values()))
            entries = {f["Id"]: entries[f["Id"]] for f in response.get("Failed", [])}
            if not entries:
                return
        raise RuntimeError(f"SQS did not take rows {', '.join(sorted(entries))} after {SEND_ATTEMPTS} tries")
