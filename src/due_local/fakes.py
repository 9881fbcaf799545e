"""In-memory fakes for AWS APIs that moto does not implement.

A fake attaches to a boto3 client, session or botocore session. It answers at
botocore's ``before-send`` event with a real HTTP response (JSON body, error
headers), so everything in front of it is real: parameter validation against
the service model, serialisation, response parsing and the retry handler
(a throttling error injected with ``fail_next`` is retried by botocore exactly
as a real one would be). Operations a fake does not implement pass through to
whatever is behind the client (moto, usually).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import phonenumbers
from botocore.awsrequest import AWSResponse

_pending = threading.local()


class FakeError(Exception):
    def __init__(self, code: str, message: str = "", status: int = 400, extra: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status
        self.extra = extra or {}  # modelled error members (DynamoDB's Item, for example)


@dataclass
class Call:
    operation: str
    params: dict[str, Any]


class _Body:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class FakeService:
    """Base class: subclasses set ``service_id`` and define snake_case operation methods."""

    service_id = ""  # hyphenised botocore service id, e.g. "sesv2", "pinpoint-sms-voice-v2"

    def __init__(self):
        self.calls: list[Call] = []
        self._faults: dict[str, list[FakeError]] = defaultdict(list)
        self._lock = threading.RLock()

    # --- wiring -----------------------------------------------------------
    def attach(self, target) -> FakeService:
        events = target.meta.events if hasattr(target, "meta") else target.events
        events.register(f"before-parameter-build.{self.service_id}", self._capture,
                        unique_id=f"fake-capture-{id(self)}")
        # First, so that the fake answers before moto's in-process stubber (mock_aws) does.
        events.register_first(f"before-send.{self.service_id}", self._respond, unique_id=f"fake-respond-{id(self)}")
        return self

    def implements(self, operation: str) -> bool:
        return callable(getattr(self, _snake(operation), None))

    # --- fault injection --------------------------------------------------
    def fail_next(self, operation: str, code: str, times: int = 1, status: int = 400, message: str = "injected"):
        """The next ``times`` calls of ``operation`` fail with ``code``."""
        with self._lock:
            self._faults[operation].extend(FakeError(code, message, status) for _ in range(times))

    def calls_of(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    # --- botocore hooks ---------------------------------------------------
    def _capture(self, params, model, **_kwargs):
        # Set for every call of this service, so a stale capture never answers another operation.
        _pending.call = (self, model, dict(params)) if self.implements(model.name) else None

    def _respond(self, request, **_kwargs):
        pending = getattr(_pending, "call", None)
        if pending is None or pending[0] is not self:
            return None
        _, model, params = pending
        # botocore runs every before-send handler even after one answered; moto's
        # in-process stubber (mock_aws) would still route this request by URL and
        # fail on the operation it lacks. An address no backend matches makes it pass.
        request.url = "http://answered-by-due-fake.invalid/"
        with self._lock:
            self.calls.append(Call(model.name, params))
            faults = self._faults.get(model.name)
            fault = faults.pop(0) if faults else None
        try:
            refuse_invalid_request(self.service_id, model, params)
            if fault:
                raise fault
            with self._lock:
                output = getattr(self, _snake(model.name))(**params) or {}
        except FakeError as error:
            body = json.dumps(_to_wire({"__type": error.code, "message": error.message, **error.extra})).encode()
            return AWSResponse(request.url, error.status, {"x-amzn-ErrorType": error.code}, _Body(body))
        status = output.pop("__status", 200)
        # REST-JSON operations may name one member as the whole body (Pinpoint does this throughout).
        payload = model.output_shape.serialization.get("payload") if model.output_shape else None
        body = output.get(payload, {}) if payload else output
        return AWSResponse(request.url, status, {"content-type": "application/json"},
                           _Body(json.dumps(_to_wire(body)).encode()))


# --- what AWS refuses and botocore lets through ------------------------------
# botocore checks required members, types and minimums only. The service refuses a request whose member breaks
# the model's max (length, items or value), pattern or enum with ValidationException, HTTP 400 ("The input fails
# to satisfy the constraints specified by an AWS service", the common ValidationException of the API references).

# Limits the service models lack, each as AWS documents it: (service id, operation) -> [(member path, check, why)].
# A path is dotted member names; "[]" steps into each item of a list.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
DOCUMENTED_LIMITS: dict[tuple[str, str], list[tuple[str, str, Any, str]]] = {
    ("pinpoint", "UpdateEndpointsBatch"): [
        ("EndpointBatchRequest.Item", "max_items", 100,
         "Pinpoint developer guide, 'Add a batch of endpoints': each batch request can include up to 100 "
         "endpoint definitions"),
    ],
    ("sesv2", "SendBulkEmail"): [
        ("BulkEmailEntries", "max_items", 50,
         "SES API reference, SendBulkTemplatedEmail: at most 50 destinations per call (the v2 SendBulkEmail page "
         "states no number; the v1 limit is the documented one)"),
        # The model allows 995; the API reference (MessageHeader) says "no more than 870 characters".
        ("BulkEmailEntries.[].ReplacementHeaders.[].Value", "pattern", re.compile(r"[ -~]{1,870}"),
         "SES v2 API reference, MessageHeader: printable ASCII, no more than 870 characters"),
        ("DefaultContent.Template.Headers.[].Value", "pattern", re.compile(r"[ -~]{1,870}"),
         "SES v2 API reference, MessageHeader: printable ASCII, no more than 870 characters"),
    ],
    # The model's pattern lets a number without "+" through; its documentation says E.164 (API reference).
    ("pinpoint-sms-voice-v2", "SendTextMessage"): [
        ("DestinationPhoneNumber", "pattern", _E164, "SendTextMessage: the destination phone number in E.164 format"),
    ],
    ("pinpoint-sms-voice-v2", "SendVoiceMessage"): [
        ("DestinationPhoneNumber", "pattern", _E164, "SendVoiceMessage: the destination phone number in E.164 format"),
    ],
    ("pinpoint-sms-voice-v2", "PutOptedOutNumber"): [
        ("OptedOutNumber", "pattern", _E164, "PutOptedOutNumber: the phone number in E.164 format"),
    ],
    ("pinpoint-sms-voice-v2", "DeleteOptedOutNumber"): [
        ("OptedOutNumber", "pattern", _E164, "DeleteOptedOutNumber: the phone number in E.164 format"),
    ],
    ("customer-profiles", "PutProfileObjectType"): [
        ("Fields", "max_items", 250, "Amazon Connect Administrator Guide, 'Field definitions in Customer Profiles "
                                     "object type mappings': an object type can define up to 250 fields"),
    ],
}

# Patterns are Java regular expressions that the API references show as the whole value's form ("Pattern:
# [A-Za-z0-9_:/-]+"), so they are matched against the whole value, as Java's String.matches does. Java writes a
# supplementary character as a UTF-16 surrogate pair; Python needs the code point range. Some models escape twice
# (Connect's phone number pattern is \\+[1-9]\\d{1,14}$, which no number matches, where the Connect API reference
# shows \+[1-9]\d{1,14}$): a doubled backslash before an escape letter is read as one. Patterns Python still
# cannot compile (\p{...} classes) are left unchecked and listed in UNCHECKED_PATTERNS.
_SURROGATE_RANGE = "\\uD800\\uDC00-\\uDBFF\\uDFFF"
_DOUBLE_ESCAPE = re.compile(r"\\\\(?=[dDsSwWpP.+\-])")
UNCHECKED_PATTERNS: set[str] = set()
_compiled: dict[str, re.Pattern | None] = {}


def _model_pattern(pattern: str) -> re.Pattern | None:
    if pattern not in _compiled:
        java = _DOUBLE_ESCAPE.sub(r"\\", pattern).replace(_SURROGATE_RANGE, "\\U00010000-\\U0010FFFF")
        try:
            _compiled[pattern] = re.compile(java)
        except re.error:
            UNCHECKED_PATTERNS.add(pattern)
            _compiled[pattern] = None
    return _compiled[pattern]


def _refuse(path: str, value: Any, constraint: str) -> FakeError:
    # AWS echoes the value; this leaves it out (an address or a number is personal data) unless it is a count.
    shown = f"Value '{value}'" if isinstance(value, (int, float)) or str(value).endswith(("items", "entries",
                                                                                         "bytes")) else "Value"
    return FakeError("ValidationException", f"1 validation error detected: {shown} at '{path}' failed to "
                                            f"satisfy constraint: Member must {constraint}")


def _check_shape(shape, value: Any, path: str) -> None:
    limit = shape.metadata.get("max")
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _check_shape(member, value[name], f"{path}.{name}" if path else name)
    elif shape.type_name == "list" and isinstance(value, (list, tuple)):
        if limit is not None and len(value) > limit:
            raise _refuse(path, f"{len(value)} items", f"have length less than or equal to {limit}")
        for index, item in enumerate(value):
            _check_shape(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        if limit is not None and len(value) > limit:
            raise _refuse(path, f"{len(value)} entries", f"have length less than or equal to {limit}")
        for key, item in value.items():
            _check_shape(shape.key, key, f"{path}.key")
            _check_shape(shape.value, item, f"{path}.{key}")
    elif shape.type_name == "string" and isinstance(value, str):
        if limit is not None and len(value) > limit:
            raise _refuse(path, value, f"have length less than or equal to {limit}")
        if shape.enum and value not in shape.enum:
            raise _refuse(path, value, f"satisfy enum value set: {shape.enum}")
        pattern = shape.metadata.get("pattern")
        compiled = _model_pattern(pattern) if pattern else None
        if compiled and not compiled.fullmatch(value):
            raise _refuse(path, value, f"satisfy regular expression pattern: {pattern}")
    elif shape.type_name == "blob" and isinstance(value, (bytes, str)):
        if limit is not None and len(value) > limit:
            raise _refuse(path, f"{len(value)} bytes", f"have length less than or equal to {limit}")
    elif (shape.type_name in ("integer", "long", "float", "double") and isinstance(value, (int, float))
          and limit is not None and value > limit):
        raise _refuse(path, value, f"have value less than or equal to {limit}")


def _values_at(value: Any, path: list[str], prefix: str = ""):
    """(path, value) for each value at a dotted path; "[]" in the path steps into every item of a list."""
    if not path:
        yield prefix, value
        return
    head, rest = path[0], path[1:]
    if head == "[]":
        for index, item in enumerate(value if isinstance(value, list) else []):
            yield from _values_at(item, rest, f"{prefix}[{index}]")
    elif isinstance(value, dict) and head in value:
        yield from _values_at(value[head], rest, f"{prefix}.{head}" if prefix else head)


def refuse_invalid_request(service_id: str, model, params: dict[str, Any]) -> None:
    """Raise the ValidationException AWS answers for a request that breaks the model or a documented limit."""
    if model.input_shape is not None:
        _check_shape(model.input_shape, params, "")
    for member_path, check, limit, why in DOCUMENTED_LIMITS.get((service_id, model.name), []):
        for path, value in _values_at(params, member_path.split(".")):
            if check == "max_items" and len(value) > limit:
                raise _refuse(path, f"{len(value)} items", f"have length less than or equal to {limit} ({why})")
            if check == "pattern" and isinstance(value, str) and not limit.fullmatch(value):
                raise _refuse(path, value, f"match {limit.pattern} ({why})")


def _to_wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _number_treatments(campaign: dict[str, Any]) -> None:
    """A campaign response names each additional treatment by an Id (TreatmentResource.Id, required); the send
    events' treatment_id names the treatment sent. The default treatment is "0" in AWS's published send events;
    the fake numbers the others from 1 (AWS documents no form for them)."""
    for number, treatment in enumerate(campaign.get("AdditionalTreatments") or [], 1):
        treatment.setdefault("Id", str(number))


def _s3_objects(url: str, whole_prefix: bool) -> list[bytes]:
    """The objects an import job at ``s3://bucket/key`` reads, through whatever S3 the process talks to (moto):
    SES reads that object; Pinpoint reads every object under it as a prefix (its API reference, S3Url)."""
    import boto3

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            if whole_prefix or o["Key"] == prefix]
    if not keys:
        raise FakeError("BadRequestException", f"no object at {url}")
    return [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys]


INLINE_TEMPLATE_MAX_BYTES = 1024 * 1024


def _substitute(text: str, data: dict) -> str:
    """SES's simple substitution as the fake renders it: ``{{name}}`` (or a dotted path) becomes the value,
    as given (no escaping); a name without a value renders empty."""
    def value(match: re.Match) -> str:
        found: Any = data
        for part in match.group(1).strip().split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return "" if found is None else str(found)
    return re.sub(r"\{\{([^{}]+)\}\}", value, text)


class SesV2Fake(FakeService):
    """SES v2: account suppression list, email templates, the contact list and its import jobs, and templated
    sending (SendBulkEmail, templated SendEmail); moto keeps sending Simple and Raw mail."""

    service_id = "sesv2"

    def __init__(self):
        super().__init__()
        self.suppressed: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, str]] = {}
        self.contact_lists: dict[str, dict[str, Any]] = {}  # name -> the list, its topics and its contacts
        self.import_jobs: dict[str, dict[str, Any]] = {}
        self.import_job_endings: list[tuple[str, str]] = []  # (status, message) the next import jobs end with
        self.sent_bulk: list[dict[str, Any]] = []  # one per destination SendBulkEmail accepted
        self.sent_templated: list[dict[str, Any]] = []  # one per templated SendEmail SES delivered
        self.unsubscribed_bounces: list[dict[str, Any]] = []  # templated SendEmail to an unsubscribed contact
        self.entry_statuses: list[str] = []  # statuses the next SendBulkEmail entries get instead of SUCCESS

    def put_suppressed_destination(self, EmailAddress, Reason):
        self.suppressed[EmailAddress.lower()] = {"EmailAddress": EmailAddress, "Reason": Reason,
                                                 "LastUpdateTime": _now()}
        return {}

    def get_suppressed_destination(self, EmailAddress):
        entry = self.suppressed.get(EmailAddress.lower())
        if entry is None:
            raise FakeError("NotFoundException", f"{EmailAddress} is not on the suppression list", 404)
        return {"SuppressedDestination": entry}

    def delete_suppressed_destination(self, EmailAddress):
        if self.suppressed.pop(EmailAddress.lower(), None) is None:
            raise FakeError("NotFoundException", "not on the suppression list", 404)
        return {}

    def list_suppressed_destinations(self, PageSize=None, NextToken=None, **_filters):
        """A page of the list and the token of the next. The API reference gives PageSize no range or default;
        this fake takes 1 and up and answers 100 a page when none is asked (its own choice)."""
        if PageSize is not None and PageSize < 1:
            raise FakeError("BadRequestException", "PageSize must be at least 1")
        summaries, start = list(self.suppressed.values()), int(NextToken or 0)
        size = PageSize or 100
        page: dict[str, Any] = {"SuppressedDestinationSummaries": summaries[start:start + size]}
        if start + size < len(summaries):
            page["NextToken"] = str(start + size)
        return page

    def create_email_template(self, TemplateName, TemplateContent):
        if TemplateName in self.templates:
            raise FakeError("AlreadyExistsException", f"template {TemplateName} exists")
        self.templates[TemplateName] = dict(TemplateContent)
        return {}

    def get_email_template(self, TemplateName):
        if TemplateName not in self.templates:
            raise FakeError("NotFoundException", f"Template {TemplateName} does not exist.", 404)
        return {"TemplateName": TemplateName, "TemplateContent": self.templates[TemplateName]}

    # --- contact lists and their import jobs (SES Developer Guide, "Using list management") -------------------
    # Contact lists live here rather than in moto so that an import job's contacts are the ones GetContact reads.
    def create_contact_list(self, ContactListName, Topics=None, Description=None, Tags=None):
        if ContactListName in self.contact_lists:
            raise FakeError("AlreadyExistsException", f"contact list {ContactListName} exists")
        if self.contact_lists:  # "Only one contact list is allowed per AWS account"; the code is the model's
            raise FakeError("LimitExceededException", "only one contact list is allowed per account")
        self.contact_lists[ContactListName] = {"ContactListName": ContactListName, "Topics": list(Topics or []),
                                               "Description": Description, "contacts": {}}
        return {}

    def get_contact_list(self, ContactListName):
        contact_list = self._contact_list(ContactListName)
        return {k: v for k, v in contact_list.items() if k != "contacts" and v is not None}

    def create_contact(self, ContactListName, EmailAddress, TopicPreferences=None, UnsubscribeAll=False,
                       AttributesData=None):
        contacts = self._contact_list(ContactListName)["contacts"]
        if EmailAddress.lower() in contacts:
            raise FakeError("AlreadyExistsException", "contact exists")
        contacts[EmailAddress.lower()] = {"EmailAddress": EmailAddress, "UnsubscribeAll": UnsubscribeAll,
                                          "TopicPreferences": list(TopicPreferences or []),
                                          **({"AttributesData": AttributesData} if AttributesData else {})}
        return {}

    def get_contact(self, ContactListName, EmailAddress):
        contact = self._contact_list(ContactListName)["contacts"].get(EmailAddress.lower())
        if contact is None:
            raise FakeError("NotFoundException", "contact not found", 404)
        return {"ContactListName": ContactListName, **contact}

    def update_contact(self, ContactListName, EmailAddress, TopicPreferences=None, UnsubscribeAll=None,
                       AttributesData=None):
        """The preferences given replace the contact's ("You must specify all existing topic preferences ...
        otherwise, all your existing preferences will be removed", UpdateContact, SES v2 API reference)."""
        contact = self._contact_list(ContactListName)["contacts"].get(EmailAddress.lower())
        if contact is None:
            raise FakeError("NotFoundException", "contact not found", 404)
        contact["TopicPreferences"] = list(TopicPreferences or [])
        if UnsubscribeAll is not None:
            contact["UnsubscribeAll"] = UnsubscribeAll
        if AttributesData is not None:
            contact["AttributesData"] = AttributesData
        return {}

    def delete_contact(self, ContactListName, EmailAddress):
        """Removes a contact from a contact list (DeleteContact, SES v2 API reference)."""
        if self._contact_list(ContactListName)["contacts"].pop(EmailAddress.lower(), None) is None:
            raise FakeError("NotFoundException", "contact not found", 404)
        return {}

    def create_import_job(self, ImportDestination, ImportDataSource):
        destination = ImportDestination.get("ContactListDestination")
        if destination is None:
            raise FakeError("BadRequestException", "this fake imports into contact lists only")
        self._contact_list(destination["ContactListName"])
        job_id = str(uuid.uuid4())
        self.import_jobs[job_id] = {"JobId": job_id, "ImportDestination": ImportDestination,
                                    "ImportDataSource": ImportDataSource, "JobStatus": "CREATED",
                                    "CreatedTimestamp": _now(), "ProcessedRecordsCount": 0, "FailedRecordsCount": 0}
        return {"JobId": job_id}

    def get_import_job(self, JobId):
        """Each read moves the job on, CREATED -> PROCESSING -> its end, so a poller sees it running first."""
        job = self.import_jobs.get(JobId)
        if job is None:
            raise FakeError("NotFoundException", f"import job {JobId} not found", 404)
        if job["JobStatus"] == "CREATED":
            job["JobStatus"] = "PROCESSING"
        elif job["JobStatus"] == "PROCESSING":
            self._end_import(job)
        return dict(job)

    def _end_import(self, job):
        job["CompletedTimestamp"] = _now()
        if self.import_job_endings:
            job["JobStatus"], message = self.import_job_endings.pop(0)
            job["FailureInfo"] = {"ErrorMessage": message}
            return
        contacts = self._contact_list(job["ImportDestination"]["ContactListDestination"]["ContactListName"])[
            "contacts"]
        processed = failed = 0
        for data in _s3_objects(job["ImportDataSource"]["S3Url"], whole_prefix=False):
            for line in data.decode("utf-8").splitlines():
                if not line.strip():
                    continue
                record = json.loads(line)
                address = record.get("emailAddress")
                if not address or "@" not in address:  # emailAddress is the one mandatory field
                    failed += 1
                    continue
                # ContactListImportAction PUT: "If the record already exists, it will override it with the new
                # value" (SES v2 API reference, ContactListDestination): what the line leaves out is not kept.
                contacts[address.lower()] = {
                    "EmailAddress": address, "UnsubscribeAll": bool(record.get("unsubscribeAll", False)),
                    "TopicPreferences": [{"TopicName": p["topicName"], "SubscriptionStatus": p["subscriptionStatus"]}
                                         for p in record.get("topicPreferences", [])],
                    **({"AttributesData": record["attributesData"]} if "attributesData" in record else {})}
                processed += 1
        job.update(JobStatus="COMPLETED", ProcessedRecordsCount=processed, FailedRecordsCount=failed)

    def _contact_list(self, name):
        if name not in self.contact_lists:
            raise FakeError("NotFoundException", f"contact list {name} not found", 404)
        return self.contact_lists[name]

    # --- templated sending (moto sends Simple and Raw content and has no templates) ---------------------------
    def _capture(self, params, model, **kwargs):
        super()._capture(params, model, **kwargs)
        # Only templated SendEmail is answered here; moto keeps sending the rest, where other tests read it.
        if model.name == "SendEmail" and "Template" not in params.get("Content", {}):
            _pending.call = None

    def send_email(self, Content, Destination=None, FromEmailAddress=None, ListManagementOptions=None, **kwargs):
        template = Content["Template"]
        self._template(template)
        message = {"MessageId": str(uuid.uuid4()), "From": FromEmailAddress,
                   "To": (Destination or {}).get("ToAddresses", []), "TemplateName": template.get("TemplateName"),
                   "TemplateData": json.loads(template.get("TemplateData") or "{}"), **kwargs}
        if ListManagementOptions:
            # SES adds List-Unsubscribe headers, creates a contact it does not know, and bounces mail to one who
            # unsubscribed from the list or the topic (Developer Guide, subscription and list management).
            contact_list = self._contact_list(ListManagementOptions["ContactListName"])
            topic = ListManagementOptions.get("TopicName")
            message["Headers"] = ["List-Unsubscribe", "List-Unsubscribe-Post"]
            for address in message["To"]:
                contact = contact_list["contacts"].setdefault(
                    address.lower(), {"EmailAddress": address, "UnsubscribeAll": False, "TopicPreferences": []})
                if self._unsubscribed(contact_list, contact, topic):
                    self.unsubscribed_bounces.append({**message, "To": [address]})
                    return {"MessageId": message["MessageId"]}
        self.sent_templated.append(message)
        return {"MessageId": message["MessageId"]}

    @staticmethod
    def _unsubscribed(contact_list, contact, topic) -> bool:
        if contact["UnsubscribeAll"]:
            return True
        if topic is None:
            return False
        chosen = {p["TopicName"]: p["SubscriptionStatus"] for p in contact["TopicPreferences"]}
        default = {t["TopicName"]: t["DefaultSubscriptionStatus"] for t in contact_list["Topics"]}
        return chosen.get(topic, default.get(topic, "OPT_IN")) == "OPT_OUT"

    def send_bulk_email(self, DefaultContent, BulkEmailEntries, FromEmailAddress=None, **kwargs):
        template = DefaultContent["Template"]
        content = template.get("TemplateContent") or self.templates.get(template.get("TemplateName"))
        inline = template.get("TemplateContent")
        if inline and sum(len((inline.get(part) or "").encode()) for part in ("Subject", "Html", "Text")) > \
                INLINE_TEMPLATE_MAX_BYTES:
            # "Each input JSON file can be up to 1 MB in size, including both the text and HTML parts" (SES
            # Developer Guide, "Using templates to send personalized email"); the error code is not documented.
            raise FakeError("BadRequestException", "inline template content is larger than 1 MB")
        results = []
        for entry in BulkEmailEntries:
            status = self.entry_statuses.pop(0) if self.entry_statuses else (
                "SUCCESS" if content else "TEMPLATE_NOT_FOUND")
            if status != "SUCCESS":
                results.append({"Status": status, "Error": f"injected {status}" if content else "template not found"})
                continue
            message_id = str(uuid.uuid4())
            replacement = entry.get("ReplacementEmailContent", {}).get("ReplacementTemplate", {})
            data = json.loads(replacement.get("ReplacementTemplateData") or template.get("TemplateData") or "{}")
            # A header named in the entry replaces the template's header of that name, or is added (SES v2 API
            # reference, BulkEmailEntry ReplacementHeaders).
            named = {h["Name"].lower() for h in entry.get("ReplacementHeaders", [])}
            headers = [h for h in template.get("Headers", []) if h["Name"].lower() not in named]
            self.sent_bulk.append({
                "MessageId": message_id, "From": FromEmailAddress, "To": entry["Destination"].get("ToAddresses", []),
                "TemplateName": template.get("TemplateName"), "Headers": headers + entry.get("ReplacementHeaders", []),
                "TemplateData": data, "Rendered": {part: _substitute(content.get(part) or "", data)
                                                   for part in ("Subject", "Html", "Text") if content.get(part)},
                **kwargs})
            results.append({"Status": "SUCCESS", "MessageId": message_id})
        return {"BulkEmailEntryResults": results}

    def list_contacts(self, ContactListName, Filter=None, PageSize=None, NextToken=None):
        """Every contact of the list, 50 a page (the service's default page size is not documented); the
        fake does not filter (the senders here read whole lists)."""
        contacts = list(self._contact_list(ContactListName)["contacts"].values())
        start = int(NextToken or 0)
        size = PageSize or 50
        page = {"Contacts": [{k: v for k, v in c.items() if k != "AttributesData"}
                             for c in contacts[start:start + size]]}
        if start + size < len(contacts):
            page["NextToken"] = str(start + size)
        return page

    def _template(self, template):
        if not template.get("TemplateContent") and template.get("TemplateName") not in self.templates:
            raise FakeError("NotFoundException", f"Template {template.get('TemplateName')} does not exist.", 404)


