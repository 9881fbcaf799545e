"""CSV dropped in S3 (notification -> SQS) -> one FIFO message per good row; checkpoints continue big files."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from due import aws, batch
from due.dropped_file import Checkpoint, dropped_objects
from due.events import load_json_object
from due.logs import get_logger
from due.sms_s3_drop.enqueue import Enqueuer, continuation

logger = get_logger("sms_s3_drop_reader")

# Stop with this much time left: a batch and the continuation message fit in it easily.
STOP_WITH_MILLISECONDS_LEFT = 30_000
INCOMING_PREFIX = "incoming/"


@functools.lru_cache(maxsize=1)
def _enqueuer() -> Enqueuer:
    return Enqueuer(aws.client("s3"), aws.client("sqs"), os.environ["SEND_QUEUE_URL"])


def checkpoints(body: str) -> list[Checkpoint]:
    """The work an SQS message holds: a continuation, or the files an S3 notification names."""
    payload = load_json_object(body, "message body")
    if "continuation" in payload:
        return [Checkpoint.from_dict(payload["continuation"])]
    found = dropped_objects(payload, INCOMING_PREFIX, (".csv",))
    return [Checkpoint(o.bucket, o.key, o.version_id) for o in found]


def _process(record: batch.Record, context: Any) -> None:
    for checkpoint in checkpoints(record["body"]):
        rest = _enqueuer().run(checkpoint, lambda: context.get_remaining_time_in_millis() < STOP_WITH_MILLISECONDS_LEFT)
        if rest is not None:
            aws.client("sqs").send_message(QueueUrl=os.environ["DROP_QUEUE_URL"],
                                           MessageBody=json.dumps(continuation(rest)))
            logger.info("continuing in the next invocation", extra={"key": rest.key, "next_row": rest.next_row,
                                                                     "enqueued": rest.counts["enqueued"]})
        else:
            logger.info("file enqueued", extra={"key": checkpoint.key, "enqueued": checkpoint.counts.get("enqueued", 0),
                                                "bad_rows": checkpoint.bad_row_count})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch.process_sqs(event, functools.partial(_process, context=context))
