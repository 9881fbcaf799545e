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

Consent: the file only ever opts people out. The job's ``ContactListImportAction`` PUT replaces a contact that
exists ("If the record already exists, it will override it with the new value": SES v2 API reference,
ContactListDestination), so leaving ``unsubscribeAll`` and ``topicPreferences`` out of a line would reset the
preferences of someone who unsubscribed through SES's link. So for an address already on the list (SES v2
GetContact: ``UnsubscribeAll``, and ``TopicPreferences`` of ``TopicName`` and ``SubscriptionStatus``), its line
carries those preferences as they are; a row whose opt-out column (``email_opt_out``, however the file spells it)
says so adds ``unsubscribeAll`` and OPT_OUT for the topic. No line ever turns an OPT_OUT into OPT_IN or an
unsubscribe into a subscription. The other columns go to ``attributesData``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from botocore.exceptions import ClientError

from due.profiles import EMAIL_OPT_OUT
from due.s3_triggered_import.destination_files import PART_SIZE, JobState, MultipartWriter, email_problem, opted_out
from due.s3_triggered_import.rows import ImportRow, RowFailure

RUNNING = {"CREATED", "PROCESSING"}


def write_import_file(rows: Iterable[ImportRow], s3, bucket: str, key: str, email_column: str,
                      topic_name: str | None = None, part_size: int = PART_SIZE, *,
                      existing_contact: Callable[[str], dict | None]) -> tuple[int, list[RowFailure]]:
    """Writes the rows as SES's newline-delimited JSON contacts; returns (contacts written, rows refused).

    ``existing_contact(address)``: the list's contact as GetContact answers it, or None when there is none
    (``get_existing_contact`` bound to the client and list, paced by the caller); its preferences are kept.
    """
    written, failures = 0, []
    with MultipartWriter(s3, bucket, key, "application/x-ndjson", part_size) as out:
        for row in rows:
            address = row.fields.get(email_column, "").strip()
            problem = email_problem(address)
            if problem:
                failures.append(RowFailure(row.row_number, f"{problem} (column {email_column!r})"))
                continue
            out.write_json(_contact(row, address, email_column, topic_name, existing_contact(address)))
            written += 1
    return written, failures


def _contact(row: ImportRow, address: str, email_column: str, topic_name: str | None,
             existing: dict | None) -> dict:
    attributes = {name: value for name, value in row.fields.items() if name != email_column and value != ""}
    contact: dict = {"emailAddress": address, "attributesData": json.dumps(attributes, ensure_ascii=False)}
    existing = existing or {}
    unsubscribe_all = bool(existing.get("UnsubscribeAll"))
    preferences = {p["TopicName"]: p["SubscriptionStatus"] for p in existing.get("TopicPreferences") or []}
    if opted_out(row.fields, EMAIL_OPT_OUT):
        unsubscribe_all = True
        if topic_name:
            preferences[topic_name] = "OPT_OUT"
    if unsubscribe_all:
        contact["unsubscribeAll"] = True
    if preferences:
        contact["topicPreferences"] = [{"topicName": topic, "subscriptionStatus": status}
                                       for topic, status in preferences.items()]
    return contact


def get_existing_contact(sesv2, contact_list: str, address: str) -> dict | None:
    """The contact as SES v2 GetContact answers it, or None when the list has no such contact (NotFoundException,
    SES v2 API reference, GetContact). Throttling and other errors are raised for the caller's retries."""
    try:
        return sesv2.get_contact(ContactListName=contact_list, EmailAddress=address)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NotFoundException":
            return None
        raise


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
