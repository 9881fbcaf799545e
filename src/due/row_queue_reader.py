"""The reader Lambda of the file-to-queue pipeline: drop queue -> ``due.row_queue.Enqueuer`` -> send queue.

An architecture's reader handler module is one line::

    lambda_handler = row_queue_reader.handler(ROW_FORMAT, "sms_s3_drop_reader")

The function's environment names the queues: ``SEND_QUEUE_URL`` (the FIFO queue the chunks go to) and
``DROP_QUEUE_URL`` (the queue the bucket's notifications arrive on, which also carries continuations).
Each drop-queue message is an S3 notification (files under ``incoming/`` ending ``.csv``) or a continuation;
when the invocation's time runs short the file's checkpoint goes back on the drop queue and the next
invocation continues it. The event source mapping reports partial batch failures (``due.batch``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

from due import aws, batch
from due.logs import get_logger
from due.row_queue import Enqueuer, RowFormat, checkpoints, continuation

# Stop with this much time left: a batch and the continuation message fit in it easily.
STOP_WITH_MILLISECONDS_LEFT = 30_000


@functools.lru_cache(maxsize=4)  # module level: a cold start (due_local's runtime too) begins without it
def _enqueuer(row_format: RowFormat) -> Enqueuer:
    return Enqueuer(aws.client("s3"), aws.client("sqs"), os.environ["SEND_QUEUE_URL"], row_format)


def handler(row_format: RowFormat, service: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler that reads dropped files of ``row_format``; ``service`` names its log lines."""
    logger = get_logger(service)

    def process(record: batch.Record, context: Any) -> None:
        for checkpoint in checkpoints(record["body"]):
            rest = _enqueuer(row_format).run(checkpoint,
                                  lambda: context.get_remaining_time_in_millis() < STOP_WITH_MILLISECONDS_LEFT)
            if rest is not None:
                aws.client("sqs").send_message(QueueUrl=os.environ["DROP_QUEUE_URL"],
                                               MessageBody=json.dumps(continuation(rest)))
                logger.info("continuing in the next invocation", extra={
                    "key": rest.key, "next_row": rest.next_row, "enqueued": rest.counts["enqueued"]})
            else:
                logger.info("file enqueued", extra={"key": checkpoint.key,
                                                    "enqueued": checkpoint.counts.get("enqueued", 0),
                                                    "bad_rows": checkpoint.bad_row_count})

    @logger.inject_lambda_context
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return batch.process_sqs(event, functools.partial(process, context=context))

    return lambda_handler
