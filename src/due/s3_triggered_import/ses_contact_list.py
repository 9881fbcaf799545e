"""The SESContactList destination: rows become contacts of an SES v2 contact list through an SES import job.

Facts this relies on (SES Developer Guide, "Using list management", bulk importing contacts; SES v2 API reference,
CreateImportJob, GetImportJob, ImportDataSource):
- an account has one contact list, with up to 20 topics; one import job adds up to 1,000,000 contacts;
- the import file is CSV with a header or newline-delimited JSON; a contact is ``emailAddress`` (required),
  ``unsubscribeAll``, ``attributesData`` (a JSON object, as a string) and ``topicPreferences``
  (``topicName`` and ``subscriptionStatus`` OPT_IN or OPT_OUT); a topic a contact has no preference for takes
  the topic's ``DefaultSubscriptionStatus``;
- SES reads the object as the service principal ``ses.amazonaws.com``: the bucket policy must allow it
  ``s3:GetObject`` on the object (condition ``aws:Referer`` = the account id), and a customer managed KMS key
  must allow it ``kms:Decrypt`` (SES cannot use an AWS managed key);
- GetImportJob's JobStatus is CREATED, PROCESSING, COMPLETED, FAILED or CANCELLED; FailureInfo holds
  ``ErrorMessage`` and ``FailedRecordsS3Url`` (the records it could not import).

Consent: the file only ever opts people out. A row whose ``email_opt_out`` is "true" is written with
``unsubscribeAll`` (and OPT_OUT for the topic); no row is written with OPT_IN or ``unsubscribeAll: false``, so an
import never re-subscribes someone who unsubscribed through SES's link. The other columns go to
``attributesData``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from due.profiles import EMAIL_OPT_OUT, says_opted_out
from due.s3_triggered_import.destination_files import PART_SIZE, JobState, MultipartWriter, email_problem
from due.s3_triggered_import.rows import ImportRow, RowFailure

RUNNING = {"CREATED", "PROCESSING"}


def write_import_file(rows: Iterable[ImportRow], s3, bucket: str, key: str, email_column: str,
                      topic_name: str | None = None, part_size: int = PART_SIZE) -> tuple[int, list[RowFailure]]:
    """Writes the rows as SES's newline-delimited JSON contacts; returns (contacts written, rows refused)."""
    written, failures = 0, []
    with MultipartWriter(s3, bucket, key, "application/x-ndjson", part_size) as out:
        for row in rows:
            address = row.fields.get(email_column, "").strip()
            problem = email_problem(address)
            if problem:
                failures.append(RowFailure(row.row_number, f"{problem} (column {email_column!r})"))
                continue
            out.write_json(_contact(row, address, email_column, topic_name))
            written += 1
    return written, failures


def _contact(row: ImportRow, address: str, email_column: str, topic_name: str | None) -> dict:
    attributes = {name: value for name, value in row.fields.items() if name != email_column and value != ""}
    contact: dict = {"emailAddress": address, "attributesData": json.dumps(attributes, ensure_ascii=False)}
    if says_opted_out(row.fields.get(EMAIL_OPT_OUT)):
        contact["unsubscribeAll"] = True
        if topic_name:
            contact["topicPreferences"] = [{"topicName": topic_name, "subscriptionStatus": "OPT_OUT"}]
    return contact


def start_import(sesv2, contact_list: str, s3_url: str) -> str:
    """Starts the import of the file at ``s3_url`` (s3://bucket/key) into the contact list; returns the job id."""
    return sesv2.create_import_job(
        ImportDestination={"ContactListDestination": {"ContactListName": contact_list,
                                                      "ContactListImportAction": "PUT"}},
        ImportDataSource={"S3Url": s3_url, "DataFormat": "JSON"},
    )["JobId"]


def job_state(sesv2, job_id: str) -> JobState:
    job = sesv2.get_import_job(JobId=job_id)
    status = job["JobStatus"]
    failure = job.get("FailureInfo") or {}
    processed, failed = job.get("ProcessedRecordsCount", 0), job.get("FailedRecordsCount", 0)
    url, error = failure.get("FailedRecordsS3Url"), failure.get("ErrorMessage")
    if status in RUNNING:
        return JobState("running", processed, failed, None, None)
    if status == "COMPLETED":
        return JobState("succeeded", processed, failed, error, url)
    if status == "CANCELLED":
        return JobState("failed", processed, failed, error or "the import job was cancelled", url)
    if status == "FAILED":
        return JobState("failed", processed, failed, error or "the import job failed", url)
    # A status this code does not know ends the wait: a person looks, instead of polling to the deadline.
    return JobState("failed", processed, failed, f"import job {job_id} has status {status}, which this code "
                                                 "does not know", url)
