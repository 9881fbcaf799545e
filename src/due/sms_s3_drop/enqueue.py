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

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from due.csv_stream import NotUtf8, S3Object, require_utf8, rows
from due.sms_s3_drop.requests import SmsRequest, check_header, from_row

BATCH = 10  # SendMessageBatch's limit
MAX_REPORTED_BAD_ROWS = 1000  # beyond this the report counts them only
SEND_ATTEMPTS = 3


@dataclass
class Checkpoint:
    bucket: str
    key: str
    version_id: str | None
    offset: int = 0  # byte offset of the next row; 0 = the header
    next_row: int = 1
    enqueued: int = 0
    bad_row_count: int = 0
    bad_rows: list[dict] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.bucket}/{self.key}@{self.version_id or 'null'}"

    def to_message(self) -> str:
        return json.dumps({"continuation": asdict(self)})

    @classmethod
    def from_message(cls, payload: dict) -> Checkpoint:
        return cls(**payload["continuation"])


class Enqueuer:
    def __init__(self, s3, sqs, send_queue_url: str):
        self._s3, self._sqs, self._queue = s3, sqs, send_queue_url

    def run(self, checkpoint: Checkpoint, time_is_short: Callable[[], bool]) -> Checkpoint | None:
        """Enqueue from ``checkpoint``; returns where to continue, or None once the file is done and reported."""
        source = S3Object(checkpoint.bucket, checkpoint.key, checkpoint.version_id)
        file_rows = rows(self._s3, source, start=checkpoint.offset)
        if checkpoint.offset == 0:
            try:
                require_utf8(self._s3, source)
                header, checkpoint.offset = next(file_rows)
                check_header(header)
            except (StopIteration, ValueError) as error:  # NotUtf8 is a ValueError too
                reason = str(error) or "the file is empty"
                if isinstance(error, NotUtf8):
                    reason = (f"the file is {error}: nothing was queued; save it as UTF-8 (a spreadsheet's "
                              "\"CSV UTF-8\") and drop it again")
                checkpoint.bad_rows.append({"row": 0, "reason": reason})
                checkpoint.bad_row_count += 1
                self._report(checkpoint)
                return None
        pending: list[tuple[SmsRequest, int]] = []
        for row, offset_after in file_rows:
            request = from_row(checkpoint.file, checkpoint.next_row, row)
            if isinstance(request, SmsRequest):
                pending.append((request, offset_after))
            else:
                checkpoint.bad_row_count += 1
                if len(checkpoint.bad_rows) < MAX_REPORTED_BAD_ROWS:
                    checkpoint.bad_rows.append({"row": checkpoint.next_row, "reason": request})
            checkpoint.next_row += 1
            if len(pending) == BATCH:
                self._send([r for r, _ in pending])
                checkpoint.enqueued += len(pending)
                pending.clear()
                checkpoint.offset = offset_after
                if time_is_short():
                    return checkpoint
            elif not pending:
                checkpoint.offset = offset_after  # only bad rows since the last batch
        if pending:
            self._send([r for r, _ in pending])
            checkpoint.enqueued += len(pending)
        self._report(checkpoint)
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

    def _report(self, checkpoint: Checkpoint) -> None:
        report = {"file": f"s3://{checkpoint.bucket}/{checkpoint.key}", "version_id": checkpoint.version_id,
                  "rows": checkpoint.next_row - 1, "enqueued": checkpoint.enqueued,
                  "bad_row_count": checkpoint.bad_row_count, "bad_rows": checkpoint.bad_rows,
                  "bad_rows_truncated": checkpoint.bad_row_count > len(checkpoint.bad_rows)}
        self._s3.put_object(Bucket=checkpoint.bucket, Key=f"{checkpoint.key}.report.json",
                            Body=json.dumps(report, indent=1).encode(), ContentType="application/json")
