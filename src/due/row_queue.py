"""The file-to-queue pipeline: a CSV dropped in S3 -> checked rows -> chunks on a FIFO send queue.

Every sender architecture that takes a dropped file (the SMS S3 drop, the email senders, the Connect voice
drop) reads it through here and supplies only a ``RowFormat``:

* ``check_header(header)``: raises ValueError with the reason when the CSV header does not fit;
* ``parse(file, row_number, fields)``: the request for a good row, or a string saying why the row is bad
  (never the row's content: it is personal data); or, for a format whose columns are found by name,
  ``parser_for_header(header)`` returning that function for a file's header (called once per invocation,
  after ``check_header`` accepted the header). A request is any object with ``file`` (str), ``row``
  (int), ``message_group_id`` (str, at most 128 characters), ``deduplication_id`` (str, at most 128
  characters; the same file, row and recipient always give the same id) and ``to_json()`` (str);
* ``chunk_size``: how many requests of one message group one queue message may hold (1 for SMS; the email
  senders use 50: a FIFO batch holds at most 10 messages and SES takes 50 destinations a bulk call).

What the pipeline does with them (``Enqueuer``):

* rows are read through ``due.dropped_file`` (constant memory, UTF-8 only, a refused file is row 0 of the
  report, bad rows reported with their number and reason in ``<key>.report.json`` with the counts of
  ``Enqueuer.run``);
* good rows are gathered into ``Chunk``s per message group; a chunk closes when it holds ``chunk_size``
  requests, when one more would pass ``MAX_MESSAGE_BYTES``, or at the end of a ``SEGMENT_ROWS`` stretch of
  the file (counted from the file's first row). So which rows share a chunk depends on the file alone,
  never on when an invocation stopped: a file read again from a checkpoint after a failure makes the same
  chunks with the same deduplication ids, and the send side's markers (``due.send_markers``) recognise them;
* chunks go out 10 per SendMessageBatch (and at most ``MAX_BATCH_BYTES``); an entry the batch did not take
  is sent again (three tries, then the invocation fails and the file is retried from its last checkpoint);
* when time runs short the reader stops at the next point where every row read is in a sent chunk and
  returns a ``Checkpoint``; ``continuation(checkpoint)`` is the message that carries it to the next
  invocation (``due.row_queue_reader`` does that), so a file of any size is fully enqueued.

Requests that do not come from a file (a Pinpoint hook's endpoints, say) go on the same queue with
``queue_chunks(sqs, queue_url, chunks)``.

The queue message (what the send side receives): a chunk of one request is that request's ``to_json()``;
a chunk of more is a JSON array of them. ``requests_in(body, from_dict)`` reads either. The message's
group id is the chunk's group, its deduplication id the request's own (one) or a digest of its requests'
ids (more).

Sources: SQS API reference, SendMessageBatch (at most 10 entries; "the maximum allowed individual message
size and the maximum total payload size (the sum of the individual lengths of all of the batched messages)"
are 256 KiB in older editions of the reference and 1 MiB in newer ones, and a queue's MaximumMessageSize may be
set lower: 256 KiB is used so any queue takes them) and SendMessage (MessageGroupId and
MessageDeduplicationId: up to 128 characters).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from due.dropped_file import Checkpoint, FileRefused, dropped_objects, records, write_report
from due.events import load_json_object

BATCH = 10  # SendMessageBatch's limit
SEND_ATTEMPTS = 3
MAX_BATCH_BYTES = 262_144  # SendMessageBatch: the sum of the bodies, and each body, at most 256 KiB
MAX_MESSAGE_BYTES = MAX_BATCH_BYTES
SEGMENT_ROWS = 1000  # chunks never span a multiple of this many rows: the reader can stop there


class Request(Protocol):
    file: str
    row: int

    @property
    def message_group_id(self) -> str: ...

    @property
    def deduplication_id(self) -> str: ...

    def to_json(self) -> str: ...


@dataclass(frozen=True)
class RowFormat:
    """What a sender architecture supplies: see the module's docstring."""
    check_header: Callable[[list[str]], None]
    parse: Callable[[str, int, list[str]], Any] | None = None  # -> a Request, or the reason (str) it is bad
    chunk_size: int = 1
    parser_for_header: Callable[[list[str]], Callable[[str, int, list[str]], Any]] | None = None

    def __post_init__(self):
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        if (self.parse is None) == (self.parser_for_header is None):
            raise ValueError("give parse or parser_for_header, not both")

    def parser(self, header: list[str] | None) -> Callable[[str, int, list[str]], Any]:
        return self.parse if self.parse is not None else self.parser_for_header(header or [])


