"""Deliver what moto holds to our handlers with the semantics of Lambda's pollers.

moto's own SQS event source mapping invokes one message at a time inside
SendMessage and ignores ``batchItemFailures``; these pollers do what Lambda
does instead:

* ``SqsSource``: batches of up to ``batch_size``; with ReportBatchItemFailures
  only the failed messages return to the queue (the others are deleted); a
  handler exception fails the whole batch; the queue's redrive policy moves a
  message to its DLQ once its receive count passes ``maxReceiveCount``.
* ``KinesisSource``: per shard, in order; after a failure the batch is retried
  from the first failed record; after ``maximum_retry_attempts`` the failed
  range is reported to the on-failure destination (an SQS queue) and skipped.
* ``AsyncInvoker``: an asynchronous invocation (SES, S3, SNS invoke this way):
  retried ``maximum_retry_attempts`` times, then a record of the failure goes to
  the on-failure destination (an SQS queue), as Lambda's destinations do.
* ``s3_event`` and ``sns_event`` build the events S3 and SNS hand to Lambda.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from due_local.lambda_runtime import FunctionSpec, LambdaRuntime


@dataclass
class DeliveryStats:
    invocations: int = 0
    records: int = 0
    failed_records: int = 0
    dead_lettered: int = 0


@dataclass
class SqsSource:
    sqs: Any
    queue_url: str
    function: FunctionSpec
    batch_size: int = 10
    report_batch_item_failures: bool = True
    stats: DeliveryStats = field(default_factory=DeliveryStats)

    @property
    def queue_arn(self) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]

    def poll_once(self, runtime: LambdaRuntime) -> int:
        """Receive and process one batch; returns how many messages it held."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=min(self.batch_size, 10),
            AttributeNames=["All"], MessageAttributeNames=["All"], VisibilityTimeout=30,
        ).get("Messages", [])
        if not received:
            return 0
        arn = self.queue_arn
        event = {"Records": [_sqs_record(message, arn) for message in received]}
        self.stats.invocations += 1
        self.stats.records += len(received)
        try:
            response = runtime.invoke(self.function, event) or {}
            failed_ids = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            if not self.report_batch_item_failures and failed_ids:
                raise AssertionError("handler reported item failures but the mapping does not enable them")
        except Exception:
            failed_ids = {m["MessageId"] for m in received}
        self.stats.failed_records += len(failed_ids)
        for message in received:
            if message["MessageId"] in failed_ids and message["ReceiptHandle"] in runtime.visibility_set:
                continue  # the function held it back until a time of its own choosing: Lambda leaves that be
            if message["MessageId"] in failed_ids:
                # Visible again at once: the visibility timeout would only slow the test down.
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(received)

    def drain(self, runtime: LambdaRuntime, max_polls: int = 10_000) -> DeliveryStats:
        """Poll until the queue is empty (failed messages end up in the DLQ via the redrive policy)."""
        for _ in range(max_polls):
            if self.poll_once(runtime) == 0:
                return self.stats
        raise AssertionError(f"{self.queue_url} still had messages after {max_polls} polls")


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AIDAEXAMPLE"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
            **({"MessageGroupId": attributes["MessageGroupId"]} if "MessageGroupId" in attributes else {}),
            **({"MessageDeduplicationId": attributes["MessageDeduplicationId"]}
               if "MessageDeduplicationId" in attributes else {}),
        },
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", hashlib.md5(message["Body"].encode()).hexdigest()),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