_LINE_TYPES = {phonenumbers.PhoneNumberType.MOBILE: "MOBILE",
               phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "MOBILE",
               phonenumbers.PhoneNumberType.FIXED_LINE: "LANDLINE", phonenumbers.PhoneNumberType.VOIP: "VOIP"}


def _line_facts(number: str, region: str | None = None) -> dict[str, Any] | None:
    """What both phone lookups (CarrierLookup, PhoneNumberValidate) report about a number by default: its
    line type as libphonenumber's numbering plans tell it (a number no plan assigns is INVALID; a type the
    lookups do not name is OTHER). None if it is not a number at all."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    region_code = phonenumbers.region_code_for_country_code(parsed.country_code)
    valid = phonenumbers.is_valid_number(parsed)
    return {"e164": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
            "iso": (phonenumbers.region_code_for_number(parsed) if valid else None) or
                   (region_code if region_code != phonenumbers.UNKNOWN_REGION else None),
            "dialing_code": str(parsed.country_code),
            "type": _LINE_TYPES.get(phonenumbers.number_type(parsed), "OTHER") if valid else "INVALID"}


class PinpointFake(FakeService):
    """Pinpoint: endpoints, email templates, SendMessages and event streams (apps stay with moto).

    Event streams are here rather than in moto so that ``fail_next("PutEventStream", "BadRequestException")``
    can refuse a stream as Pinpoint does while a new role propagates. The project's existence is moto's: an
    unknown application id is not refused here."""

    service_id = "pinpoint"

    def __init__(self):
        super().__init__()
        self.endpoints: dict[tuple[str, str], dict[str, Any]] = {}
        self.email_templates: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self.event_streams: dict[str, dict[str, Any]] = {}  # application id -> its one event stream
        self.import_jobs: dict[tuple[str, str], dict[str, Any]] = {}  # (application id, job id) -> the job
        self.import_job_endings: list[tuple[str, list[str]]] = []  # (status, failures) the next jobs end with
        self.segments: dict[tuple[str, str], dict[str, Any]] = {}  # (application id, segment id) -> segment
        self.campaigns: dict[tuple[str, str], dict[str, Any]] = {}
        self.campaign_versions: dict[tuple[str, str, int], dict[str, Any]] = {}  # every version kept, as AWS does
        self.journeys: dict[tuple[str, str], dict[str, Any]] = {}
        self.templates: dict[tuple[str, str], dict[str, Any]] = {}  # (type, name) -> versions and the active one
        # E.164 -> NumberValidateResponse members that replace the default answer (_line_facts), e.g.
        # {"PhoneType": "LANDLINE", "Carrier": "Example"}.
        self.lookup_answers: dict[str, dict[str, Any]] = {}

    def put_event_stream(self, ApplicationId, WriteEventStream):
        # A project has one event stream: PutEventStream creates it or replaces its settings (API reference).
        self.event_streams[ApplicationId] = {
            "ApplicationId": ApplicationId, **WriteEventStream, "LastModifiedDate": _now().isoformat()}
        return {"EventStream": dict(self.event_streams[ApplicationId])}

    def get_event_stream(self, ApplicationId):
        return {"EventStream": dict(self._event_stream(ApplicationId))}

    def delete_event_stream(self, ApplicationId):
        stream = self._event_stream(ApplicationId)
        del self.event_streams[ApplicationId]
        return {"EventStream": stream}

    def _event_stream(self, application_id):
        if application_id not in self.event_streams:
            raise FakeError("NotFoundException", "Resource not found", 404)
        return self.event_streams[application_id]

    def update_endpoint(self, ApplicationId, EndpointId, EndpointRequest):
        self._merge_endpoint(ApplicationId, EndpointId, EndpointRequest)
        return {"__status": 202, "MessageBody": {"Message": "Accepted", "RequestID": str(uuid.uuid4())}}

    def update_endpoints_batch(self, ApplicationId, EndpointBatchRequest):
        for item in EndpointBatchRequest["Item"]:
            item = dict(item)
            self._merge_endpoint(ApplicationId, item.pop("Id"), item)
        return {"__status": 202, "MessageBody": {"Message": "Accepted", "RequestID": str(uuid.uuid4())}}

    def get_endpoint(self, ApplicationId, EndpointId):
        endpoint = self.endpoints.get((ApplicationId, EndpointId))
        if endpoint is None:
            raise FakeError("NotFoundException", "Resource not found", 404)
        return {"EndpointResponse": endpoint}

    def create_email_template(self, TemplateName, EmailTemplateRequest):
        self.email_templates[TemplateName] = dict(EmailTemplateRequest, TemplateName=TemplateName,
                                                  TemplateType="EMAIL")
        self._create_template("EMAIL", TemplateName, EmailTemplateRequest)
        return {"__status": 201, "CreateTemplateMessageBody": {"Message": "Created"}}

    def get_email_template(self, TemplateName, Version=None):
        return {"EmailTemplateResponse": self._template("EMAIL", TemplateName, Version)}

    # --- message templates and their versions (Pinpoint API reference, "Message templates": Create* makes
    # version 1, the active one; Update* with CreateNewVersion=true adds a version, otherwise overwrites the one
    # named by Version or else the latest; Get* without Version answers the active version, with Version that
    # version; UpdateTemplateActiveVersion names the active one) -------------------------------------------------
    def create_sms_template(self, TemplateName, SMSTemplateRequest):
        self._create_template("SMS", TemplateName, SMSTemplateRequest)
        return {"__status": 201, "CreateTemplateMessageBody": {"Message": "Created"}}

    def create_push_template(self, TemplateName, PushNotificationTemplateRequest):
        self._create_template("PUSH", TemplateName, PushNotificationTemplateRequest)
        return {"__status": 201, "CreateTemplateMessageBody": {"Message": "Created"}}

    def create_voice_template(self, TemplateName, VoiceTemplateRequest):
        self._create_template("VOICE", TemplateName, VoiceTemplateRequest)
        return {"__status": 201, "CreateTemplateMessageBody": {"Message": "Created"}}

    def update_email_template(self, TemplateName, EmailTemplateRequest, CreateNewVersion=False, Version=None):
        self._update_template("EMAIL", TemplateName, EmailTemplateRequest, CreateNewVersion, Version)
        return {"__status": 202, "MessageBody": {"Message": "Accepted"}}

    def update_sms_template(self, TemplateName, SMSTemplateRequest, CreateNewVersion=False, Version=None):
        self._update_template("SMS", TemplateName, SMSTemplateRequest, CreateNewVersion, Version)
        return {"__status": 202, "MessageBody": {"Message": "Accepted"}}

    def update_push_template(self, TemplateName, PushNotificationTemplateRequest, CreateNewVersion=False,
                             Version=None):
        self._update_template("PUSH", TemplateName, PushNotificationTemplateRequest, CreateNewVersion, Version)
        return {"__status": 202, "MessageBody": {"Message": "Accepted"}}

    def update_voice_template(self, TemplateName, VoiceTemplateRequest, CreateNewVersion=False, Version=None):
        self._update_template("VOICE", TemplateName, VoiceTemplateRequest, CreateNewVersion, Version)
        return {"__status": 202, "MessageBody": {"Message": "Accepted"}}

    def update_template_active_version(self, TemplateName, TemplateType, TemplateActiveVersionRequest):
        template = self._template_versions(TemplateType.upper(), TemplateName)
        version = TemplateActiveVersionRequest["Version"]
        if version not in template["versions"]:
            raise FakeError("NotFoundException", "Template version not found", 404)
        template["active"] = version
        return {"MessageBody": {"Message": "Accepted"}}

    def get_sms_template(self, TemplateName, Version=None):
        return {"SMSTemplateResponse": self._template("SMS", TemplateName, Version)}

    def get_push_template(self, TemplateName, Version=None):
        return {"PushNotificationTemplateResponse": self._template("PUSH", TemplateName, Version)}

    def get_voice_template(self, TemplateName, Version=None):
        return {"VoiceTemplateResponse": self._template("VOICE", TemplateName, Version)}

    def _create_template(self, kind, name, request):
        if (kind, name) in self.templates:
            raise FakeError("BadRequestException", "Template already exists", 400)
        self.templates[(kind, name)] = {"versions": {}, "active": "1"}
        self._store_version(kind, name, "1", request)

    def _update_template(self, kind, name, request, create_new_version, version):
        template = self._template_versions(kind, name)
        if create_new_version:
            version = str(max(int(v) for v in template["versions"]) + 1)
        elif version is None:
            version = max(template["versions"], key=int)
        elif version not in template["versions"]:
            raise FakeError("NotFoundException", "Template version not found", 404)
        self._store_version(kind, name, version, request)

    def _store_version(self, kind, name, version, request):
        now = _now().isoformat()
        self.templates[(kind, name)]["versions"][version] = dict(
            request, TemplateName=name, TemplateType=kind, Version=version, CreationDate=now, LastModifiedDate=now,
            Arn=f"arn:aws:mobiletargeting:us-east-1:123456789012:templates/{name}/{kind}")

    def _template_versions(self, kind, name):
        template = self.templates.get((kind, name))
        if template is None:
            raise FakeError("NotFoundException", "Template not found", 404)
        return template

    def _template(self, kind, name, version):
        template = self._template_versions(kind, name)
        content = template["versions"].get(version or template["active"])
        if content is None:
            raise FakeError("NotFoundException", "Template version not found", 404)
        return dict(content)

    def send_messages(self, ApplicationId, MessageRequest):
        self.sent.append({"ApplicationId": ApplicationId, **MessageRequest})
        results = {
            address: {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200, "MessageId": str(uuid.uuid4())}
            for address in MessageRequest.get("Addresses", {})
        }
        return {"MessageResponse": {"ApplicationId": ApplicationId, "Result": results}}

    # PhoneTypeCode "0 (mobile), 1 (landline), 2 (VoIP), 3 (invalid), 4 (other), and 5 (prepaid)" (Pinpoint API
    # reference, NumberValidateResponse).
    _PHONE_TYPE_CODES = {"MOBILE": 0, "LANDLINE": 1, "VOIP": 2, "INVALID": 3, "OTHER": 4, "PREPAID": 5}

    def phone_number_validate(self, NumberValidateRequest):
        # The number "should include a valid numeric country code. Otherwise, the operation might result in
        # an error"; IsoCountryCode is the country to read it in (API reference, NumberValidateRequest).
        original = NumberValidateRequest.get("PhoneNumber", "")
        region = NumberValidateRequest.get("IsoCountryCode")
        facts = _line_facts(original, region)
        if facts is None:
            raise FakeError("BadRequestException", "phone number is not valid", 400)
        response = {"OriginalPhoneNumber": original, "CleansedPhoneNumberE164": facts["e164"],
                    "CountryCodeIso2": facts["iso"], "CountryCodeNumeric": facts["dialing_code"],
                    "PhoneType": facts["type"], **self.lookup_answers.get(facts["e164"], {})}
        if region:
            response["OriginalCountryCodeIso2"] = region
        response["PhoneTypeCode"] = self._PHONE_TYPE_CODES.get(response["PhoneType"], 4)
        return {"NumberValidateResponse": {k: v for k, v in response.items() if v is not None}}

    # --- import jobs, imported segments and campaigns (Pinpoint API reference: CreateImportJob, GetImportJob,
    # CreateCampaign; User Guide, "Importing segments") ------------------------------------------------------
    def create_import_job(self, ApplicationId, ImportJobRequest):
        job_id = uuid.uuid4().hex
        job = {"Id": job_id, "ApplicationId": ApplicationId, "Type": "IMPORT", "JobStatus": "CREATED",
               "CreationDate": _now().isoformat(), "Definition": dict(ImportJobRequest)}
        self.import_jobs[(ApplicationId, job_id)] = job
        return {"__status": 201, "ImportJobResponse": dict(job)}

    def get_import_job(self, ApplicationId, JobId):
        """Each read moves the job on, CREATED -> PROCESSING -> its end, so a poller sees it running first."""
        job = self.import_jobs.get((ApplicationId, JobId))
        if job is None:
            raise FakeError("NotFoundException", "Resource not found", 404)
        if job["JobStatus"] == "CREATED":
            job["JobStatus"] = "PROCESSING"
        elif job["JobStatus"] == "PROCESSING":
            self._end_import(job)
        return {"ImportJobResponse": dict(job)}

    def _end_import(self, job):
        job["CompletionDate"] = _now().isoformat()
        if self.import_job_endings:
            job["JobStatus"], job["Failures"] = self.import_job_endings.pop(0)
            job["TotalFailures"] = len(job["Failures"])
            return
        definition, application_id = job["Definition"], job["ApplicationId"]
        imported, failures = [], []
        for data in _s3_objects(definition["S3Url"], whole_prefix=True):
            for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                endpoint = json.loads(line)
                if not endpoint.get("ChannelType") or not endpoint.get("Address"):  # required for a new endpoint
                    failures.append(f"line {number}: ChannelType and Address are required")
                    continue
                endpoint_id = endpoint.pop("Id", None) or uuid.uuid4().hex
                self._merge_endpoint(application_id, endpoint_id, endpoint)
                imported.append(endpoint_id)
        job.update(JobStatus="COMPLETED", TotalProcessed=len(imported) + len(failures),
                   TotalFailures=len(failures), Failures=failures[:100], TotalPieces=1, CompletedPieces=1)
        if definition.get("DefineSegment"):
            segment_id = uuid.uuid4().hex
            self.segments[(application_id, segment_id)] = {
                "Id": segment_id, "ApplicationId": application_id, "Name": definition.get("SegmentName"),
                "SegmentType": "IMPORT", "Version": 1, "CreationDate": _now().isoformat(),
                "Arn": f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{application_id}/segments/{segment_id}",
                "EndpointIds": imported}
            definition["SegmentId"] = segment_id

    def create_campaign(self, ApplicationId, WriteCampaignRequest):
        segment_id = WriteCampaignRequest.get("SegmentId")
        if (ApplicationId, segment_id) not in self.segments:
            raise FakeError("NotFoundException", f"segment {segment_id} not found", 404)
        campaign_id = uuid.uuid4().hex
        now = _now().isoformat()
        campaign = {"Id": campaign_id, "ApplicationId": ApplicationId, "CreationDate": now, "LastModifiedDate": now,
                    "Arn": f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{ApplicationId}/campaigns/"
                           f"{campaign_id}",
                    "SegmentVersion": WriteCampaignRequest.get("SegmentVersion", 1), "Version": 1,
                    "State": {"CampaignStatus": "SCHEDULED"}, **WriteCampaignRequest}
        _number_treatments(campaign)
        self.campaigns[(ApplicationId, campaign_id)] = campaign
        self.campaign_versions[(ApplicationId, campaign_id, 1)] = dict(campaign)
        return {"__status": 201, "CampaignResponse": dict(campaign)}

    # --- reading campaigns and journeys (Pinpoint API reference: GetCampaign answers the current version,
    # GetCampaignVersion any version by number; UpdateCampaign makes a new version; GetJourney) -----------------
    def get_campaign(self, ApplicationId, CampaignId):
        return {"CampaignResponse": dict(self._campaign(ApplicationId, CampaignId))}

    def get_campaign_version(self, ApplicationId, CampaignId, Version):
        self._campaign(ApplicationId, CampaignId)
        version = self.campaign_versions.get((ApplicationId, CampaignId, int(Version)))
        if version is None:
            raise FakeError("NotFoundException", "Campaign version not found", 404)
        return {"CampaignResponse": dict(version)}

    def update_campaign(self, ApplicationId, CampaignId, WriteCampaignRequest):
        campaign = dict(self._campaign(ApplicationId, CampaignId), **WriteCampaignRequest)
        campaign.update(Version=campaign["Version"] + 1, LastModifiedDate=_now().isoformat())
        _number_treatments(campaign)
        self.campaigns[(ApplicationId, CampaignId)] = campaign
        self.campaign_versions[(ApplicationId, CampaignId, campaign["Version"])] = dict(campaign)
        return {"CampaignResponse": dict(campaign)}

    def _campaign(self, application_id, campaign_id):
        campaign = self.campaigns.get((application_id, campaign_id))
        if campaign is None:
            raise FakeError("NotFoundException", "Campaign not found", 404)
        return campaign

    def create_journey(self, ApplicationId, WriteJourneyRequest):
        journey_id = uuid.uuid4().hex
        now = _now().isoformat()
        journey = {"Id": journey_id, "ApplicationId": ApplicationId, "CreationDate": now, "LastModifiedDate": now,
                   "Arn": f"arn:aws:mobiletargeting:us-east-1:123456789012:apps/{ApplicationId}/journeys/"
                          f"{journey_id}", "State": "DRAFT", **WriteJourneyRequest}
        self.journeys[(ApplicationId, journey_id)] = journey
        return {"__status": 201, "JourneyResponse": dict(journey)}

    def get_journey(self, ApplicationId, JourneyId):
        journey = self.journeys.get((ApplicationId, JourneyId))
        if journey is None:
            raise FakeError("NotFoundException", "Journey not found", 404)
        return {"JourneyResponse": dict(journey)}

    def _merge_endpoint(self, application_id, endpoint_id, request):
        endpoint = self.endpoints.setdefault(
            (application_id, endpoint_id), {"ApplicationId": application_id, "Id": endpoint_id}
        )
        for key, value in request.items():
            if key in ("Attributes", "UserAttributes", "Metrics") and isinstance(value, dict):
                endpoint.setdefault(key, {}).update(value)
            else:
                endpoint[key] = value


class SmsVoiceV2Fake(FakeService):
    """AWS End User Messaging SMS (pinpoint-sms-voice-v2): sending, opt-out lists, phone numbers and pools."""

    service_id = "pinpoint-sms-voice-v2"

    def __init__(self):
        super().__init__()
        self.sent: list[dict[str, Any]] = []
        self.voice_messages: list[dict[str, Any]] = []
        self.opt_out_lists: dict[str, dict[str, datetime.datetime]] = {"Default": {}}
        self.opted_back_in: dict[tuple[str, str], datetime.datetime] = {}  # (list, number) -> last deletion
        self.phone_numbers: dict[str, dict[str, Any]] = {}
        self.pools: dict[str, dict[str, Any]] = {}
        # E.164 -> CarrierLookup response members that replace the default answer (_line_facts), e.g.
        # {"PhoneNumberType": "LANDLINE", "Carrier": "Example"}.
        self.lookup_answers: dict[str, dict[str, Any]] = {}

    def send_text_message(self, DestinationPhoneNumber, **kwargs):
        message_id = str(uuid.uuid4())
        self.sent.append({"DestinationPhoneNumber": DestinationPhoneNumber, "MessageId": message_id, **kwargs})
        return {"MessageId": message_id}

    def create_opt_out_list(self, OptOutListName, **_kwargs):
        self.opt_out_lists.setdefault(OptOutListName, {})
        return {"OptOutListName": OptOutListName, "OptOutListArn": f"arn:aws:sms-voice:::opt-out-list/{OptOutListName}"}

    def put_opted_out_number(self, OptOutListName, OptedOutNumber):
        numbers = self._list(OptOutListName)
        numbers[OptedOutNumber] = _now()
        return {"OptOutListName": OptOutListName, "OptedOutNumber": OptedOutNumber,
                "OptedOutTimestamp": numbers[OptedOutNumber], "EndUserOptedOut": False}

    def delete_opted_out_number(self, OptOutListName, OptedOutNumber):
        numbers = self._list(OptOutListName)
        if OptedOutNumber not in numbers:
            raise FakeError("ResourceNotFoundException", "number is not opted out", 404)
        # "Each destination phone number can only be deleted once every 30 days" (DeleteOptedOutNumber, API
        # reference). The error AWS then returns is not documented; this one is a plausible guess.
        last = self.opted_back_in.get((OptOutListName, OptedOutNumber))
        if last and _now() - last < datetime.timedelta(days=30):
            raise FakeError("ValidationException", "a number can be deleted from an opt-out list once every 30 days",
                            extra={"Reason": "PHONE_NUMBER_CANNOT_BE_OPTED_IN"})
        del numbers[OptedOutNumber]
        self.opted_back_in[(OptOutListName, OptedOutNumber)] = _now()
        return {"OptOutListName": OptOutListName, "OptedOutNumber": OptedOutNumber,
                "OptedOutTimestamp": _now(), "EndUserOptedOut": False}

    def describe_opted_out_numbers(self, OptOutListName, OptedOutNumbers=None, **_kwargs):
        # "If you specify opted out numbers, the output includes information for only the specified opted out
        # numbers" (DescribeOptedOutNumbers, API reference); a number not on the list is simply not listed.
        wanted = set(OptedOutNumbers or [])
        return {"OptOutListName": OptOutListName, "OptedOutNumbers": [
            {"OptedOutNumber": n, "OptedOutTimestamp": t, "EndUserOptedOut": False}
            for n, t in self._list(OptOutListName).items() if not wanted or n in wanted
        ]}

    def send_voice_message(self, DestinationPhoneNumber, OriginationIdentity, **kwargs):
        """SendVoiceMessage: a number on the origination's opt-out list (Default here) is refused, as for text."""
        if DestinationPhoneNumber in self.opt_out_lists["Default"]:
            raise FakeError("ConflictException", "the destination phone number is opted out",
                            extra={"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT"})
        message_id = str(uuid.uuid4())
        self.voice_messages.append({"DestinationPhoneNumber": DestinationPhoneNumber,
                                    "OriginationIdentity": OriginationIdentity, "MessageId": message_id, **kwargs})
        return {"MessageId": message_id}

    def carrier_lookup(self, PhoneNumber):
        # The model's pattern (checked before this runs) requires a leading "+"; "The service automatically
        # converts the input to E164 format", removing formatting characters (API reference, CarrierLookup).
        sanitized = "+" + re.sub(r"\D", "", PhoneNumber)
        facts = _line_facts(sanitized) or {"e164": sanitized, "iso": None, "dialing_code": None, "type": "INVALID"}
        answer = {"E164PhoneNumber": facts["e164"], "IsoCountryCode": facts["iso"],
                  "DialingCountryCode": facts["dialing_code"], "PhoneNumberType": facts["type"],
                  **self.lookup_answers.get(facts["e164"], {})}
        return {k: v for k, v in answer.items() if v is not None}

    def add_phone_number(self, phone_number: str, **settings) -> str:
        """A number the account already owns (numbers are bought in the console); returns its id."""
        phone_number_id = f"phone-{uuid.uuid4().hex}"
        self.phone_numbers[phone_number_id] = {
            "PhoneNumberId": phone_number_id, "PhoneNumber": phone_number, "Status": "ACTIVE",
            "PhoneNumberArn": f"arn:aws:sms-voice:us-east-1:123456789012:phone-number/{phone_number_id}",
            "IsoCountryCode": "US", "MessageType": "TRANSACTIONAL", "NumberCapabilities": ["SMS"],
            "NumberType": "TOLL_FREE", "MonthlyLeasingPrice": "2.00", "TwoWayEnabled": False,
            "SelfManagedOptOutsEnabled": False, "OptOutListName": "Default", "DeletionProtectionEnabled": False,
            "CreatedTimestamp": _now(), **settings}
        return phone_number_id

    def describe_phone_numbers(self, PhoneNumberIds=None, **_kwargs):
        ids = PhoneNumberIds or list(self.phone_numbers)
        missing = [i for i in ids if i not in self.phone_numbers]
        if missing:
            raise FakeError("ResourceNotFoundException", f"phone number {missing[0]} not found", 404)
        return {"PhoneNumbers": [self.phone_numbers[i] for i in ids]}

    def update_phone_number(self, PhoneNumberId, **settings):
        if PhoneNumberId not in self.phone_numbers:
            raise FakeError("ResourceNotFoundException", f"phone number {PhoneNumberId} not found", 404)
        number = self.phone_numbers[PhoneNumberId]
        # "If the origination phone number is associated with a pool, an error is returned" (UpdatePhoneNumber,
        # API reference); the code is not documented, this reason is the model's nearest.
        if number.get("PoolId"):
            raise FakeError("ConflictException", f"phone number {PhoneNumberId} is associated with a pool",
                            extra={"Reason": "PHONE_NUMBER_ASSOCIATED_TO_POOL", "ResourceType": "phone-number",
                                   "ResourceId": PhoneNumberId})
        return self._update_two_way(number, settings)

    def add_pool(self, phone_number_ids: list[str], **settings) -> str:
        """A pool the account already has, holding these numbers; returns its id."""
        pool_id = f"pool-{uuid.uuid4().hex}"
        self.pools[pool_id] = {
            "PoolId": pool_id, "PoolArn": f"arn:aws:sms-voice:us-east-1:123456789012:pool/{pool_id}",
            "Status": "ACTIVE", "MessageType": "TRANSACTIONAL", "TwoWayEnabled": False,
            "SelfManagedOptOutsEnabled": False, "OptOutListName": "Default", "SharedRoutesEnabled": False,
            "DeletionProtectionEnabled": False, "CreatedTimestamp": _now(), **settings}
        for phone_number_id in phone_number_ids:
            self.phone_numbers[phone_number_id]["PoolId"] = pool_id
        return pool_id

    def describe_pools(self, PoolIds=None, **_kwargs):
        ids = PoolIds or list(self.pools)
        missing = [i for i in ids if i not in self.pools]
        if missing:
            raise FakeError("ResourceNotFoundException", f"pool {missing[0]} not found", 404)
        return {"Pools": [self.pools[i] for i in ids]}

    def update_pool(self, PoolId, **settings):
        if PoolId not in self.pools:
            raise FakeError("ResourceNotFoundException", f"pool {PoolId} not found", 404)
        return self._update_two_way(self.pools[PoolId], settings)

    @staticmethod
    def _update_two_way(origination, settings):
        origination.update(settings)
        if not origination.get("TwoWayEnabled"):
            origination.pop("TwoWayChannelArn", None)
        return dict(origination)

    def _list(self, name):
        if name not in self.opt_out_lists:
            raise FakeError("ResourceNotFoundException", f"opt-out list {name} not found", 404)
        return self.opt_out_lists[name]


