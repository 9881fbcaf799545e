"""S3 notification (via SQS) -> one import execution per dropped object version.

The execution is named after the bucket, key and version id. Step Functions
keeps a standard workflow's execution names for 90 days and refuses a second
execution of the same name (StartExecution API reference: ExecutionAlreadyExists;
the same name and input while the first still runs is answered with the first),
so a notification S3 or SQS delivers twice starts nothing the second time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from typing import Any

from due import aws, batch
from due.csv_stream import S3Object
from due.dropped_file import dropped_objects
from due.events import load_json_object
from due.logs import get_logger

logger = get_logger("s3_triggered_import_starter")

INCOMING_PREFIX = "incoming/"
KINDS = {".csv": "csv", ".jsonl": "jsonl"}


def execution_name(source: S3Object) -> str:
    """At most 80 characters of letters, digits, - and _ (StartExecution's name rule), one per object version."""
    digest = hashlib.sha256(f"{source.bucket}/{source.key}@{source.version_id or 'null'}".encode()).hexdigest()
    return f"import-{digest[:64]}"


def execution_input(source: S3Object) -> dict[str, Any]:
    kind = next(kind for suffix, kind in KINDS.items() if source.key.endswith(suffix))
    return {"file": {"bucket": source.bucket, "key": source.key, "version_id": source.version_id, "kind": kind}}


def start(stepfunctions, state_machine_arn: str, source: S3Object) -> bool:
    """Starts the object version's import; False when an execution of that name has ended already (one still
    running is answered with itself: no second execution either way)."""
    try:
        stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=execution_name(source),
                                      input=json.dumps(execution_input(source)))
    except stepfunctions.exceptions.ExecutionAlreadyExists:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _stepfunctions():
    return aws.client("stepfunctions")


def _process(record: batch.Record) -> None:
    notification = load_json_object(record["body"], "message body")
    for source in dropped_objects(notification, INCOMING_PREFIX, tuple(KINDS)):
        started = start(_stepfunctions(), os.environ["STATE_MACHINE_ARN"], source)
        logger.info("import started" if started else "import of this object version already started: ignored",
                    extra={"key": source.key, "version_id": source.version_id, "execution": execution_name(source)})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch.process_sqs(event, _process)
