"""The import's steps, run one by one by the state machine; each takes the execution's state and returns it.

The state (at most Step Functions' 256 KB: bad rows kept in it are capped)::

    file      {bucket, key, version_id, kind}     the dropped object version ("csv" or "jsonl")
    config    {destination, validate, follow_up, poll_seconds, maximum_polls}
    counts    {rows, imported, invalid_numbers, bad_rows, failed, lookups, follow_up_sent, ...}
    passes    {validate | import | follow_up: a due.dropped_file.Checkpoint}   one per reading of the file
    step      {done, progress}                    done=false: the state machine runs the step again
    job       {id, polls, ...}                    an SES or Pinpoint import job
    error     {Error, Cause}                      set by the state machine's Catch

A step that reads the file stops with ``TIME_LEFT_TO_STOP`` of its invocation
left and continues from its checkpoint in the next, so a file of any size is
done however long it takes. Bad rows (wrong column count, not a JSON object, no
id, no usable address) are reported by the first pass that reads the file;
rows a destination refuses, by the pass that wrote them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from due import aws, phone_validation, profiles
from due.archiving import SentArchive
from due.dropped_file import Checkpoint, records, write_report
from due.logs import get_logger
from due.s3_triggered_import import follow_up, pinpoint_import, ses_contact_list
from due.s3_triggered_import.rows import ImportRow

logger = get_logger("s3_triggered_import_steps")

SES_API_REQUESTS_PER_SECOND = 1  # SES's rate for its API actions other than the sends ("Service quotas in Amazon SES")
# Rows per send_template call (one SendBulkEmail's worth): at most this many are sent again after a passing error.
FOLLOW_UP_CHUNK = follow_up.DESTINATIONS_PER_CALL
# Bad rows kept per pass in the state: two passes of 300 stay far below Step Functions' 256 KB.
MAX_BAD_ROWS_IN_STATE = 300
ROWS_PER_WRITE = 100  # rows handed to the profile store at a time (it writes 10 a call)
PROFILE_OBJECTS_PER_CALL = 10  # BatchPutProfileObject's most items (service model)


class ImportJobFailed(Exception):
    """The import job ended without importing (the message is the service's)."""


class ImportJobTimedOut(Exception):
    """The import job was still running after the configured number of looks."""


@dataclass
class Settings:
    """What the stack configured (the steps function's environment)."""

    destination: str
    id_column: str
    email_column: str
    phone_column: str
    domain_name: str = ""
    object_type_name: str = "due_import"
    data_expiration_days: int = 366
    profile_writes_per_second: float = 80
    contact_list_name: str = ""
    topic_name: str = ""
    pinpoint_application_id: str = ""
    pinpoint_import_role_arn: str = ""
    default_country: str = "US"
    lookup_cache_table_name: str = ""
    lookup_cache_days: int = 30
    lookups_per_second: float = 5
    rate_table_name: str = ""
    notifications_topic_arn: str = ""
    follow_up_template_name: str = ""
    follow_up_from_address: str = ""
    follow_up_configuration_set_name: str = ""
    follow_up_list_unsubscribe: str = ""
    emails_per_second: float = 1


class Clients:
    """The AWS clients and shared helpers a step needs, made on first use."""

    def __init__(self, make_client: Callable[[str], Any], settings: Settings, limiter=None, validator=None):
        self._make, self.settings, self._made = make_client, settings, {}
        self._limiter, self._validator = limiter, validator

    def __call__(self, service: str):
        if service not in self._made:
            self._made[service] = self._make(service)
        return self._made[service]

    def pace(self, key: str, per_second: float) -> Callable[[], None]:
        if self._limiter is None:
            from due.rate_limit import RateLimiter

            self._limiter = RateLimiter(self("dynamodb"), self.settings.rate_table_name)
        return lambda: self._limiter.wait(key, per_second)

    @property
    def validator(self) -> phone_validation.PhoneValidator:
        if self._validator is None:
            s = self.settings
            service = (phone_validation.pinpoint_phone_number_validate(self("pinpoint")) if s.destination == "Pinpoint"
                       else phone_validation.carrier_lookup(self("pinpoint-sms-voice-v2")))
            pace = self.pace("phone-lookups", s.lookups_per_second)  # the lookup's requests-per-second quota

            def lookup(e164: str) -> phone_validation.PhoneVerdict:
                pace()
                return service(e164)
            self._validator = phone_validation.PhoneValidator(lookup, self("dynamodb"), s.lookup_cache_table_name,
                                                              s.default_country, s.lookup_cache_days)
        return self._validator


# ----------------------------------------------------------------- reading
def _pass(state: dict[str, Any], name: str) -> Checkpoint:
    data = state.setdefault("passes", {}).get(name)
    if data is None:
        file = state["file"]
        return Checkpoint(file["bucket"], file["key"], file.get("version_id"))
    return Checkpoint.from_dict(data)


def _first_pass(state: dict[str, Any]) -> str:
    return "validate" if state["config"].get("validate") == "true" else "import"


def _column_roles(columns: tuple[str, ...], settings: Settings) -> dict[str, str]:
    """Which of the file's columns is the id, the email and the phone column ({role: column as written}).

    A column is matched as the profile store maps it (any case; spaces or - for _; the store's aliases such
    as "Email Address" or "Mobile"), so a file the store would map is never refused here for its spelling."""
    wanted = {"id": profiles.standard_column(settings.id_column),
              "email": profiles.standard_column(settings.email_column),
              "phone": profiles.standard_column(settings.phone_column)}
    roles: dict[str, str] = {}
    for column in columns:
        for role, standard in wanted.items():
            if role not in roles and profiles.standard_column(column) == standard:
                roles[role] = column
    return roles


def _header_check(settings: Settings) -> Callable[[list[str]], None]:
    def check(header: list[str]) -> None:
        if "id" not in _column_roles(tuple(header), settings):
            raise ValueError(f"the header has no id column {settings.id_column!r} (columns: "
                             f"{', '.join(header)[:300]})")
        if len(set(header)) != len(header) or "" in header:
            raise ValueError("the header names a column twice, or has an empty name")
    return check


def import_rows(s3, checkpoint: Checkpoint, kind: str, settings: Settings, report_bad_rows: bool,
                stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[ImportRow, int]]:
    """(row, offset after it) for each usable row from the checkpoint; stops early when ``stop()`` says so.

    Unusable rows are noted in the checkpoint when ``report_bad_rows``. Raises FileRefused for a file that
    cannot be used at all (the step fails; Report names the reason as row 0)."""
    for number, raw, offset_after in records(s3, checkpoint, kind, _header_check(settings)):
        row, problem = _import_row(number, raw, checkpoint.header, settings)
        if row is not None:
            yield row, offset_after
        elif report_bad_rows:
            checkpoint.bad(number, problem)
        checkpoint.offset = offset_after
        if stop():
            return


def _import_row(number: int, raw: list[str] | dict | str, header: list[str] | None,
                settings: Settings) -> tuple[ImportRow | None, str]:
    if isinstance(raw, str):
        return None, raw
    if isinstance(raw, list):
        if not any(value.strip() for value in raw):
            return None, "the row is empty"
        if len(raw) != len(header):
            return None, f"the row has {len(raw)} fields; the header has {len(header)}"
        fields = {name: value.strip() for name, value in zip(header, raw, strict=True)}
    else:
        fields = {}
        for name, value in raw.items():
            if isinstance(value, (dict, list)):
                return None, f"the field {name!r} holds a {type(value).__name__}, not a single value"
            fields[str(name)] = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    # The id, email and phone columns under the names the stack was given, whatever the file's spelling.
    roles = _column_roles(tuple(fields), settings)
    configured = {"id": settings.id_column, "email": settings.email_column, "phone": settings.phone_column}
    fields = {(configured[role] if (role := next((r for r, c in roles.items() if c == name), None)) else name):
              value for name, value in fields.items()}
    if not fields.get(settings.id_column):
        return None, f"no value in the id column {settings.id_column!r}"
    if settings.destination != "SESContactList" and not (fields.get(settings.email_column)
                                                          or fields.get(settings.phone_column)):
        return None, f"no email address or phone number (columns {settings.email_column!r}, {settings.phone_column!r})"
    return ImportRow(number, fields), ""


def _save(state: dict[str, Any], name: str, checkpoint: Checkpoint) -> None:
    checkpoint.bad_rows = checkpoint.bad_rows[:MAX_BAD_ROWS_IN_STATE]
    state["passes"][name] = checkpoint.to_dict()


def _count(state: dict[str, Any], name: str, n: int = 1) -> None:
    counts = state.setdefault("counts", {})
    counts[name] = counts.get(name, 0) + n


def _step(state: dict[str, Any], done: bool, **progress: Any) -> dict[str, Any]:
    state["step"] = {"done": done, "progress": progress}
    return state


def _where(s3, checkpoint: Checkpoint) -> tuple[bool, dict[str, Any]]:
    """(whether the file goes on after the checkpoint, how far into it the checkpoint is): one HEAD."""
    size = s3.head_object(Bucket=checkpoint.bucket, Key=checkpoint.key,
                          **({"VersionId": checkpoint.version_id} if checkpoint.version_id else {}))["ContentLength"]
    more = checkpoint.offset < size and not checkpoint.refused
    return more, {"rows_read": checkpoint.next_row - 1, "percent": round(100 * checkpoint.offset / max(size, 1), 1)}


# ------------------------------------------------------------------ steps
class Steps:
    def __init__(self, settings: Settings, clients: Clients, time_is_short: Callable[[], bool]):
        self.settings, self.clients, self.time_is_short = settings, clients, time_is_short

    def run(self, action: str, state: dict[str, Any]) -> dict[str, Any]:
        step = getattr(self, action, None) if not action.startswith("_") else None
        if step is None or action == "run":
            raise ValueError(f"unknown step {action!r}")
        return step(state)

    def start(self, state: dict[str, Any]) -> dict[str, Any]:
        config = state["config"]
        # Definition substitutions arrive as strings; Wait's SecondsPath needs a number.
        config["poll_seconds"], config["maximum_polls"] = int(config["poll_seconds"]), int(config["maximum_polls"])
        state.setdefault("counts", {})
        state.setdefault("passes", {})
        self._announce(state, "started")
        if self.settings.destination == "SESContactList" and config.get("follow_up") == "true":
            self._check_topic()
        return _step(state, True)

    def _check_topic(self) -> None:
        """An existing contact list may lack the stack's topic; every send would then be refused, one by one."""
        s = self.settings
        topics = self.clients("sesv2").get_contact_list(ContactListName=s.contact_list_name).get("Topics", [])
        names = sorted(topic["TopicName"] for topic in topics)
        if s.topic_name not in names:
            raise ValueError(f"the contact list {s.contact_list_name} has no topic {s.topic_name!r} "
                             f"(its topics: {', '.join(names) or 'none'}); set TopicName to one of them")

    def validate(self, state: dict[str, Any]) -> dict[str, Any]:
        """Each distinct number is looked up once (the validator's memo and cache); invalid ones are counted."""
        s3, validator = self.clients("s3"), self.clients.validator
        checkpoint = _pass(state, "validate")
        lookups_before = validator.lookups
        for row, _ in import_rows(s3, checkpoint, state["file"]["kind"], self.settings, True, self.time_is_short):
            number = row.fields.get(self.settings.phone_column, "")
            if number and not validator.validate(number).messageable:
                _count(state, "invalid_numbers")
        _count(state, "lookups", validator.lookups - lookups_before)
        _save(state, "validate", checkpoint)
        return self._step_of_a_pass(state, "validate", s3, checkpoint)

    def write_profiles(self, state: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        s3 = self.clients("s3")
        checkpoint = _pass(state, "import")
        store = profiles.ProfileStore(
            self.clients("customer-profiles"), s.domain_name, s.object_type_name,
            pace=self.clients.pace(f"customer-profiles:{s.domain_name}",
                                   s.profile_writes_per_second / PROFILE_OBJECTS_PER_CALL))
        first = _first_pass(state) == "import"
        batch: list[ImportRow] = []
        for row, _ in import_rows(s3, checkpoint, state["file"]["kind"], s, first, self.time_is_short):
            batch.append(row)
            if len(batch) == ROWS_PER_WRITE:
                self._write(store, batch, checkpoint, state)
                batch = []
        if batch:
            self._write(store, batch, checkpoint, state)
        _save(state, "import", checkpoint)
        return self._step_of_a_pass(state, "write_profiles", s3, checkpoint)

    def _step_of_a_pass(self, state: dict[str, Any], step: str, s3, checkpoint: Checkpoint) -> dict[str, Any]:
        """Done when the file is read to its end; otherwise announce how far the step got, and go on."""
        more, progress = _where(s3, checkpoint)
        done = not more
        if not done:
            self._announce(state, "progress", progress={"step": step, **progress})
        return _step(state, done, **progress)

    def _write(self, store: profiles.ProfileStore, batch: list[ImportRow], checkpoint: Checkpoint,
               state: dict[str, Any]) -> None:
        # A CSV's columns are its header's; JSON lines may add a key on any line. Known columns cost no call.
        columns = checkpoint.header or sorted({column for row in batch for column in row.fields})
        store.ensure_object_type(columns, self.settings.id_column, self.settings.data_expiration_days)
        batch, extra = self._validated(batch, state)
        failures = store.put_rows(batch, self.settings.id_column, extra)
        for failure in failures:
            checkpoint.bad(failure.row_number, failure.reason)
        _count(state, "imported", len(batch) - len(failures))
        _count(state, "failed", len(failures))

    def _validated(self, batch: list[ImportRow], state: dict[str, Any],
                   ) -> tuple[list[ImportRow], dict[int, dict[str, str]]]:
        """The rows with their numbers in E.164 where validation could tell, and validation's attributes per
        row (the validator's memo and cache answer: the validate step looked the numbers up)."""
        if state["config"].get("validate") != "true":
            return batch, {}
        column, rows, extra = self.settings.phone_column, [], {}
        for row in batch:
            number = row.fields.get(column, "")
            if number:
                verdict = self.clients.validator.validate(number)
                extra[row.row_number] = verdict.attributes()
                if verdict.e164:
                    row = dataclasses.replace(row, fields={**row.fields, column: verdict.e164})
            rows.append(row)
        return rows, extra

    def stage(self, state: dict[str, Any]) -> dict[str, Any]:
        """Writes the service's import file under work/ in one invocation (constant memory)."""
        s = self.settings
        s3 = self.clients("s3")
        checkpoint = _pass(state, "import")
        key = f"work/{hashlib.sha256(checkpoint.file.encode()).hexdigest()[:32]}/import.jsonl"
        first = _first_pass(state) == "import"
        extra: dict[int, dict[str, str]] = {}

        def rows() -> Iterator[ImportRow]:
            for row, _ in import_rows(s3, checkpoint, state["file"]["kind"], s, first):
                (validated,), found = self._validated([row], state)
                extra.update(found)
                yield validated

        if s.destination == "SESContactList":
            # SES's import replaces an existing contact: each address's preferences are read first and kept.
            # GetContact runs at SES's API rate (1 request a second: "Service quotas in Amazon SES"), which is
            # what bounds a contact-list import in this version (docs/S3_triggered_import.md, Limits).
            pace, sesv2 = self.clients.pace("ses:api", SES_API_REQUESTS_PER_SECOND), self.clients("sesv2")

            def existing_contact(address: str) -> dict | None:
                pace()
                return ses_contact_list.get_existing_contact(sesv2, s.contact_list_name, address)

            written, failures = ses_contact_list.write_import_file(
                rows(), s3, checkpoint.bucket, key, s.email_column, s.topic_name or None,
                existing_contact=existing_contact)
        else:
            written, failures = pinpoint_import.write_import_file(
                rows(), s3, checkpoint.bucket, key, s.id_column, extra, email_column=s.email_column,
                phone_column=s.phone_column)
        for failure in failures:
            checkpoint.bad(failure.row_number, failure.reason)
        _count(state, "staged", written)
        _count(state, "failed", len(failures))
        _save(state, "import", checkpoint)
        # SES imports one object; Pinpoint imports every object under a prefix ("Importing segments"), so it
        # is given the folder, which holds this one file only.
        url = key if s.destination == "SESContactList" else key.rsplit("/", 1)[0] + "/"
        state["job"] = {"s3_url": f"s3://{checkpoint.bucket}/{url}", "polls": 0}
        return _step(state, True)

    def start_job(self, state: dict[str, Any]) -> dict[str, Any]:
        s, job = self.settings, state["job"]
        if s.destination == "SESContactList":
            job["id"] = ses_contact_list.start_import(self.clients("sesv2"), s.contact_list_name, job["s3_url"])
        else:
            segment = f"import {state['file']['key'].rsplit('/', 1)[-1]}"[:64]
            job["id"] = pinpoint_import.start_import(self.clients("pinpoint"), s.pinpoint_application_id,
                                                     job["s3_url"], s.pinpoint_import_role_arn, segment)
        return _step(state, True)

    def check_job(self, state: dict[str, Any]) -> dict[str, Any]:
        s, job = self.settings, state["job"]
        job["polls"] += 1
        if s.destination == "SESContactList":
            found = ses_contact_list.job_state(self.clients("sesv2"), job["id"])
        else:
            found = pinpoint_import.job_state(self.clients("pinpoint"), s.pinpoint_application_id, job["id"])
        job.update(status=found.status, processed=found.processed, failed=found.failed,
                   failed_records_url=found.failed_records_url, segment_id=found.segment_id)
        if found.status == "running":
            if job["polls"] >= state["config"]["maximum_polls"]:
                raise ImportJobTimedOut(f"import job {job['id']} still running after {job['polls']} looks")
            return _step(state, False, polls=job["polls"])
        state["counts"]["imported"] = found.processed
        _count(state, "failed", found.failed)
        if found.status == "failed":
            raise ImportJobFailed(f"import job {job['id']} failed: {found.error or 'no reason given'}")
        return _step(state, True)

    def follow_up(self, state: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        if s.destination == "Pinpoint":
            state["follow_up_campaign_id"] = follow_up.create_campaign(
                self.clients("pinpoint"), s.pinpoint_application_id, state["job"]["segment_id"],
                f"follow-up {state['file']['key'].rsplit('/', 1)[-1]}"[:64], s.follow_up_template_name,
                s.follow_up_from_address or None)
            return _step(state, True)
        s3 = self.clients("s3")
        checkpoint = _pass(state, "follow_up")
        send = functools.partial(
            follow_up.send_template, self.clients("sesv2"), email_column=s.email_column,
            template_name=s.follow_up_template_name, from_address=s.follow_up_from_address,
            configuration_set=s.follow_up_configuration_set_name or None,
            contact_list=s.contact_list_name or None if s.destination == "SESContactList" else None,
            topic=s.topic_name or None if s.destination == "SESContactList" else None,
            pace=self.clients.pace("ses:send", s.emails_per_second), is_opted_out=self._opted_out_check(),
            list_unsubscribe=s.follow_up_list_unsubscribe or None, archive=SentArchive.from_environment())
        # Sent a chunk at a time, the checkpoint moved past each chunk once it is sent: SES sends have no client
        # token, so a step that failed and ran again from an older checkpoint would mail people twice. A passing
        # trouble ends the invocation at the last chunk sent instead, and the state machine runs it again.
        done_to = (checkpoint.offset, checkpoint.next_row)
        chunk: list[tuple[ImportRow, int]] = []
        rows = import_rows(s3, checkpoint, state["file"]["kind"], s, False, self.time_is_short)
        try:
            for row, offset_after in rows:
                chunk.append((row, offset_after))
                if len(chunk) == FOLLOW_UP_CHUNK:
                    done_to = self._send_chunk(send, chunk, checkpoint, state)
                    chunk = []
            if chunk:
                done_to = self._send_chunk(send, chunk, checkpoint, state)
        except (ClientError, BotoCoreError, follow_up.FollowUpStopped) as error:
            # send_template reports a refusal it cannot work round as FollowUpStopped, caused by SES's error.
            cause = error.__cause__ if isinstance(error, follow_up.FollowUpStopped) else error
            if not isinstance(cause, Exception) or not aws.is_passing(cause):
                raise
            logger.warning("follow-up paused by a passing error; it goes on from the last chunk sent",
                           extra={"error": str(cause)})
        checkpoint.offset, checkpoint.next_row = done_to
        _save(state, "follow_up", checkpoint)
        return self._step_of_a_pass(state, "follow_up", s3, checkpoint)

    def _send_chunk(self, send: Callable, chunk: list[tuple[ImportRow, int]], checkpoint: Checkpoint,
                    state: dict[str, Any]) -> tuple[int, int]:
        counts = send(rows=[row for row, _ in chunk])
        for name in ("sent", "opted_out", "no_address", "failed"):
            _count(state, f"follow_up_{name}", getattr(counts, name))
        return chunk[-1][1], chunk[-1][0].row_number + 1

    def _opted_out_check(self) -> Callable[[str], bool]:
        """Consent beyond the file's own column. With Customer Profiles, an address is sent to only when an
        imported profile holds it and none of its profiles says email_opt_out (another writer may have set it
        since, and a row the profile store refused has no profile). SES itself skips its suppression list, and
        a contact list's unsubscribes (the follow-up sends with it)."""
        s = self.settings
        if s.destination != "CustomerProfiles":
            return lambda _address: False
        store = profiles.ProfileStore(self.clients("customer-profiles"), s.domain_name, s.object_type_name,
                                      pace=self.clients.pace(f"customer-profiles-search:{s.domain_name}",
                                                             s.profile_writes_per_second))

        def opted_out(address: str) -> bool:
            found = store.find(email=address)
            return not found or any(profiles.says_opted_out((p.get("Attributes") or {}).get(profiles.EMAIL_OPT_OUT))
                                    for p in found)
        return opted_out

    def report(self, state: dict[str, Any]) -> dict[str, Any]:
        """Writes ``<key>.report.json`` (bad rows of every pass, once each) and announces the outcome."""
        file = state["file"]
        merged = Checkpoint(file["bucket"], file["key"], file.get("version_id"))
        seen: dict[int, str] = {}
        for data in (state.get("passes") or {}).values():
            passed = Checkpoint.from_dict(data)
            merged.next_row = max(merged.next_row, passed.next_row)
            merged.bad_row_count += passed.bad_row_count  # each bad row is reported by one pass only
            for bad in passed.bad_rows:
                seen.setdefault(bad["row"], bad["reason"])
        merged.bad_rows = [{"row": row, "reason": reason} for row, reason in sorted(seen.items())]
        counts = state.setdefault("counts", {})
        counts["rows"] = merged.next_row - 1
        counts["bad_rows"] = merged.bad_row_count
        error = _error_message(state.get("error"))
        if _error_type(state.get("error")) == "FileRefused" and 0 not in seen:
            # The refusing step failed, so its checkpoint never reached the state: the reason is the error's.
            merged.bad_rows.insert(0, {"row": 0, "reason": error.split(": ", 1)[-1]})
            merged.bad_row_count += 1
        merged.counts = {**counts, "destination": self.settings.destination}
        if error:
            merged.counts["error"] = error
        report_key = write_report(self.clients("s3"), merged)
        state["outcome"] = "failed" if error else "succeeded"
        self._announce(state, state["outcome"], report=f"s3://{file['bucket']}/{report_key}", error=error)
        state.pop("passes", None)  # done with: keeps the execution's final output small
        return _step(state, True)

    # --------------------------------------------------------------- helpers
    def _announce(self, state: dict[str, Any], outcome: str, **details: Any) -> None:
        file = state["file"]
        message = {"outcome": outcome, "file": f"s3://{file['bucket']}/{file['key']}",
                   "version_id": file.get("version_id"), "destination": self.settings.destination,
                   "counts": state.get("counts", {}), **{k: v for k, v in details.items() if v is not None}}
        self.clients("sns").publish(
            TopicArn=self.settings.notifications_topic_arn, Message=json.dumps(message, ensure_ascii=False),
            MessageAttributes={"outcome": {"DataType": "String", "StringValue": outcome}})


def _error_type(error: dict[str, Any] | None) -> str | None:
    if not error:
        return None
    try:
        cause = json.loads(error.get("Cause") or "")
    except ValueError:
        cause = None
    if isinstance(cause, dict) and cause.get("errorType"):
        return cause["errorType"]
    return error.get("Error")


def _error_message(error: dict[str, Any] | None) -> str | None:
    """The reason from a Step Functions Catch result ({Error, Cause}; a Lambda error's Cause is JSON)."""
    if not error:
        return None
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        cause = parsed.get("errorMessage") or cause if isinstance(parsed, dict) else cause
    except ValueError:
        pass
    return f"{error.get('Error', 'Error')}: {cause}"[:1000]