class ConnectFake(FakeService):
    """Amazon Connect: outbound voice contacts, their end, and the contact events EventBridge would carry.

    What it holds to (Amazon Connect API reference, StartOutboundVoiceContact): a queue or a source phone number
    ("If you do not specify a queue, you must specify a source phone number"); attribute keys of letters,
    digits, dash and underscore, "up to 32,768 UTF-8 bytes across all key-value pairs per contact"; the client
    token "is valid for 7 days after creation. If a contact is already started, the contact ID is returned.
    If the contact is disconnected, a new contact is started." A call over the instance's concurrent-call
    limit (``concurrent_limit``, 10 by default: Amazon Connect service quotas) is no API error: the customer
    hears a fast busy tone, recorded here in ``fast_busy``. ``disconnect(contact_id)`` ends a call and returns
    the DISCONNECTED contact event (Amazon Connect Administrator Guide, "Amazon Connect contact events")."""

    service_id = "connect"
    MAX_ATTRIBUTE_BYTES = 32_768
    _ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self):
        super().__init__()
        self.contacts: list[dict[str, Any]] = []
        self.active: dict[str, dict[str, Any]] = {}  # contact id -> contact, until disconnected
        self.fast_busy: list[dict[str, Any]] = []
        self.concurrent_limit = 10

    def start_outbound_voice_contact(self, DestinationPhoneNumber, ContactFlowId, InstanceId, **kwargs):
        if not kwargs.get("QueueId") and not kwargs.get("SourcePhoneNumber"):
            raise FakeError("InvalidRequestException", "a queue or a source phone number is required")
        attributes = kwargs.get("Attributes") or {}
        if any(not self._ATTRIBUTE_KEY.fullmatch(key) for key in attributes):
            raise FakeError("InvalidParameterException", "attribute keys take letters, digits, - and _ only")
        if sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items()) > self.MAX_ATTRIBUTE_BYTES:
            raise FakeError("InvalidParameterException", "attributes pass 32,768 bytes")
        token = kwargs.get("ClientToken")
        for contact in self.active.values():
            if token and contact.get("ClientToken") == token:  # the same call while it is up
                return {"ContactId": contact["ContactId"]}
        contact_id = str(uuid.uuid4())
        contact = {"ContactId": contact_id, "DestinationPhoneNumber": DestinationPhoneNumber,
                   "ContactFlowId": ContactFlowId, "InstanceId": InstanceId, **kwargs}
        self.contacts.append(contact)
        if sum(1 for c in self.active.values() if c["InstanceId"] == InstanceId) >= self.concurrent_limit:
            self.fast_busy.append(contact)
        else:
            self.active[contact_id] = contact
        return {"ContactId": contact_id}

    def _contact(self, instance_id: str, contact_id: str) -> dict[str, Any]:
        contact = next((c for c in self.contacts if c["ContactId"] == contact_id and c["InstanceId"] == instance_id),
                       None)
        if contact is None:
            raise FakeError("ResourceNotFoundException", f"contact {contact_id} not found", 404)
        return contact

    def delete_contact_data(self, InstanceId, ContactId, ContactFields):
        """Redacts a terminated contact's PII (DeleteContactData, Connect API reference): CUSTOMER_ENDPOINT is
        the customer's number. A contact still up is refused with ContactNotTerminatedException. ContactFields'
        enum (CUSTOMER_ENDPOINT, ADDITIONAL_EMAIL_RECIPIENTS, EMAIL_SUBJECT) is checked with every modelled enum
        before the call gets here."""
        contact = self._contact(InstanceId, ContactId)
        if ContactId in self.active:
            raise FakeError("ContactNotTerminatedException", "the contact is not terminated", 409)
        if "CUSTOMER_ENDPOINT" in ContactFields:
            contact["DestinationPhoneNumber"] = ""
        return {}

    def get_contact_attributes(self, InstanceId, InitialContactId):
        """The contact's user-defined attributes (GetContactAttributes): what StartOutboundVoiceContact set."""
        return {"Attributes": dict(self._contact(InstanceId, InitialContactId).get("Attributes") or {})}

    def update_contact_attributes(self, InitialContactId, InstanceId, Attributes):
        """Creates or updates user-defined attributes "for both ongoing and completed contacts"
        (UpdateContactAttributes, Connect API reference): keys as StartOutboundVoiceContact takes them, values of 0
        to 32,767 characters, 32,768 bytes across the contact's attributes."""
        contact = self._contact(InstanceId, InitialContactId)
        if any(not self._ATTRIBUTE_KEY.fullmatch(key) for key in Attributes):
            raise FakeError("InvalidParameterException", "attribute keys take letters, digits, - and _ only")
        merged = {**(contact.get("Attributes") or {}), **Attributes}
        if sum(len(k.encode()) + len(v.encode()) for k, v in merged.items()) > self.MAX_ATTRIBUTE_BYTES:
            raise FakeError("InvalidParameterException", "attributes pass 32,768 bytes")
        contact["Attributes"] = merged
        return {}

    def disconnect(self, contact_id: str, region: str = "us-east-1", account: str = "123456789012") -> dict:
        """Ends an active call; returns its contact event as EventBridge delivers it."""
        contact = self.active.pop(contact_id)
        instance_arn = f"arn:aws:connect:{region}:{account}:instance/{contact['InstanceId']}"
        return {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Amazon Connect Contact Event",
            "source": "aws.connect", "account": account, "time": _now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region, "resources": [f"{instance_arn}/contact/{contact_id}", instance_arn],
            "detail": {"eventType": "DISCONNECTED", "contactId": contact_id, "initialContactId": contact_id,
                       "channel": "VOICE", "instanceArn": instance_arn, "initiationMethod": "API",
                       "disconnectTimestamp": _now().strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        }


class AthenaFake(FakeService):
    """Athena that runs each statement on DuckDB (``LocalAthena``): bad SQL fails as a query would."""

    service_id = "athena"

    def __init__(self):
        super().__init__()
        self._local = None
        self.executions: dict[str, dict[str, Any]] = {}
        self._by_token: dict[str, str] = {}
        self.query_endings: list[tuple[str, str]] = []  # (state, reason) the next queries end with instead

    @property
    def local(self):
        """The DuckDB engine, made on first use: most tests that hold the fakes never call Athena."""
        if self._local is None:
            from due_local.athena_local import LocalAthena

            self._local = LocalAthena()
        return self._local

    def start_query_execution(self, QueryString, WorkGroup="primary", QueryExecutionContext=None,
                              ClientRequestToken=None, ResultConfiguration=None, **_kwargs):
        # "ClientRequestToken ... makes the request idempotent": a repeated token starts no second query
        # (StartQueryExecution, Athena API reference).
        if ClientRequestToken and ClientRequestToken in self._by_token:
            return {"QueryExecutionId": self._by_token[ClientRequestToken]}
        execution_id = str(uuid.uuid4())
        status: dict[str, Any] = {"State": "SUCCEEDED"}
        location = (ResultConfiguration or {}).get("OutputLocation")
        try:
            result = self.local.connection.execute(self._duckdb(QueryString))
            if location and result.description:
                location = self._write_result(location, execution_id, result)
        except Exception as exc:  # any DuckDB or transpilation error is a failed query, as in Athena
            status = {"State": "FAILED", "StateChangeReason": f"{type(exc).__name__}: {exc}"}
        if self.query_endings:  # a test's chosen end: FAILED or CANCELLED, with Athena's reason
            state, reason = self.query_endings.pop(0)
            status = {"State": state, "StateChangeReason": reason}
        self.executions[execution_id] = {
            "QueryExecutionId": execution_id, "Query": QueryString, "WorkGroup": WorkGroup,
            "QueryExecutionContext": QueryExecutionContext or {}, "Status": status,
            **({"ResultConfiguration": {"OutputLocation": location}} if location else {}),
            "Statistics": {"DataScannedInBytes": 0},
        }
        if ClientRequestToken:
            self._by_token[ClientRequestToken] = execution_id
        return {"QueryExecutionId": execution_id}

    @staticmethod
    def _duckdb(athena_sql: str) -> str:
        from due_local.athena_local import to_duckdb

        return to_duckdb(athena_sql)

    @staticmethod
    def _write_result(location: str, execution_id: str, result) -> str:
        """A query's rows as Athena writes them: a query run through the API writes straight to its result
        location as ``<QueryExecutionId>.csv`` (Athena User Guide, "Find query output files in Amazon S3"): a
        header, then the rows; values in double quotes and NULL as an empty field, as Athena's files show them
        (readers here parse CSV, so neither is relied on)."""
        import csv
        import io

        import boto3

        buffer = io.StringIO()
        out = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        out.writerow([d[0] for d in result.description])
        while batch := result.fetchmany(10_000):
            out.writerows(["" if value is None else value for value in row] for row in batch)
        url = f"{location.rstrip('/')}/{execution_id}.csv"
        bucket, _, key = url.removeprefix("s3://").partition("/")
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=buffer.getvalue().encode("utf-8"))
        return url

    def get_query_execution(self, QueryExecutionId):
        if QueryExecutionId not in self.executions:
            raise FakeError("InvalidRequestException", "QueryExecution not found")
        return {"QueryExecution": self.executions[QueryExecutionId]}