@dataclass(frozen=True)
class Chunk:
    """Requests of one message group that travel in one queue message; also what markers and set-aside keep."""
    requests: tuple
    texts: tuple[str, ...] | None = field(default=None, compare=False)  # the requests' to_json(), if known

    @property
    def file(self) -> str:
        return self.requests[0].file

    @property
    def rows(self) -> tuple[int, ...]:
        return tuple(r.row for r in self.requests)

    @property
    def message_group_id(self) -> str:
        return self.requests[0].message_group_id

    @property
    def deduplication_id(self) -> str:
        if len(self.requests) == 1:
            return self.requests[0].deduplication_id
        return hashlib.sha256("\n".join(r.deduplication_id for r in self.requests).encode()).hexdigest()

    def to_json(self) -> str:
        texts = self.texts or tuple(r.to_json() for r in self.requests)
        return texts[0] if len(texts) == 1 else "[" + ",".join(texts) + "]"


def requests_in(body: str, from_dict: Callable[[dict], Any]) -> list:
    """The requests a queue message holds (one object, or an array of them), made by ``from_dict``."""
    parsed = json.loads(body)
    return [from_dict(item) for item in parsed] if isinstance(parsed, list) else [from_dict(parsed)]


def continuation(checkpoint: Checkpoint) -> dict:
    """The message that carries a file's reading into the next invocation."""
    return {"continuation": checkpoint.to_dict()}


def checkpoints(body: str, prefix: str = "incoming/", suffixes: tuple[str, ...] = (".csv",)) -> list[Checkpoint]:
    """The work a drop-queue message holds: a continuation, or the files an S3 notification names."""
    payload = load_json_object(body, "message body")
    if "continuation" in payload:
        return [Checkpoint.from_dict(payload["continuation"])]
    return [Checkpoint(o.bucket, o.key, o.version_id) for o in dropped_objects(payload, prefix, suffixes)]


class _Chunker:
    """Good rows in, closed chunks out, each with the offset up to which every row read is in a closed chunk
    (None while other groups still hold open chunks) and an upper bound of its message's bytes."""

    def __init__(self, chunk_size: int):
        self._size = chunk_size
        self._open: dict[str, tuple[list, list, int]] = {}  # group -> (requests, their texts, bytes)

    def add(self, request, text: str, size: int, offset_after: int) -> Iterator[tuple[Chunk, int | None, int]]:
        group = request.message_group_id
        members, texts, total = self._open.pop(group, ([], [], 0))
        if members and total + size + 2 > MAX_MESSAGE_BYTES:  # + the comma and the brackets
            yield Chunk(tuple(members), tuple(texts)), None, total + 1
            members, texts, total = [], [], 0
        members.append(request)
        texts.append(text)
        total += size + 1
        if len(members) == self._size:
            yield Chunk(tuple(members), tuple(texts)), None if self._open else offset_after, total + 1
        else:
            self._open[group] = (members, texts, total)

    def close_all(self, offset: int) -> Iterator[tuple[Chunk, int | None, int]]:
        """Every open chunk, the last one carrying ``offset``."""
        groups = list(self._open)
        for i, group in enumerate(groups):
            members, texts, total = self._open.pop(group)
            yield Chunk(tuple(members), tuple(texts)), offset if i == len(groups) - 1 else None, total + 1

    @property
    def idle(self) -> bool:
        return not self._open


