"""CSV dropped in S3 (notification -> SQS) -> one FIFO message per good row, through the shared pipeline."""

from __future__ import annotations

from due import row_queue_reader
from due.sms_s3_drop.requests import ROW_FORMAT

lambda_handler = row_queue_reader.handler(ROW_FORMAT, "sms_s3_drop_reader")
