"""The optional follow-up: a named SES template to the imported people who have an email address and did not opt out
(current modes), or the seed's Pinpoint campaign to the imported segment (Pinpoint mode).

Facts this relies on:
- SES v2 SendBulkEmail (API reference) sends ``DefaultContent.Template`` (TemplateName, TemplateData, Headers) to
  ``BulkEmailEntries``, each with its Destination, ``ReplacementEmailContent.ReplacementTemplate.
  ReplacementTemplateData`` and ``ReplacementHeaders``; it answers one ``BulkEmailEntryResults`` item per entry, in
  order, with Status SUCCESS or an error status (TRANSIENT_FAILURE, ACCOUNT_THROTTLED, ...). It has no
  ListManagementOptions and no per-call maximum on its own page; SES's v1 SendBulkTemplatedEmail documents 50
  destinations a call, which this keeps to.
- SES subscription management (Developer Guide, "Using subscription management" and "Using list management")
  works only through SendEmail's ``ListManagementOptions`` (ContactListName, TopicName): SES then adds the
  List-Unsubscribe and List-Unsubscribe-Post headers, fills ``{{amazonSESUnsubscribeUrl}}``, and does not deliver
  to a contact who unsubscribed from the list or topic (it issues a bounce event). So with a contact list this
  sends one SendEmail per person; SES's quotas count recipients, not calls (Developer Guide, "Service quotas in
  Amazon SES"), so the cost and the rate are the same.
- Without a contact list, a ``List-Unsubscribe`` header value may be given (the Template's Headers; SES accepts
  List-Unsubscribe and List-Unsubscribe-Post once each, Developer Guide, "Amazon SES header fields"); RFC 8058
  one-click (List-Unsubscribe-Post) is added when the value holds an https URI, which must then accept the POST.
- An address on the account-level suppression list is accepted (SUCCESS) and not sent (Developer Guide, "Using
  the account-level suppression list"): it counts as sent here.
- Pinpoint CreateCampaign (API reference, WriteCampaignRequest): SegmentId, Schedule.StartTime "IMMEDIATE" with
  Frequency ONCE, TemplateConfiguration.EmailTemplate.Name; MessageConfiguration.EmailMessage.FromAddress
  overrides the project's default sender.

``pace()`` is called once per recipient before the call that sends to them (SES's sending rate counts recipients).

Each person sent to (SendBulkEmail's SUCCESS entry, or SendEmail's answer, each with SES's ``MessageId``) is kept
for the message archive (due.archiving) with what this sender knows: the template's name and its subject, HTML and
text as stored when sent, the row's values, the List-Unsubscribe headers it gave and the From address. SES v2
templates have no versions, and UpdateEmailTemplate or DeleteEmailTemplate change or remove one at any time (SES
API v2 reference): the name alone would not say what was sent once the template changed. The content is read
with GetEmailTemplate (``due.send_time.email_sender.StoredTemplate``: once, again after its ``REREAD_SECONDS``),
only when archiving is on, after the sends; a template that cannot be read is archived by name (logged). They are
queued after each SES call (a SendBulkEmail, of which a chunk may take several: halves of a refused call, tries
again of transient failures; with a contact list a chunk is one person's SendEmail), also when SES stops the
follow-up part way: an invocation that dies (a timeout) loses the archive records it had not queued with its
memory, and the step is not run again for them (its Retry names Lambda's service errors and TransientError, not a
timeout; its Catch goes on to the report), so at most the records of the call in flight are lost.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from due.archiving import SentArchive
from due.logs import get_logger
from due.profiles import EMAIL_OPT_OUT
from due.s3_triggered_import.destination_files import email_problem, opted_out
from due.s3_triggered_import.rows import ImportRow
from due.send_time.email_sender import StoredTemplate

logger = get_logger("s3_triggered_import_follow_up")

DESTINATIONS_PER_CALL = 50
# A whole call refused for its content: split it, so one bad entry (or a request too large) fails alone.
_SPLITTABLE = {"BadRequestException", "ValidationException", "MessageRejected"}
# Entry statuses worth another try after the others of the chunk went.
_TRANSIENT = {"TRANSIENT_FAILURE", "ACCOUNT_THROTTLED"}
TRANSIENT_ATTEMPTS = 3
# Entry statuses that every later send would get too: stop, so a person looks.
_STOPPING = {"ACCOUNT_SUSPENDED", "ACCOUNT_SENDING_PAUSED", "ACCOUNT_DAILY_QUOTA_EXCEEDED",
             "CONFIGURATION_SET_NOT_FOUND", "CONFIGURATION_SET_SENDING_PAUSED", "TEMPLATE_NOT_FOUND",
             "MAIL_FROM_DOMAIN_NOT_VERIFIED", "INVALID_SENDING_POOL_NAME"}


@dataclass
class FollowUpCounts:
    sent: int = 0
    opted_out: int = 0  # skipped: the row's email_opt_out (however the file spells it), or is_opted_out said so
    no_address: int = 0  # skipped: no usable email address
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # SES entry status or error code -> people
    calls: int = 0

    def fail(self, reason: str, people: int = 1) -> None:
        self.failed += people
        self.failures[reason] = self.failures.get(reason, 0) + people


class FollowUpStopped(Exception):
    """SES refused in a way every later send would share (account paused, template missing...); nothing more
    was sent. ``counts`` says what was sent before."""

    def __init__(self, reason: str, counts: FollowUpCounts):
        super().__init__(f"follow-up stopped: {reason}")
        self.reason, self.counts = reason, counts


def send_template(sesv2, rows: Iterable[ImportRow], email_column: str, template_name: str, from_address: str,
                  configuration_set: str | None, contact_list: str | None, topic: str | None,
                  pace: Callable[[], None], is_opted_out: Callable[[str], bool], *,
                  list_unsubscribe: str | None = None, archive: SentArchive | None = None) -> FollowUpCounts:
    """Sends the template to every row with a usable address that has not opted out; returns the counts.

    Raises FollowUpStopped when SES refuses for a reason every later send would share.
    """
    counts = FollowUpCounts()
    archive = archive or SentArchive(None)
    if contact_list:
        sender: _Sender = _ListManagedSender(sesv2, counts, pace, template_name, from_address, configuration_set,
                                             contact_list, topic)
    else:
        sender = _BulkSender(sesv2, counts, pace, template_name, from_address, configuration_set, list_unsubscribe)
    sender.archive = archive
    pending: list[tuple[str, dict[str, str]]] = []
    for row in rows:
        address = row.fields.get(email_column, "").strip()
        if email_problem(address):
            counts.no_address += 1
        elif opted_out(row.fields, EMAIL_OPT_OUT) or is_opted_out(address):
            counts.opted_out += 1
        else:
            pending.append((address, row.fields))
            if len(pending) >= sender.chunk_size:
                _send_and_archive(sender, pending)
                pending = []
    if pending:
        _send_and_archive(sender, pending)
    return counts


def _send_and_archive(sender: _Sender, people: list[tuple[str, dict[str, str]]]) -> None:
    try:
        sender.send(people)
    finally:
        sender.archive.flush()  # what went, after the calls (also when SES stopped them); never raises


class _Sender:
    chunk_size = 1

    def __init__(self, sesv2, counts: FollowUpCounts, pace: Callable[[], None]):
        self._ses, self._counts, self._pace = sesv2, counts, pace
        self.archive = SentArchive(None)
        self.template_name, self.from_address, self.headers = "", "", {}  # what the archive records of each send

    def _archive(self, address: str, fields: dict[str, str], message_id: str) -> None:
        if not self.archive.enabled:
            return
        content = _template_content(self._ses, self.template_name)
        self.archive.add("email", address, message_id, origination=self.from_address, template=self.template_name,
                         subject=content.get("subject", ""), html=content.get("html", ""),
                         text=content.get("text", ""), replacement_data=fields, headers=self.headers)

    def send(self, people: list[tuple[str, dict[str, str]]]) -> None:
        raise NotImplementedError

    def _stop(self, reason: str) -> FollowUpStopped:
        return FollowUpStopped(reason, self._counts)


class _BulkSender(_Sender):
    """SendBulkEmail, 50 destinations a call; a refused call is split in halves, and if both halves go, later
    calls stay at the smaller size (the request was too large, not one entry bad)."""

    chunk_size = DESTINATIONS_PER_CALL

    def __init__(self, sesv2, counts, pace, template_name, from_address, configuration_set, list_unsubscribe):
        super().__init__(sesv2, counts, pace)
        self.template_name, self.from_address = template_name, from_address
        template: dict = {"TemplateName": template_name, "TemplateData": "{}"}
        if list_unsubscribe:
            # RFC 2369: each URL in angle brackets, comma-separated; the parameter may give them bare.
            list_unsubscribe = ", ".join(url if url.startswith("<") else f"<{url}>"
                                         for url in (part.strip() for part in list_unsubscribe.split(",")) if url)
            headers = [{"Name": "List-Unsubscribe", "Value": list_unsubscribe}]
            if "<https://" in list_unsubscribe:
                headers.append({"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"})
            template["Headers"] = headers
            self.headers = {h["Name"]: h["Value"] for h in headers}
        self._request = {"FromEmailAddress": from_address, "DefaultContent": {"Template": template},
                         **({"ConfigurationSetName": configuration_set} if configuration_set else {})}

    def send(self, people):
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            people = self._send(people, final_attempt=attempt == TRANSIENT_ATTEMPTS)[1]
            if not people:
                return

    def _send(self, people, final_attempt: bool) -> tuple[bool, list]:
        """(whether SES took the call whole, the people to try again)."""
        for _ in people:
            self._pace()
        self._counts.calls += 1
        try:
            response = self._ses.send_bulk_email(**self._request, BulkEmailEntries=[
                {"Destination": {"ToAddresses": [address]},
                 "ReplacementEmailContent": {"ReplacementTemplate": {
                     "ReplacementTemplateData": json.dumps(fields, ensure_ascii=False)}}}
                for address, fields in people])
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in _SPLITTABLE:
                raise self._stop(code) from error
            if len(people) == 1:
                self._counts.fail(code)
                return False, []
            half = len(people) // 2
            first_whole, first_again = self._send(people[:half], final_attempt)
            second_whole, second_again = self._send(people[half:], final_attempt)
            if first_whole and second_whole:
                self.chunk_size = min(self.chunk_size, half)
            return False, first_again + second_again
        again = []
        for person, result in zip(people, response["BulkEmailEntryResults"], strict=True):
            status = result["Status"]
            if status == "SUCCESS":
                self._counts.sent += 1
                self._archive(*person, result.get("MessageId", ""))
            elif status in _STOPPING:
                self._counts.fail(status)
                raise self._stop(status)
            elif status in _TRANSIENT and not final_attempt:
                again.append(person)
            else:
                self._counts.fail(status)
        self.archive.flush()  # this call's sends, before the next call (see the module's docstring)
        return True, again


class _ListManagedSender(_Sender):
    """SendEmail with ListManagementOptions, one person a call: SES adds the unsubscribe headers and link, and
    does not deliver to whoever unsubscribed from the contact list or the topic."""

    def __init__(self, sesv2, counts, pace, template_name, from_address, configuration_set, contact_list, topic):
        super().__init__(sesv2, counts, pace)
        self.template_name, self.from_address = template_name, from_address
        # SES adds List-Unsubscribe itself here; the archive records which list and topic it was for.
        self.headers = {"Contact-List": contact_list, **({"Topic": topic} if topic else {})}
        options = {"ContactListName": contact_list, **({"TopicName": topic} if topic else {})}
        self._request = {"FromEmailAddress": from_address, "ListManagementOptions": options,
                         **({"ConfigurationSetName": configuration_set} if configuration_set else {})}

    def send(self, people):
        for address, fields in people:
            self._pace()
            self._counts.calls += 1
            try:
                response = self._ses.send_email(**self._request, Destination={"ToAddresses": [address]}, Content={
                    "Template": {"TemplateName": self.template_name,
                                 "TemplateData": json.dumps(fields, ensure_ascii=False)}})
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code not in _SPLITTABLE:
                    raise self._stop(code) from error
                self._counts.fail(code)
            else:
                self._counts.sent += 1
                self._archive(address, fields, response.get("MessageId", ""))


@functools.lru_cache(maxsize=8)
def _stored_template(sesv2, name: str) -> StoredTemplate:
    return StoredTemplate(sesv2, name)


def _template_content(sesv2, name: str) -> dict[str, str]:
    """The template's subject, HTML and text for the archive; {} (logged) when it cannot be read."""
    try:
        return _stored_template(sesv2, name).content({})
    except (ClientError, BotoCoreError) as error:
        logger.error("the follow-up template cannot be read for the archive: archived by name",
                     extra={"error": type(error).__name__})
        return {}


def create_campaign(pinpoint, application_id: str, segment_id: str, name: str, template_name: str,
                    from_address: str | None = None) -> str:
    """The seed's follow-up: a campaign sending the email template once, now, to the imported segment."""
    request: dict = {"Name": name, "SegmentId": segment_id,
                     "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
                     "TemplateConfiguration": {"EmailTemplate": {"Name": template_name}}}
    if from_address:
        request["MessageConfiguration"] = {"EmailMessage": {"FromAddress": from_address}}
    return pinpoint.create_campaign(ApplicationId=application_id,
                                    WriteCampaignRequest=request)["CampaignResponse"]["Id"]
