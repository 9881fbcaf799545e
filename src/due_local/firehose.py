"""Amazon Data Firehose as a stack configures it (moto's CloudFormation skips the stream).

``FirehoseDelivery`` reads the stack's DeliveryStream and does what Firehose
would with a batch of records: invokes the transformation function with
Firehose's event, checks the answer the way Firehose does (every recordId back
exactly once, a known result, the partition keys the prefix names), and writes
S3 objects: ``Ok`` records under the prefix with the Lambda's partition keys,
as GZIP JSON or Parquet; ``ProcessingFailed`` records under the error prefix
in Firehose's error-record format, with the original data.

Parquet conversion reads each record with the OpenX JSON SerDe as the stream
declares it: keys are lower-cased (map keys too) unless ``CaseInsensitive`` is
false, and a record whose keys collide once folded fails conversion and goes to
the error prefix as ``format-conversion-failed``.
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


class FormatConversionFailed(Exception):
    pass


def openx_json_keys(line: bytes, serde: dict) -> bytes:
    """One record as Firehose's OpenX JSON SerDe, configured with ``serde``, hands it to the Parquet writer.

    ``CaseInsensitive`` is true unless set to false (Firehose API Reference, OpenXJsonSerDe: "When set to true,
    which is the default, Firehose converts JSON keys to lowercase before deserializing them"); the folding
    reaches the keys of nested objects, which is what map and struct columns are made of.
    """
    unmodelled = set(serde) - {"CaseInsensitive", "ConvertDotsInJsonKeysToUnderscores"}
    if unmodelled or serde.get("ConvertDotsInJsonKeysToUnderscores") is True:
        raise AssertionError(f"OpenXJsonSerDe settings this emulator does not model: {serde}")
    if serde.get("CaseInsensitive", True) is False:
        return line

    def fold(value):
        if isinstance(value, list):
            return [fold(v) for v in value]
        if not isinstance(value, dict):
            return value
        folded = {}
        for key, inner in value.items():
            if key.lower() in folded:
                raise FormatConversionFailed(f"keys differing only by case: {key.lower()!r}")
            folded[key.lower()] = fold(inner)
        return folded

    return (json.dumps(fold(json.loads(line)), ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def resolve_sub(value, known: dict[str, str] | None = None) -> str:
    """A template string, or a ``Fn::Sub`` (conditions resolved) whose variables are in its own map or ``known``."""
    if isinstance(value, str):
        return value
    template, variables = value["Fn::Sub"] if isinstance(value["Fn::Sub"], list) else (value["Fn::Sub"], {})
    variables = {**(known or {}), **variables}
    # ${!name} is a literal ${name} in Fn::Sub.
    return re.sub(r"\$\{(!?)([\w.:]+)\}",
                  lambda m: "${" + m.group(2) + "}" if m.group(1) else variables[m.group(2)], template)


class FirehoseDelivery:
    def __init__(self, emulator: Emulator, stack: Stack, logical_id: str = "DeliveryStream"):
        self.emulator = emulator
        destination = stack.resolved(logical_id)["Properties"]["ExtendedS3DestinationConfiguration"]
        self.bucket = stack.physical(destination["BucketARN"]["Fn::GetAtt"][0])
        self.prefix = resolve_sub(destination["Prefix"])
        self.error_prefix = destination["ErrorOutputPrefix"]
        conversion = destination.get("DataFormatConversionConfiguration", {})
        self.storage_format = "PARQUET" if conversion.get("Enabled") is True else "JSON"
        self.serde = (conversion.get("InputFormatConfiguration", {}).get("Deserializer", {}).get("OpenXJsonSerDe")
                      if self.storage_format == "PARQUET" else None)
        if self.storage_format == "PARQUET" and self.serde is None:
            raise AssertionError("Parquet conversion is expected to read JSON with the OpenX SerDe")
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
        failed: dict[str, list[bytes]] = {}
        for record, output in zip(inputs, sorted(outputs, key=lambda o: o["recordId"]), strict=True):
            if output["result"] not in RESULTS:
                raise AssertionError(f"unknown result {output['result']!r}")
            if output["result"] == "Ok":
                keys = output.get("metadata", {}).get("partitionKeys", {})
                line = base64.b64decode(output["data"])
                if self.serde is not None:
                    try:
                        line = openx_json_keys(line, self.serde)
                    except FormatConversionFailed as exc:
                        failed.setdefault("format-conversion-failed", []).append(
                            self._error_record(record, now_ms, "due_local.FormatConversionFailed", str(exc)))
                        continue
                by_prefix.setdefault(self._render(self.prefix, keys, now_ms), []).append(line)
            elif output["result"] == "ProcessingFailed":
                failed.setdefault("processing-failed", []).append(self._error_record(
                    record, now_ms, "Lambda.ProcessingFailedStatus", "ProcessingFailed status set for record"))
        s3, written = self.emulator.client("s3"), []
        suffix = ".gz" if self.storage_format == "JSON" else ".parquet"
        for prefix, lines in by_prefix.items():
            key = f"{prefix}{self.stream_name}-1-{uuid.uuid4()}{suffix}"
            s3.put_object(Bucket=self.bucket, Key=key, Body=encode_object(lines, self.storage_format))
            written.append(key)
        for error_output_type, error_records in failed.items():
            prefix = self._render(self.error_prefix, {}, now_ms, error_output_type)
            key = f"{prefix}{self.stream_name}-1-{uuid.uuid4()}"
            s3.put_object(Bucket=self.bucket, Key=key, Body=b"".join(error_records))
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

    def _render(self, prefix: str, partition_keys: dict[str, str], now_ms: int,
                error_output_type: str = "processing-failed") -> str:
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
                return error_output_type
            raise AssertionError(f"prefix expression !{{{match.group(1)}}} is not one Firehose knows")

        return re.sub(r"!\{([^}]+)\}", value, prefix)

    def _error_record(self, record: dict, now_ms: int, error_code: str, error_message: str) -> bytes:
        # The shape Firehose writes for records it could not deliver (the lambdaArn is the transformation's).
        return (json.dumps({
            "attemptsMade": 1, "arrivalTimestamp": record["approximateArrivalTimestamp"],
            "errorCode": error_code,
            "errorMessage": error_message,
            "attemptEndingTimestamp": now_ms, "rawData": record["data"],
            "lambdaArn": f"arn:aws:lambda:{self.emulator.region}:123456789012:function:{self.function.name}",
        }) + "\n").encode()
