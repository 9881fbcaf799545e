"""Amazon Data Firehose as a stack configures it (moto's CloudFormation skips the stream).

``FirehoseDelivery`` reads the stack's DeliveryStream and does what Firehose
would with a batch of records: invokes the transformation function with
Firehose's event, checks the answer the way Firehose does (every recordId back
exactly once, a known result, the partition keys the prefix names), and writes
S3 objects: ``Ok`` records under the prefix with the Lambda's partition keys,
as GZIP JSON or Parquet; ``ProcessingFailed`` records under the error prefix
in Firehose's error-record format, with the original data.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from due_local.athena_local import encode_object
from due_local.emulator import Emulator, Stack

RESULTS = {"Ok", "Dropped", "ProcessingFailed"}


@dataclass
class Delivered:
    results: Counter
    objects: list[str]


class FirehoseDelivery:
    def __init__(self, emulator: Emulator, stack: Stack, logical_id: str = "DeliveryStream"):
        self.emulator = emulator
        destination = stack.resolved(logical_id)["Properties"]["ExtendedS3DestinationConfiguration"]
        self.bucket = stack.physical(destination["BucketARN"]["Fn::GetAtt"][0])
        self.prefix = destination["Prefix"]
        self.error_prefix = destination["ErrorOutputPrefix"]
        conversion = destination.get("DataFormatConversionConfiguration", {})
        self.storage_format = "PARQUET" if conversion.get("Enabled") is True else "JSON"
        if self.storage_format == "JSON" and destination["CompressionFormat"] != "GZIP":
            raise AssertionError("JSON output is expected gzipped")
        (processor,) = destination["ProcessingConfiguration"]["Processors"]
        parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
        self.function = emulator.function_spec(stack, parameters["LambdaArn"]["Fn::GetAtt"][0])
        self.stream_name = stack.physical(logical_id)

    def put_record_batch(self, records: list[bytes]) -> Delivered:
        now_ms = int(time.time() * 1000)
        inputs = [{"recordId": f"{i:06d}", "approximateArrivalTimestamp": now_ms,
                   "data": base64.b64encode(data).decode()} for i, data in enumerate(records)]
        answer = self.emulator.runtime.invoke(self.function, {
            "invocationId": str(uuid.uuid4()), "region": self.emulator.region, "records": inputs,
            "deliveryStreamArn": f"arn:aws:firehose:{self.emulator.region}:123456789012:deliverystream/"
                                 f"{self.stream_name}",
        })
        outputs = answer["records"]
        if sorted(o["recordId"] for o in outputs) != [i["recordId"] for i in inputs]:
            raise AssertionError("the transformation must return every recordId exactly once")
        by_prefix: dict[str, list[bytes]] = {}
        failed = []
        for record, output in zip(inputs, sorted(outputs, key=lambda o: o["recordId"]), strict=True):
            if output["result"] not in RESULTS:
                raise AssertionError(f"unknown result {output['result']!r}")
            if output["result"] == "Ok":
                keys = output.get("metadata", {}).get("partitionKeys", {})
                by_prefix.setdefault(self._render(self.prefix, keys, now_ms), []).append(
                    base64.b64decode(output["data"]))
            elif output["result"] == "ProcessingFailed":
                failed.append(self._error_record(record, now_ms))
        s3, written = self.emulator.client("s3"), []
        suffix = ".gz" if self.storage_format == "JSON" else ".parquet"
        for prefix, lines in by_prefix.items():
            key = f"{prefix}{self.stream_name}-1-{uuid.uuid4()}{suffix}"
            s3.put_object(Bucket=self.bucket, Key=key, Body=encode_object(lines, self.storage_format))
            written.append(key)
        if failed:
            key = f"{self._render(self.error_prefix, {}, now_ms)}{self.stream_name}-1-{uuid.uuid4()}"
            s3.put_object(Bucket=self.bucket, Key=key, Body=b"".join(failed))
            written.append(key)
        return Delivered(Counter(o["result"] for o in outputs), written)

    def download(self, into: Path, prefix: str = "events/") -> Path:
        """Copy the bucket's objects under ``prefix`` to a folder, keys as paths, for DuckDB to read."""
        s3 = self.emulator.client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                target = into / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read())
        return into

    def _render(self, prefix: str, partition_keys: dict[str, str], now_ms: int) -> str:
        def value(match: re.Match) -> str:
            namespace, _, name = match.group(1).partition(":")
            if namespace == "partitionKeyFromLambda":
                if name not in partition_keys:
                    raise AssertionError(f"the prefix names partition key {name!r}; the record has none")
                return partition_keys[name]
            if namespace == "timestamp":
                java_to_python = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H"}
                return time.strftime(re.sub("yyyy|MM|dd|HH", lambda m: java_to_python[m.group(0)], name),
                                     time.gmtime(now_ms / 1000))
            if namespace == "firehose" and name == "error-output-type":
                return "processing-failed"
            raise AssertionError(f"prefix expression !{{{match.group(1)}}} is not one Firehose knows")

        return re.sub(r"!\{([^}]+)\}", value, prefix)

    def _error_record(self, record: dict, now_ms: int) -> bytes:
        # The shape Firehose writes for records the transformation marked ProcessingFailed.
        return (json.dumps({
            "attemptsMade": 1, "arrivalTimestamp": record["approximateArrivalTimestamp"],
            "errorCode": "Lambda.ProcessingFailedStatus",
            "errorMessage": "ProcessingFailed status set for record",
            "attemptEndingTimestamp": now_ms, "rawData": record["data"],
            "lambdaArn": f"arn:aws:lambda:{self.emulator.region}:123456789012:function:{self.function.name}",
        }) + "\n").encode()