_PROFILE_SHAPE = None


def _profile_shape():
    """The model's Profile structure: which ``_profile.X`` targets exist."""
    global _PROFILE_SHAPE
    if _PROFILE_SHAPE is None:
        import botocore.session

        _PROFILE_SHAPE = botocore.session.get_session().get_service_model("customer-profiles").shape_for("Profile")
    return _PROFILE_SHAPE


class CustomerProfilesFake(FakeService):
    """Amazon Connect Customer Profiles: domains, object types, object ingestion, search and profile updates.

    Ingestion follows the Administrator Guide ("How object type mapping works", "Standard identifiers"): field
    values are read from the object, keys computed from them, the profile found by the PROFILE keys (a key value
    matching several profiles is ambiguous and skipped), then by PROFILE+SECONDARY keys, else created when the
    object type allows it. Targets update the profile field by field, except fields UpdateProfile set; the object
    with the same UNIQUE value is replaced; every key is stored for search but LOOKUP_ONLY ones, and NEW_ONLY
    ones on a profile that already existed. A key with no identifier is only indexed.
    Not modelled: Handlebars sources (refused here, AWS takes them), targets other than ``_profile``, templates,
    SourcePriority, matching and merging jobs; phone numbers are compared by their digits only."""

    service_id = "customer-profiles"
    PREDEFINED_KEYS = {  # AddProfileKey / SearchProfiles: the predefined key names
        "_account", "_profileId", "_assetId", "_caseId", "_orderId", "_fullName", "_phone", "_email",
        "_ctrContactId", "_marketoLeadId", "_salesforceAccountId", "_salesforceContactId", "_salesforceAssetId",
        "_zendeskUserId", "_zendeskExternalId", "_zendeskTicketId", "_serviceNowSystemId", "_serviceNowIncidentId",
        "_segmentUserId", "_shopifyCustomerId", "_shopifyOrderId"}

    def __init__(self):
        super().__init__()
        self.domains: dict[str, dict[str, Any]] = {}
        self.object_types: dict[tuple[str, str], dict[str, Any]] = {}  # (domain, name) -> definition
        self.profiles: dict[str, dict[str, Any]] = {}  # profile id -> the profile, as SearchProfiles returns it
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (domain, type, UNIQUE value) -> object
        self._domain_of: dict[str, str] = {}  # profile id -> its domain
        self._index: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (domain, key, value) -> profile ids
        self._set_by_update: dict[str, set[str]] = defaultdict(set)  # profile id -> targets UpdateProfile wrote
        self._item_faults: list[int] = []
        self.segment_definitions: dict[tuple[str, str], dict[str, Any]] = {}  # (domain, name) -> definition

    def fail_next_items(self, status: int, times: int = 1) -> None:
        """The next ``times`` items of BatchPutProfileObject calls fail with this HTTP status (per-item failure)."""
        self._item_faults.extend([status] * times)

    # --- domains and object types -----------------------------------------
    def create_domain(self, DomainName, DefaultExpirationDays, **settings):
        if DomainName in self.domains:  # the code AWS answers is not documented; this is the model's nearest
            raise FakeError("BadRequestException", f"domain {DomainName} already exists")
        self.domains[DomainName] = {"DomainName": DomainName, "DefaultExpirationDays": DefaultExpirationDays,
                                    **settings, "CreatedAt": _now(), "LastUpdatedAt": _now()}
        return dict(self.domains[DomainName])

    def get_domain(self, DomainName):
        domain = dict(self._domain(DomainName))
        domain["Stats"] = {"ProfileCount": sum(d == DomainName for d in self._domain_of.values()),
                           "ObjectCount": sum(key[0] == DomainName for key in self.objects)}
        return domain

    def put_profile_object_type(self, DomainName, ObjectTypeName, Description, **settings):
        domain = self._domain(DomainName)
        fields, keys = settings.get("Fields") or {}, settings.get("Keys") or {}
        self._refuse_bad_mapping(fields, keys, settings)
        previous = self.object_types.get((DomainName, ObjectTypeName), {})
        self.object_types[(DomainName, ObjectTypeName)] = {
            "ObjectTypeName": ObjectTypeName, "Description": Description, "AllowProfileCreation": False,
            "ExpirationDays": domain["DefaultExpirationDays"], **settings, "Fields": fields, "Keys": keys,
            "CreatedAt": previous.get("CreatedAt", _now()), "LastUpdatedAt": _now()}
        return dict(self.object_types[(DomainName, ObjectTypeName)])

    def get_profile_object_type(self, DomainName, ObjectTypeName):
        return dict(self._object_type(DomainName, ObjectTypeName))

    def _refuse_bad_mapping(self, fields, keys, settings):
        """The mapping rules of the Administrator Guide's "Before you submit" list, as BadRequestException."""
        def bad(reason):
            return FakeError("BadRequestException", reason)

        if settings.get("TemplateId"):
            raise bad("this fake does not model object type templates")
        profile = _profile_shape()
        for name, field in fields.items():
            if not name[0].isalpha() or name.lower() == "tags":
                raise bad(f"field name {name} must start with a letter and may not be Tags")
            source, target = field.get("Source", ""), field.get("Target")
            if not source.startswith("_source.") or "{{" in source:
                raise bad(f"field {name}: this fake reads JSON accessors (_source.x) only")
            if target is None:
                continue
            path = target.split(".")
            member = profile.members.get(path[1]) if len(path) > 1 and path[0] == "_profile" else None
            if path[:2] == ["_profile", "Attributes"] and len(path) > 2:
                continue
            if member is None or path[1] in ("ProfileId", "FoundByItems") or (
                    member.type_name == "structure" and (len(path) != 3 or path[2] not in member.members)) or (
                    member.type_name != "structure" and len(path) != 2):
                raise bad(f"field {name}: {target} is not a field of the standard profile this fake models")
        identifiers = [set(d.get("StandardIdentifiers") or []) for defs in keys.values() for d in defs]
        for name, definitions in keys.items():
            if not (name[0].isalpha() or name in self.PREDEFINED_KEYS) or name.lower() == "tags":
                raise bad(f"key name {name} must start with a letter, or be a predefined key")
            for definition in definitions:
                if not definition.get("FieldNames") or set(definition["FieldNames"]) - set(fields):
                    raise bad(f"key {name} must name fields defined in this object type")
        if sum("UNIQUE" in ids for ids in identifiers) != 1:
            raise bad("an object type needs exactly one key with a UNIQUE identifier")
        if not any("PROFILE" in ids for ids in identifiers):
            raise bad("an object type needs at least one key with a PROFILE identifier")
        if any("UNIQUE" in ids and ids & {"LOOKUP_ONLY", "NEW_ONLY"} for ids in identifiers):
            raise bad("UNIQUE cannot be combined with LOOKUP_ONLY or NEW_ONLY")
        if any("SECONDARY" in ids and "PROFILE" not in ids for ids in identifiers):
            raise bad("SECONDARY is used together with PROFILE")

    # --- ingestion ----------------------------------------------------------
    def put_profile_object(self, ObjectTypeName, Object, DomainName):
        return {"ProfileObjectUniqueKey": self._ingest(DomainName, ObjectTypeName, Object)}

    def batch_put_profile_object(self, DomainName, ObjectTypeName, Items):
        self._object_type(DomainName, ObjectTypeName)
        successful, failed = [], []
        for item in Items:
            try:
                if self._item_faults:
                    status = self._item_faults.pop(0)
                    raise FakeError("ThrottlingException" if status == 429 else "InternalServerException",
                                    "injected", status)
                successful.append({"Id": item["Id"],
                                   "ProfileObjectUniqueKey": self._ingest(DomainName, ObjectTypeName, item["Object"])})
            except FakeError as error:
                failed.append({"Id": item["Id"], "Code": error.status, "Message": error.message})
        return {"Successful": successful, "Failed": failed}

    def _ingest(self, domain, type_name, document):
        object_type = self._object_type(domain, type_name)
        try:
            source = json.loads(document)
        except ValueError:
            raise FakeError("BadRequestException", "Object is not a JSON document") from None
        if not isinstance(source, dict):
            raise FakeError("BadRequestException", "Object is not a JSON object")
        fields = object_type["Fields"]
        values = {name: self._read(source, field["Source"]) for name, field in fields.items()}
        for name, field in fields.items():
            if field.get("Target") and values[name] is not None and len(values[name]) > 255:
                raise FakeError("BadRequestException", f"field {name}: a profile value holds at most 255 characters")
        keys = []  # (key name, identifiers, normalised value or None)
        for key_name, definitions in object_type["Keys"].items():
            for definition in definitions:
                parts = [values[f] for f in definition["FieldNames"]]
                content_type = fields[definition["FieldNames"][0]].get("ContentType", "STRING")
                value = None if any(p is None or p == "" for p in parts) else "|".join(
                    self._normalised(p, content_type) for p in parts)
                keys.append((key_name, set(definition.get("StandardIdentifiers") or []), value))
        unique = next((value, key) for key, ids, value in keys if "UNIQUE" in ids)
        if unique[0] is None or not any(v is not None for _, ids, v in keys if "PROFILE" in ids):
            raise FakeError("BadRequestException", "every field of the object's UNIQUE or PROFILE keys is empty")
        profile_id, created = self._resolve(domain, keys, object_type.get("AllowProfileCreation", False))
        profile = self.profiles[profile_id]
        for name, field in fields.items():
            target = field.get("Target")
            if target and values[name] not in (None, "") and target[len("_profile."):] not in \
                    self._set_by_update[profile_id]:
                self._write(profile, target[len("_profile."):], values[name])
        for key_name, ids, value in keys:
            if value is not None and "LOOKUP_ONLY" not in ids and (created or "NEW_ONLY" not in ids):
                self._index[(domain, key_name, value)].add(profile_id)
        stored = self.objects.get((domain, type_name, unique[0]))
        object_key = stored["ProfileObjectUniqueKey"] if stored else uuid.uuid4().hex
        self.objects[(domain, type_name, unique[0])] = {
            "ProfileId": profile_id, "Object": document, "ProfileObjectUniqueKey": object_key}
        return object_key

    def _resolve(self, domain, keys, allow_creation):
        primary = [(k, v) for k, ids, v in keys if v is not None and "PROFILE" in ids and "SECONDARY" not in ids]
        secondary = [(k, v) for k, ids, v in keys if v is not None and {"PROFILE", "SECONDARY"} <= ids]
        for candidates in (primary, secondary):
            for key_name, value in candidates:
                matches = self._index.get((domain, key_name, value), set())
                if len(matches) == 1:  # more than one is ambiguous: that key is skipped
                    return next(iter(matches)), False
        if not allow_creation:  # AWS sends it to the domain's dead-letter queue; what the call answers is not said
            raise FakeError("BadRequestException", "no profile matches and the object type does not create profiles")
        profile_id = uuid.uuid4().hex
        self.profiles[profile_id] = {"ProfileId": profile_id, "Attributes": {}}
        self._domain_of[profile_id] = domain
        return profile_id, True

    @staticmethod
    def _read(source, accessor):
        value = source
        for part in accessor.split(".")[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None or isinstance(value, (dict, list)) else str(value)

    @staticmethod
    def _normalised(value, content_type):
        if content_type == "EMAIL_ADDRESS":
            return value.strip().lower()
        if content_type == "PHONE_NUMBER":
            return re.sub(r"\D", "", value)
        return value.casefold() if content_type == "NAME" else value

    @staticmethod
    def _write(profile, path, value):
        head, _, rest = path.partition(".")
        if head == "Attributes" or rest:
            profile.setdefault(head, {})[rest] = value
        else:
            profile[head] = value

    # --- reading and updating profiles -------------------------------------
    def search_profiles(self, DomainName, KeyName, Values, MaxResults=20, NextToken=None, AdditionalSearchKeys=None,
                        LogicalOperator="AND"):
        self._domain(DomainName)
        found = [self._search(DomainName, KeyName, Values)] + [
            self._search(DomainName, k["KeyName"], k["Values"]) for k in AdditionalSearchKeys or []]
        ids = set.intersection(*found) if LogicalOperator == "AND" else set.union(*found)
        ordered = [p for p in self.profiles if p in ids]  # creation order
        start = int(NextToken or 0)
        page = ordered[start:start + MaxResults]
        result = {"Items": [json.loads(json.dumps(self.profiles[p])) for p in page]}
        if start + MaxResults < len(ordered):
            result["NextToken"] = str(start + MaxResults)
        return result

    def _search(self, domain, key_name, values):
        if key_name == "_profileId":
            return {v for v in values if self._domain_of.get(v) == domain}
        content_types = {f.get("ContentType", "STRING") for (d, _), t in self.object_types.items() if d == domain
                         for defs in t["Keys"].get(key_name, []) for f in [t["Fields"][defs["FieldNames"][0]]]}
        content_type = next(iter(content_types), {"_email": "EMAIL_ADDRESS", "_phone": "PHONE_NUMBER"}.get(
            key_name, "STRING"))
        return set().union(*(self._index.get((domain, key_name, self._normalised(v, content_type)), set())
                             for v in values))

    def create_profile(self, DomainName, **fields):
        """A profile with standard fields and Attributes; its email and phone found by _email and _phone (the
        predefined search keys over the standard email and phone fields: SearchProfiles, API reference)."""
        self._domain(DomainName)
        profile_id = uuid.uuid4().hex
        self.profiles[profile_id] = {"ProfileId": profile_id, "Attributes": {}, **json.loads(json.dumps(fields))}
        self._domain_of[profile_id] = DomainName
        self._set_by_update[profile_id].update(fields)
        for key, field_name, content_type in (("_email", "EmailAddress", "EMAIL_ADDRESS"),
                                              ("_phone", "PhoneNumber", "PHONE_NUMBER")):
            if fields.get(field_name):
                self._index[(DomainName, key, self._normalised(fields[field_name], content_type))].add(profile_id)
        return {"ProfileId": profile_id}

    def update_profile(self, DomainName, ProfileId, **fields):
        if self._domain_of.get(ProfileId) != DomainName:
            raise FakeError("ResourceNotFoundException", f"profile {ProfileId} not found", 404)
        profile = self.profiles[ProfileId]
        # An empty string removes a value, a member left out keeps it (UpdateProfile, API reference).
        for name, value in fields.items():
            for path, item in (value.items() if isinstance(value, dict) else [(None, value)]):
                full = f"{name}.{path}" if path is not None else name
                self._set_by_update[ProfileId].add(full)
                container = profile.setdefault(name, {}) if path is not None else profile
                key = path if path is not None else name
                if item == "":
                    container.pop(key, None)
                else:
                    container[key] = item
        return {"ProfileId": ProfileId}

    def delete_profile(self, ProfileId, DomainName):
        """Deletes "the standard customer profile and all data pertaining to the profile" (DeleteProfile, API
        reference): here the profile, its objects and its search keys."""
        if self._domain_of.get(ProfileId) != DomainName:
            raise FakeError("ResourceNotFoundException", f"profile {ProfileId} not found", 404)
        del self.profiles[ProfileId], self._domain_of[ProfileId]
        self._set_by_update.pop(ProfileId, None)
        for key in [k for k, o in self.objects.items() if o["ProfileId"] == ProfileId]:
            del self.objects[key]
        for ids in self._index.values():
            ids.discard(ProfileId)
        return {"Message": "Profile deleted"}

    # --- segment definitions ------------------------------------------------
    # Only what this collection's templates create: custom-attribute dimensions (ProfileAttributes.Attributes)
    # with INCLUSIVE (the value is one of Values) or EXCLUSIVE; groups combined with Include ALL/ANY/NONE
    # (CreateSegmentDefinition, Customer Profiles API reference). Other dimensions are refused, so a template
    # that relies on one is found here rather than trusted.
    def create_segment_definition(self, DomainName, SegmentDefinitionName, DisplayName, **settings):
        self._domain(DomainName)
        if (DomainName, SegmentDefinitionName) in self.segment_definitions:
            raise FakeError("BadRequestException", f"segment definition {SegmentDefinitionName} already exists")
        for group in (settings.get("SegmentGroups") or {}).get("Groups", []):
            for dimension in group.get("Dimensions", []):
                unsupported = set(dimension.get("ProfileAttributes", {})) - {"Attributes"} or set(dimension) - {
                    "ProfileAttributes"}
                types = {d["DimensionType"] for d in dimension.get("ProfileAttributes", {}).get(
                    "Attributes", {}).values()}
                if unsupported or types - {"INCLUSIVE", "EXCLUSIVE"}:
                    raise FakeError("BadRequestException", "the fake models custom-attribute INCLUSIVE/EXCLUSIVE "
                                    f"dimensions only, not {sorted(unsupported or types)}")
        arn = f"arn:aws:profile:us-east-1:123456789012:domains/{DomainName}/segment-definitions/" \
              f"{SegmentDefinitionName}"
        self.segment_definitions[(DomainName, SegmentDefinitionName)] = {
            "SegmentDefinitionName": SegmentDefinitionName, "DisplayName": DisplayName, **settings,
            "SegmentDefinitionArn": arn, "CreatedAt": _now()}
        return {"SegmentDefinitionName": SegmentDefinitionName, "DisplayName": DisplayName,
                "SegmentDefinitionArn": arn, "CreatedAt": _now()}

    def get_segment_definition(self, DomainName, SegmentDefinitionName):
        self._domain(DomainName)
        if (DomainName, SegmentDefinitionName) not in self.segment_definitions:
            raise FakeError("ResourceNotFoundException", f"segment definition {SegmentDefinitionName} not found", 404)
        return dict(self.segment_definitions[(DomainName, SegmentDefinitionName)])

    def delete_segment_definition(self, DomainName, SegmentDefinitionName):
        self.get_segment_definition(DomainName, SegmentDefinitionName)  # ResourceNotFoundException when absent
        del self.segment_definitions[(DomainName, SegmentDefinitionName)]
        return {"Message": f"segment definition {SegmentDefinitionName} deleted"}

    def domain_of_profile(self, profile_id: str) -> str | None:
        """The domain a profile belongs to (a test's view)."""
        return self._domain_of.get(profile_id)

    def segment_members(self, domain: str, name: str) -> set[str]:
        """The profile ids the segment definition selects now (a test's view; AWS computes it asynchronously)."""
        groups = self.get_segment_definition(domain, name).get("SegmentGroups") or {}

        def in_group(profile, group):
            tests = [self._dimension_holds(profile, d) for d in group.get("Dimensions", [])]
            return _included(tests, group.get("Type", "ALL"))

        return {pid for pid, profile in self.profiles.items() if self._domain_of.get(pid) == domain and _included(
            [in_group(profile, g) for g in groups.get("Groups", [])], groups.get("Include", "ALL"))}

    @staticmethod
    def _dimension_holds(profile, dimension) -> bool:
        attributes = profile.get("Attributes", {})
        results = []
        for name, test in dimension["ProfileAttributes"]["Attributes"].items():
            found = attributes.get(name) in test["Values"]
            results.append(found if test["DimensionType"] == "INCLUSIVE" else not found)
        return all(results)

    def _domain(self, name):
        if name not in self.domains:
            raise FakeError("ResourceNotFoundException", f"domain {name} not found", 404)
        return self.domains[name]

    def _object_type(self, domain, name):
        self._domain(domain)
        if (domain, name) not in self.object_types:
            raise FakeError("ResourceNotFoundException", f"object type {name} not found", 404)
        return self.object_types[(domain, name)]



def _included(tests: list[bool], include: str) -> bool:
    """IncludeOptions: ALL, ANY or NONE of the tests hold."""
    return {"ALL": all(tests), "ANY": any(tests), "NONE": not any(tests)}[include]


ALL_FAKES = (SesV2Fake, PinpointFake, SmsVoiceV2Fake, ConnectFake, AthenaFake, CustomerProfilesFake)


@dataclass
class Fakes:
    sesv2: SesV2Fake
    pinpoint: PinpointFake
    sms: SmsVoiceV2Fake
    connect: ConnectFake
    athena: AthenaFake
    profiles: CustomerProfilesFake

    @classmethod
    def attached_to(cls, target) -> Fakes:
        return cls(*(fake().attach(target) for fake in ALL_FAKES))