class Enqueuer:
    def __init__(self, s3, sqs, send_queue_url: str, row_format: RowFormat):
        self._s3, self._sqs, self._queue, self._format = s3, sqs, send_queue_url, row_format

    def run(self, checkpoint: Checkpoint, time_is_short: Callable[[], bool]) -> Checkpoint | None:
        """Enqueue from ``checkpoint``; returns where to continue, or None once the file is done and reported.

        ``checkpoint.counts["enqueued"]`` counts requests (rows) queued; with a chunk size above 1,
        ``counts["queue_messages"]`` counts the messages that held them."""
        checkpoint.counts.setdefault("enqueued", 0)
        if self._format.chunk_size > 1:
            checkpoint.counts.setdefault("queue_messages", 0)
        chunker = _Chunker(self._format.chunk_size)
        ready: list[Chunk] = []
        ready_bytes = 0
        parse = None
        try:
            for number, row, offset_after in records(self._s3, checkpoint, "csv", self._format.check_header):
                parse = parse or self._format.parser(checkpoint.header)
                request = parse(checkpoint.file, number, row)
                closed: list[tuple[Chunk, int | None, int]] = []
                if not isinstance(request, str):
                    text = request.to_json()
                    size = len(text.encode())
                    if size + 2 > MAX_MESSAGE_BYTES:
                        request = f"the row is longer than one queue message holds ({MAX_MESSAGE_BYTES} bytes)"
                if isinstance(request, str):
                    checkpoint.bad(number, request)
                    if chunker.idle and not ready:
                        checkpoint.offset = offset_after  # only bad rows since the last batch
                else:
                    closed += chunker.add(request, text, size, offset_after)
                segment_end = number % SEGMENT_ROWS == 0 and self._format.chunk_size > 1
                if segment_end:
                    closed += chunker.close_all(offset_after)
                for chunk, boundary, chunk_bytes in closed:
                    if ready and (len(ready) == BATCH or ready_bytes + chunk_bytes > MAX_BATCH_BYTES):
                        self._send(ready, checkpoint)
                        ready, ready_bytes = [], 0
                    ready.append(chunk)
                    ready_bytes += chunk_bytes
                    if boundary is None:
                        continue  # rows read so far are in open chunks: no place to stop at yet
                    if len(ready) == BATCH:
                        self._send(ready, checkpoint)
                        ready, ready_bytes = [], 0
                        checkpoint.offset = boundary
                        if time_is_short():
                            return checkpoint
                    elif segment_end and time_is_short():
                        self._send(ready, checkpoint)
                        checkpoint.offset = boundary
                        return checkpoint
        except FileRefused as refused:
            checkpoint.refuse(str(refused))
            write_report(self._s3, checkpoint)
            return None
        ready += [chunk for chunk, _, _ in chunker.close_all(0)]
        for start in range(0, len(ready), BATCH):  # the end of the file: size checked per batch below
            self._send(ready[start:start + BATCH], checkpoint)
        write_report(self._s3, checkpoint)
        return None

    def _send(self, chunks: list[Chunk], checkpoint: Checkpoint) -> None:
        queue_chunks(self._sqs, self._queue, chunks)
        checkpoint.count("enqueued", sum(len(c.requests) for c in chunks))
        if self._format.chunk_size > 1:
            checkpoint.count("queue_messages", len(chunks))


def queue_chunks(sqs, queue_url: str, chunks: list[Chunk]) -> None:
    """Put chunks on the FIFO send queue, 10 a SendMessageBatch within its byte limit, each entry the batch did
    not take sent again (three tries, then RuntimeError). For senders whose requests do not come from a file
    (a Pinpoint hook's endpoints, for one)."""
    for start in range(0, len(chunks), BATCH):
        _send_batch(sqs, queue_url, chunks[start:start + BATCH])


def _send_batch(sqs, queue_url: str, chunks: list[Chunk]) -> None:
    bodies = [c.to_json() for c in chunks]
    # A character is at most 4 bytes in UTF-8: only a batch that might be too big is measured.
    if len(chunks) > 1 and sum(map(len, bodies)) * 4 > MAX_BATCH_BYTES and sum(
            len(body.encode()) for body in bodies) > MAX_BATCH_BYTES:
        half = len(chunks) // 2
        _send_batch(sqs, queue_url, chunks[:half])
        _send_batch(sqs, queue_url, chunks[half:])
        return
    # The message group is the request's: SQS hands Lambda one group's messages in order and only after
    # the previous batch of that group is done, so at most one sender works on a group at a time, and
    # different groups go on side by side (SQS Developer Guide, "FIFO queue delivery logic"; Lambda
    # Developer Guide, "Configuring scaling behavior for SQS event source mappings").
    entries = {str(c.requests[0].row): {"Id": str(c.requests[0].row), "MessageBody": body,
                                         "MessageGroupId": c.message_group_id,
                                         "MessageDeduplicationId": c.deduplication_id}
               for c, body in zip(chunks, bodies, strict=True)}
    for _ in range(SEND_ATTEMPTS):
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=list(entries.values()))
        entries = {f["Id"]: entries[f["Id"]] for f in response.get("Failed", [])}
        if not entries:
            return
    raise RuntimeError(f"SQS did not take rows {', '.join(sorted(entries))} after {SEND_ATTEMPTS} tries")
