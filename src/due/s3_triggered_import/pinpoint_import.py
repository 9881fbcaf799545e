"""The Pinpoint destination (the seed's): rows become Pinpoint endpoints and an imported segment, through an import job.

Facts this relies on (Pinpoint User Guide, "Importing segments", supported attributes; Pinpoint API reference,
CreateImportJob/ImportJobRequest, GetImportJob/ImportJobResponse; Pinpoint Developer Guide, "IAM role for
importing endpoints or segments"):
- the file is CSV or newline-delimited JSON, UTF-8, not compressed; a new endpoint needs ``ChannelType`` (EMAIL,
  SMS, ...) and ``Address`` (a phone number in E.164); ``Id`` names the endpoint, so importing the same person
  again updates the endpoint; ``User.UserId``, ``Attributes.<name>`` (in JSON, a list of strings) and ``OptOut``
  (ALL or NONE) are supported; an attribute name is at most 50 characters, a value at most 100;
- ``S3Url`` may be an object or a prefix: every object under it is imported, so the lead writes this file under
  a prefix of its own (a key is also the prefix of every longer key);
- Pinpoint reads the object with the role ``RoleArn``, which trusts ``pinpoint.amazonaws.com`` and may read the
  bucket; ``DefineSegment`` makes the imported endpoints a segment named ``SegmentName``;
- JobStatus is CREATED, PREPARING_FOR_INITIALIZATION, INITIALIZING, PROCESSING, PENDING_JOB, COMPLETING,
  COMPLETED, FAILING or FAILED; ``TotalProcessed`` and ``TotalFailures`` count endpoint definitions, and
  ``Failures`` holds the first 100 failures' messages.

One row becomes one EMAIL endpoint (``<id>-email``) if it has a usable email address and one SMS endpoint
(``<id>-sms``) if it has an E.164 phone number, both with ``User.UserId`` = the row's id, and the file's other
columns but the opt-out columns as endpoint attributes; phone validation's attributes (``extra``) go on the SMS
endpoint. Consent: an endpoint is written ``OptOut: ALL`` when the row opted out of that channel (``email_opt_out``
or ``sms_opt_out``, however the file spells it: "SMS Opt Out" is sms_opt_out, as in Customer Profiles), and an SMS
endpoint also when phone validation found the number not messageable, so the seed's campaign skips it.
``OptOut: NONE`` is never written, so an import never opts anyone back in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from due.profiles import EMAIL_OPT_OUT, OPT_OUT_ATTRIBUTES, SMS_MESSAGEABLE, SMS_OPT_OUT
from due.s3_triggered_import.destination_files import (
    PART_SIZE,
    JobState,
    MultipartWriter,
    columns_by_attribute,
    email_problem,
    opted_out,
)
from due.s3_triggered_import.rows import ImportRow, RowFailure

MAX_ATTRIBUTE_NAME = 50
MAX_ATTRIBUTE_VALUE = 100
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
RUNNING = {"CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "PENDING_JOB", "COMPLETING",
           "FAILING"}  # FAILING ends in FAILED, with the final counts


class _BadRow(ValueError):
    pass


def write_import_file(rows: Iterable[ImportRow], s3, bucket: str, key: str, id_column: str,
                      extra: dict[int, dict[str, str]] | None = None, *, email_column: str, phone_column: str,
                      part_size: int = PART_SIZE) -> tuple[int, list[RowFailure]]:
    """Writes each row's endpoints as Pinpoint's newline-delimited JSON; returns (rows written, rows refused).

    ``extra``: per row number, phone validation's attributes (due.profiles names) for that row's SMS endpoint.
    """
    extra = {} if extra is None else extra  # the caller may fill it while the rows stream
    written, failures = 0, []
    with MultipartWriter(s3, bucket, key, "application/x-ndjson", part_size) as out:
        for row in rows:
            try:
                endpoints = _endpoints(row, id_column, email_column, phone_column, extra.get(row.row_number, {}))
            except _BadRow as bad:
                failures.append(RowFailure(row.row_number, str(bad)))
                continue
            for endpoint in endpoints:
                out.write_json(endpoint)
            written += 1
    return written, failures


def _endpoints(row: ImportRow, id_column: str, email_column: str, phone_column: str,
               validation: dict[str, str]) -> list[dict]:
    fields = row.fields
    person = fields.get(id_column, "").strip()
    if not person:
        raise _BadRow(f"no value in the id column {id_column!r}")
    by_attribute = columns_by_attribute(tuple(fields))
    opt_out_columns = {column for attribute in OPT_OUT_ATTRIBUTES for column in by_attribute.get(attribute, ())}
    shared = {name: value for name, value in fields.items()
              if name not in (id_column, email_column, phone_column, *opt_out_columns) and value != ""}
    endpoints = []
    email = fields.get(email_column, "").strip()
    if email and not email_problem(email):
        endpoints.append(_endpoint(f"{person}-email", "EMAIL", email, person, shared,
                                   opted_out=opted_out(fields, EMAIL_OPT_OUT)))
    phone = fields.get(phone_column, "").strip()
    if _E164.fullmatch(phone):
        not_messageable = validation.get(SMS_MESSAGEABLE) == "false"
        endpoints.append(_endpoint(f"{person}-sms", "SMS", phone, person, {**shared, **validation},
                                   opted_out=opted_out(fields, SMS_OPT_OUT) or not_messageable))
    if not endpoints:
        raise _BadRow(f"no usable email address in column {email_column!r} and no E.164 phone number in column "
                      f"{phone_column!r}")
    return endpoints


def _endpoint(endpoint_id: str, channel: str, address: str, person: str, attributes: dict[str, str],
              opted_out: bool) -> dict:
    for name, value in attributes.items():
        if len(name) > MAX_ATTRIBUTE_NAME:
            raise _BadRow(f"column {name[:MAX_ATTRIBUTE_NAME]!r}... is longer than Pinpoint's "
                          f"{MAX_ATTRIBUTE_NAME}-character attribute names")
        if len(value) > MAX_ATTRIBUTE_VALUE:
            raise _BadRow(f"the value in column {name!r} is longer than Pinpoint's {MAX_ATTRIBUTE_VALUE}-character "
                          "attribute values")
    endpoint = {"Id": endpoint_id, "ChannelType": channel, "Address": address, "User": {"UserId": person},
                "Attributes": {name: [value] for name, value in attributes.items()}}
    if opted_out:
        endpoint["OptOut"] = "ALL"
    return endpoint


def start_import(pinpoint, application_id: str, s3_url: str, role_arn: str, segment_name: str) -> str:
    """Starts importing the endpoints under ``s3_url`` as a new segment; returns the job id."""
    return pinpoint.create_import_job(ApplicationId=application_id, ImportJobRequest={
        "S3Url": s3_url, "RoleArn": role_arn, "Format": "JSON", "DefineSegment": True, "SegmentName": segment_name,
        "RegisterEndpoints": True,
    })["ImportJobResponse"]["Id"]


def job_state(pinpoint, application_id: str, job_id: str) -> JobState:
    job = pinpoint.get_import_job(ApplicationId=application_id, JobId=job_id)["ImportJobResponse"]
    status = job["JobStatus"]
    processed, failed = job.get("TotalProcessed", 0), job.get("TotalFailures", 0)
    error = "; ".join(job.get("Failures", [])[:5]) or None  # the first few: enough to see the kind of failure
    segment_id = job["Definition"].get("SegmentId")
    if status in RUNNING:
        return JobState("running", processed, failed, None, None, segment_id)
    if status == "COMPLETED":
        return JobState("succeeded", processed, failed, error, None, segment_id)
    if status == "FAILED":
        return JobState("failed", processed, failed, error or "the import job failed", None, segment_id)
    return JobState("failed", processed, failed, f"import job {job_id} has status {status}, which this code "
                                                 "does not know", None, segment_id)