@dataclass
class KinesisSource:
    kinesis: Any
    stream_name: str
    function: FunctionSpec
    batch_size: int = 100
    maximum_retry_attempts: int = 3
    on_failure: tuple[Any, str] | None = None  # (sqs client, queue url)
    stats: DeliveryStats = field(default_factory=DeliveryStats)
    _positions: dict[str, str] = field(default_factory=dict)  # shard -> next sequence number to read

    def drain(self, runtime: LambdaRuntime) -> DeliveryStats:
        description = self.kinesis.describe_stream(StreamName=self.stream_name)["StreamDescription"]
        for shard in description["Shards"]:
            self._drain_shard(runtime, description["StreamARN"], shard["ShardId"])
        return self.stats

    def _iterator(self, shard_id: str) -> str:
        position = self._positions.get(shard_id)
        kwargs = ({"ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": position}
                  if position else {"ShardIteratorType": "TRIM_HORIZON"})
        return self.kinesis.get_shard_iterator(StreamName=self.stream_name, ShardId=shard_id, **kwargs)[
            "ShardIterator"]

    def _drain_shard(self, runtime: LambdaRuntime, stream_arn: str, shard_id: str) -> None:
        attempts = 0
        while True:
            records = self.kinesis.get_records(ShardIterator=self._iterator(shard_id), Limit=self.batch_size)[
                "Records"]
            if not records:
                return
            event = {"Records": [_kinesis_record(r, stream_arn, shard_id) for r in records]}
            self.stats.invocations += 1
            self.stats.records += len(records)
            try:
                response = runtime.invoke(self.function, event) or {}
                failures = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
            except Exception:
                failures = [records[0]["SequenceNumber"]]
            if not failures:
                self._positions[shard_id] = _after(records[-1]["SequenceNumber"])
                attempts = 0
                continue
            first_failed = min(failures, key=int)
            self.stats.failed_records += len(failures)
            attempts += 1
            if attempts <= self.maximum_retry_attempts:
                self._positions[shard_id] = first_failed  # retry from the first failure
                continue
            self._report_failure(stream_arn, shard_id, first_failed, records[-1]["SequenceNumber"],
                                 len([r for r in records if int(r["SequenceNumber"]) >= int(first_failed)]))
            self._positions[shard_id] = _after(records[-1]["SequenceNumber"])
            attempts = 0

    def _report_failure(self, stream_arn, shard_id, start, end, size) -> None:
        self.stats.dead_lettered += size
        if self.on_failure is None:
            return
        sqs, queue_url = self.on_failure
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({
            "requestContext": {"condition": "RetryAttemptsExhausted",
                               "functionArn": f"arn:aws:lambda:::function:{self.function.name}"},
            "KinesisBatchInfo": {"shardId": shard_id, "startSequenceNumber": start, "endSequenceNumber": end,
                                 "batchSize": size, "streamArn": stream_arn},
        }))


@dataclass
class AsyncInvoker:
    function: FunctionSpec
    maximum_retry_attempts: int = 2
    on_failure: tuple[Any, str] | None = None  # (sqs client, queue url)
    stats: DeliveryStats = field(default_factory=DeliveryStats)

    def invoke(self, runtime: LambdaRuntime, event: dict[str, Any]) -> Any:
        """The function's result, or None when every attempt failed (and the failure was reported)."""
        self.stats.records += 1
        error: Exception | None = None
        for _ in range(1 + self.maximum_retry_attempts):
            self.stats.invocations += 1
            try:
                return runtime.invoke(self.function, event)
            except Exception as exc:  # Lambda retries asynchronous invocations that raise
                error = exc
                self.stats.failed_records += 1
        self.stats.dead_lettered += 1
        if self.on_failure is not None:
            sqs, queue_url = self.on_failure
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({
                "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
                "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetriesExhausted",
                                   "functionArn": f"arn:aws:lambda:::function:{self.function.name}:$LATEST",
                                   "approximateInvokeCount": 1 + self.maximum_retry_attempts},
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            }))
        return None


def _after(sequence_number: str) -> str:
    return str(int(sequence_number) + 1)


def _kinesis_record(record: dict[str, Any], stream_arn: str, shard_id: str) -> dict[str, Any]:
    arrival = record.get("ApproximateArrivalTimestamp") or datetime.now(UTC)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/local",
        "awsRegion": stream_arn.split(":")[3],
        "eventSourceARN": stream_arn,
    }


def s3_event(bucket: str, key: str, size: int, region: str = "us-east-1",
             event_name: str = "ObjectCreated:Put") -> dict[str, Any]:
    """The event S3 sends to Lambda; the key is URL-encoded, as S3 encodes it."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region,
        "eventTime": datetime.now(UTC).isoformat(), "eventName": event_name,
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size,
                          "sequencer": uuid.uuid4().hex[:16].upper()}},
    }]}


def sns_event(topic_arn: str, message: str, subject: str | None = None) -> dict[str, Any]:
    """The event SNS sends to a subscribed Lambda function."""
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
        "Sns": {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": topic_arn,
                "Subject": subject, "Message": message,
                "Timestamp": datetime.now(UTC).isoformat(), "MessageAttributes": {}},
    }]}
