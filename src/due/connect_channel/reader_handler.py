"""Voice drop: a CSV dropped in S3 (S3 -> SQS) -> one FIFO message per recipient, through the shared pipeline."""

from __future__ import annotations

from due import row_queue_reader
from due.connect_channel.requests import ROW_FORMAT

lambda_handler = row_queue_reader.handler(ROW_FORMAT, "connect_channel_reader")
