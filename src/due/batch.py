"""SQS and Kinesis batches with partial batch failure responses.

A record whose handler raises is reported in ``batchItemFailures`` (the event
source mapping must enable ``ReportBatchItemFailures``) and logged with its id;
the others succeed. SQS then redelivers only the failed messages and, after
``maxReceiveCount``, moves them to the queue's dead-letter queue. Kinesis
retries from the first failed record and sends what still fails to the
mapping's on-failure destination.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from due.logs import get_logger

logger = get_logger("batch")


class _ReportingBatchProcessor(BatchProcessor):
    def failure_handler(self, record, exception):
        _, error, _ = exception
        if self.event_type is EventType.KinesisDataStreams:
            record_id = record.kinesis.sequence_number
        else:
            record_id = record.message_id
        logger.error(
            "record failed",
            extra={"record_id": record_id, "error_type": type(error).__name__, "error": str(error)},
        )
        return super().failure_handler(record, exception)


_processors = {
    EventType.SQS: _ReportingBatchProcessor(event_type=EventType.SQS),
    EventType.KinesisDataStreams: _ReportingBatchProcessor(event_type=EventType.KinesisDataStreams),
}


def process_sqs(event: dict[str, Any], context: Any, handler: Callable) -> PartialItemFailureResponse:
    return process_partial_response(event, handler, _processors[EventType.SQS], context)


def process_kinesis(event: dict[str, Any], context: Any, handler: Callable) -> PartialItemFailureResponse:
    return process_partial_response(event, handler, _processors[EventType.KinesisDataStreams], context)
