"""Firehose transformation Lambda of the message archiver's Pinpoint mode (see ``pinpoint_transform``).

Environment: ``RENDER_QUEUE_URL`` (the queue the renderer reads), ``ARCHIVE_BUCKET`` (named in the stamp, and
where send events SQS did not take are kept under ``unqueued/``).
"""

from __future__ import annotations

import os
from typing import Any

from due import aws
from due.logs import get_logger
from due.message_archiver.pinpoint_transform import transform

logger = get_logger("message_archiver.pinpoint_transform")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return transform(event, aws.client("sqs"), os.environ["RENDER_QUEUE_URL"], os.environ["ARCHIVE_BUCKET"],
                     s3=aws.client("s3"))
