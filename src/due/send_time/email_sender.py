"""One chunk of an audience file -> SES v2 SendBulkEmail, with its send-time data, at most once per row.

Facts this relies on:

* SendBulkEmail (SES v2 API reference) sends ``DefaultContent.Template`` (a stored ``TemplateName``, or inline
  ``TemplateContent`` with Subject, Html and Text) to ``BulkEmailEntries``; each entry has its Destination,
  ``ReplacementEmailContent.ReplacementTemplate.ReplacementTemplateData`` (a JSON object, at most 262,144
  characters in the service model) and ``ReplacementHeaders`` (at most 15). The answer has one
  ``BulkEmailEntryResults`` item per entry, in order, with a Status: SUCCESS, or a reason the entry was not
  sent (the BulkEmailStatus enum).
* At most 50 destinations a call: "Each time you call the SendBulkEmail operation, you can send email to up to
  50 destination objects" (SES Developer Guide, "Using templates to send personalized email with the Amazon SES
  API"; the v2 API reference does not restate it, the v1 SendBulkTemplatedEmail reference says 50 too).
* Inline content allows simple substitutions only and is one content per call, so a chunk's recipients are
  grouped by the content they get (#12: by locale) and each group is its own call. Every call here sends its
  content inline, #11's stored template too (read with GetEmailTemplate): SES fills the subject, the text and
  the HTML part from one set of values, so the HTML part's placeholders are pointed at copies of the values
  escaped for HTML (``html_placeholders``, ``replacement_data``), and the subject and text get them as written.
  Escaping is the sender's to do: "SES doesn't escape HTML content when rendering the HTML template for a message
  ... you will need to escape it on the client side" (SES Developer Guide, "Advanced email personalization").
* SES counts its sending rate and daily quota in recipients ("Service quotas in Amazon SES"); a new account's
  sandbox allows 1 a second and 200 a day, to verified addresses only. So a call of n recipients takes n
  permits of the stack's rate limiter, and a call never holds more recipients than the rate allows in a second.
* No client token: ``markers.ChunkMarkers`` records each call's rows before it starts; a row whose call ended
  without an answer is set aside (``unknown``), never sent again. The client given here must not retry on its
  own (``configuration.sending_client``: botocore would resend a call that timed out); a throttled call, which
  SES answered and did not send, is made again here.

What happens to each destination's result:

* SUCCESS: sent. TRANSIENT_FAILURE and ACCOUNT_THROTTLED: sent again in a later call (``ATTEMPTS`` in all),
  then the chunk is failed so that SQS delivers it again later (only its unsettled rows are sent then).
* an account-wide status (account suspended or paused, daily quota, configuration set, template, MAIL FROM
  domain, sending pool): nothing later could be sent either: the chunk is failed with the status.
* any other status (MESSAGE_REJECTED, INVALID_PARAMETER, FAILED): rejected, reported with the status.

A call SES refuses whole (BadRequestException, MessageRejected, ValidationException: the request as a whole, e.g.
its size, or one bad entry) is split in halves, and the halves are sent; later calls of that chunk stay at the
smaller size, and the next chunk starts again at the full size (one bad address must not shrink every later
call of a warm sender). A single destination refused that way is rejected with the error's code.

Each destination sent (SUCCESS, with SES's ``MessageId`` for it in its BulkEmailEntryResults item) is kept for the
message archive (due.archiving) with what the sender knows of it: the content as sent (inline, placeholders and
all: SES fills them in), the values, the List-Unsubscribe headers and, for #11, the stored template's name (SES
v2 templates have no versions). They are queued after each call, before its rows are settled in the chunk's
marker: an invocation that dies later (a timeout) has queued what its earlier calls sent, and one that dies
before the queueing leaves the call's rows in flight, set aside when the chunk comes back (a chunk marker keeps
no message ids, so a row settled and not archived could not be archived again from it).
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from due import aws
from due.archiving import SentArchive
from due.send_time.consent import Consent
from due.send_time.content_store import MAX_SUBJECT_CHARACTERS
from due.send_time.lookup import Lookup, MissingDataPolicy, Recipient, apply_policy
from due.send_time.markers import ChunkMarkers, chunk_id
from due.send_time.unsubscribe import ListUnsubscribe

MAX_DESTINATIONS_PER_CALL = 50
ATTEMPTS = 3
RETRY_DELAY_SECONDS = 1.0
_RETRIED = {"TRANSIENT_FAILURE", "ACCOUNT_THROTTLED"}
_ACCOUNT_WIDE = {"ACCOUNT_SUSPENDED", "ACCOUNT_SENDING_PAUSED", "ACCOUNT_DAILY_QUOTA_EXCEEDED",
                 "CONFIGURATION_SET_NOT_FOUND", "CONFIGURATION_SET_SENDING_PAUSED", "TEMPLATE_NOT_FOUND",
                 "MAIL_FROM_DOMAIN_NOT_VERIFIED", "INVALID_SENDING_POOL_NAME"}
_SPLITTABLE = {"BadRequestException", "MessageRejected", "ValidationException"}
REREAD_SECONDS = 300.0  # a stored template edited during a send reaches the sender within this time
# A call is not started with less time left than this: one SendBulkEmail takes at most the client's connect (5 s)
# and read (20 s) timeouts (due.aws.RETRY_CONFIG), and then its answer must be recorded. Killed mid-call, the
# rows would be set aside unsent; stopped before it, they stay unsettled and SQS delivers the chunk again.
CALL_TIME_NEEDED_SECONDS = 30.0


@dataclass(frozen=True)
class Chunk:
    file: str  # bucket/key@version of the audience file
    campaign: str
    recipients: list[Recipient]  # ref = the row number

    @property
    def id(self) -> str:
        return chunk_id(self.file, [(r.ref, r.address) for r in self.recipients])


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (row, reason): policy or consent
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (row, SES status or error code)
    unknown: list[str] = field(default_factory=list)  # an earlier attempt may have sent them: set aside
    calls: int = 0
    store_calls: int = 0
    already_done: bool = False


class ChunkFailed(Exception):
    """Rows of the chunk could not be sent now (throttling that outlasted the retries, an account-wide refusal,
    a call without an answer); they stay unsettled in the chunk's marker, and when the chunk comes back the
    unsettled rows are sent, except those of a call without an answer, which are set aside. ``outcome`` holds
    what was settled before."""

    def __init__(self, reason: str, outcome: Outcome):
        super().__init__(reason)
        self.outcome = outcome


class StoredTemplate:
    """#11: the stack's template stored in SES, read with GetEmailTemplate (again after ``REREAD_SECONDS``) and
    sent as inline content, so that its HTML part gets HTML-escaped values (``html_placeholders``); like all
    inline content it takes simple substitutions only. The looked-up data are values in it."""

    def __init__(self, sesv2, name: str, clock: Callable[[], float] = time.monotonic,
                 pace: Callable[[], None] = lambda: None):
        """``sesv2``: a client that retries throttling (``due.aws.client``; reading twice sends nothing), not the
        one-attempt sending client. ``pace``: GetEmailTemplate is an SES API call other than sending, which SES
        allows 1 a second across the account ("Service quotas in Amazon SES"): the stack's shared "ses:api"
        rate limiter."""
        self._ses, self.name, self._clock, self._pace = sesv2, name, clock, pace
        self._content: dict[str, str] | None = None
        self._read_at = 0.0

    def content(self, data: dict[str, str]) -> dict[str, str]:
        if self._content is None or self._clock() - self._read_at >= REREAD_SECONDS:
            self._pace()
            stored = self._ses.get_email_template(TemplateName=self.name)["TemplateContent"]
            self._content = {"subject": stored.get("Subject") or "", "html": stored.get("Html") or "",
                             "text": stored.get("Text") or ""}
            self._read_at = self._clock()
        return self._content

    def values(self, data: dict[str, str]) -> dict[str, str]:
        return data


class InlineContent:
    """#12: the looked-up content itself (subject, html, text) is the template; it holds no looked-up values."""

    def content(self, data: dict[str, str]) -> dict[str, str]:
        return data

    def values(self, data: dict[str, str]) -> dict[str, str]:
        return {}


# A simple substitution: {{name}} or {{ a.b }}, not Handlebars' {{{raw}}}, helpers (#if, /if, ^, !, >) or else.
_PLACEHOLDER = re.compile(r"(?<!\{)\{\{\s*([A-Za-z0-9_][^{}\s]*)\s*\}\}(?!\})")
HTML_SUFFIX = "__html"


def html_placeholders(html_part: str) -> str:
    """The HTML part with each ``{{name}}`` made ``{{name__html}}``, the name that carries the value escaped for
    HTML (``replacement_data``): the subject and the text part read the values as written, the HTML part reads
    them escaped. SES uses one set of replacement data for all parts (API reference, ReplacementTemplate), so
    this is how a value can be text in both."""
    return _PLACEHOLDER.sub(lambda m: m.group(0) if m.group(1) == "else" else "{{" + m.group(1) + HTML_SUFFIX + "}}",
                            html_part)


def template_content(content: dict[str, str]) -> dict[str, str]:
    """SES's EmailTemplateContent for one call: the subject trimmed to one line of at most
    ``MAX_SUBJECT_CHARACTERS``, the HTML part's placeholders pointed at the escaped values."""
    sent = {"Subject": " ".join(content.get("subject", "").split())[:MAX_SUBJECT_CHARACTERS]}
    if content.get("html"):
        sent["Html"] = html_placeholders(content["html"])
    if content.get("text"):
        sent["Text"] = content["text"]
    return sent


def replacement_data(fields: dict[str, str], extra: dict[str, str]) -> str:
    """The destination's values as SES's ReplacementTemplateData: the row's columns and the looked-up data as
    written, and each again under ``<name>__html`` escaped for HTML (a value holding < or & reads as text)."""
    values = {**fields, **extra}
    values |= {f"{name}{HTML_SUFFIX}": html.escape(value, quote=True) for name, value in list(values.items())}
    return json.dumps(values, ensure_ascii=False)


class EmailSender:
    def __init__(self, sesv2, lookup: Lookup, content: StoredTemplate | InlineContent, markers: ChunkMarkers,
                 consent: Consent, unsubscribe: ListUnsubscribe, *, from_address: str,
                 policy: MissingDataPolicy,
                 default_data: dict[str, str] | Callable[[], dict[str, str]] | None = None,
                 configuration_set: str = "", pace: Callable[[int], None] = lambda n: None,
                 emails_per_second: float = MAX_DESTINATIONS_PER_CALL, sleep: Callable[[float], None] = time.sleep,
                 archive: SentArchive | None = None):
        self._ses, self._lookup, self._content, self._markers = sesv2, lookup, content, markers
        self._archive = archive or SentArchive(None)
        self._campaign = ""
        self._consent, self._unsubscribe = consent, unsubscribe
        self._from, self._policy, self._default = from_address, policy, default_data
        self._configuration_set, self._pace, self._sleep = configuration_set, pace, sleep
        # Never more recipients in one call than the rate allows in a second, and never more than SES takes.
        self.call_size = max(1, min(MAX_DESTINATIONS_PER_CALL, int(emails_per_second)))
        self._chunk_call_size = self.call_size  # this chunk's, smaller after a size refusal; reset per chunk
        self._time_left: Callable[[], float] = lambda: float("inf")

    # ----------------------------------------------------------------------------------------------------
    def send(self, chunk: Chunk, set_aside: Callable[[list[Recipient], str], None] | None = None,
             time_left: Callable[[], float] = lambda: float("inf")) -> Outcome:
        """Sends the chunk's unsettled rows. ``set_aside(recipients, reason)`` puts rows that must not be sent
        again (an earlier attempt may have sent them) where a person sees them. ``time_left()``: seconds the
        invocation has left (Lambda's ``context.get_remaining_time_in_millis() / 1000``); waiting for the rate
        can take longer than a function may run, so no call starts without ``CALL_TIME_NEEDED_SECONDS`` left."""
        outcome = Outcome()
        self._time_left, self._campaign = time_left, chunk.campaign
        self._chunk_call_size = self.call_size
        chunk_key = chunk.id
        by_ref = {r.ref: r for r in chunk.recipients}
        resume = self._markers.begin(chunk_key, list(by_ref))
        remaining = resume.remaining
        if resume.unknown:
            # Set aside first, settled after: a crash between the two sets them aside again, never sends them.
            (set_aside or _cannot_set_aside)([by_ref[ref] for ref in resume.unknown],
                            "an earlier attempt's SendBulkEmail call ended without an answer: these rows may have "
                            "been sent; not resending")
            outcome.unknown = resume.unknown
            remaining = self._markers.settle(chunk_key, remaining, resume.unknown)
        if not remaining:
            outcome.already_done = not resume.unknown
            return outcome
        recipients = [by_ref[ref] for ref in remaining]
        found = self._lookup.look_up(chunk.campaign, recipients)
        outcome.store_calls = found.store_calls
        inline = isinstance(self._content, InlineContent)
        if found.late and inline and self._policy is not MissingDataPolicy.USE_DEFAULT:
            # #12: the content is the campaign's, and it exists (the file was checked for it): a slow S3 answer
            # is no reason to settle these rows unsent. Nothing is settled; SQS delivers the chunk again.
            raise ChunkFailed(f"the content store did not answer within the time budget for {len(found.late)} "
                              "row(s); the chunk is tried again later", outcome)
        decided = apply_policy(recipients, found, self._policy, self._default)
        skipped = [(r.ref, reason) for r, reason in decided.skipped]
        entries: dict[tuple, list[tuple[Recipient, dict[str, str]]]] = {}
        refusals = self._consent.refusals([(r.address, r.fields) for r, _ in decided.send])
        for (recipient, data), refusal in zip(decided.send, refusals, strict=True):
            if refusal:
                skipped.append((recipient.ref, refusal))
                continue
            if isinstance(self._content, InlineContent) and not data:
                skipped.append((recipient.ref, "no content to send (policy SendWithout cannot send an empty "
                                               "message)"))
                continue
            content = self._content.content(data)
            entries.setdefault((content.get("subject"), content.get("html"), content.get("text")),
                               []).append((recipient, data))
        outcome.skipped = skipped
        remaining = self._markers.settle(chunk_key, remaining, [ref for ref, _ in skipped])
        try:
            self._send_groups(chunk_key, remaining, list(entries.values()), outcome)
        except ChunkFailed:
            raise
        except Exception as error:  # whatever ended the sending: the rows of a call in flight stay in flight
            raise ChunkFailed(f"{type(error).__name__}: {error}", outcome) from error
        finally:
            self._archive.flush(self._time_left)  # what was sent, after the calls; never raises
        return outcome

    def _send_groups(self, chunk_key: str, remaining: list[str], groups: list, outcome: Outcome) -> None:
        for group in groups:
            pending = group
            for attempt in range(1, ATTEMPTS + 1):
                again: list[tuple[Recipient, dict[str, str]]] = []
                start = 0
                while start < len(pending):  # the call size may shrink on the way (a size refusal)
                    call = pending[start:start + self._chunk_call_size]
                    start += len(call)
                    remaining, retry = self._call(chunk_key, remaining, call, outcome)
                    again += retry
                pending = again
                if not pending:
                    break
                if attempt < ATTEMPTS:
                    self._sleep(RETRY_DELAY_SECONDS * attempt)
            if pending:
                raise ChunkFailed(f"{len(pending)} destination(s) still throttled after {ATTEMPTS} attempts", outcome)

    # ----------------------------------------------------------------------------------------------------
    def _call(self, chunk_key: str, remaining: list[str], call: list[tuple[Recipient, dict[str, str]]],
              outcome: Outcome) -> tuple[list[str], list]:
        """Sends one call (split on a whole-call refusal); returns (rows still unsettled, entries to retry)."""
        refs = [r.ref for r, _ in call]
        written = self._content.content(call[0][1])
        content = template_content(written)
        request = {"FromEmailAddress": self._from,
                   "DefaultContent": {"Template": {"TemplateContent": content, "TemplateData": "{}"}},
                   "BulkEmailEntries": [{
                       "Destination": {"ToAddresses": [r.address]},
                       "ReplacementEmailContent": {"ReplacementTemplate": {
                           "ReplacementTemplateData": replacement_data(r.fields, self._content.values(d))}},
                       "ReplacementHeaders": self._unsubscribe.headers(r.address)} for r, d in call]}
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        response, refused = self._send_call(chunk_key, remaining, request, refs, outcome)
        if response is None:  # SES refused the call whole and sent nothing of it
            remaining = self._markers.settle(chunk_key, remaining, [])
            if len(call) == 1:
                outcome.rejected.append((refs[0], refused))
                return self._markers.settle(chunk_key, remaining, refs), []
            half = len(call) // 2
            remaining, first = self._call(chunk_key, remaining, call[:half], outcome)
            remaining, second = self._call(chunk_key, remaining, call[half:], outcome)
            self._chunk_call_size = min(self._chunk_call_size, max(half, 1))
            return remaining, first + second
        settled, retry, stop = [], [], None
        for (recipient, d), result in zip(call, response["BulkEmailEntryResults"], strict=True):
            status = result.get("Status", "FAILED")
            if status == "SUCCESS":
                outcome.sent.append(recipient.ref)
                settled.append(recipient.ref)
                self._keep_for_archive(recipient, d, {**written, "subject": content["Subject"]},
                                       result.get("MessageId", ""))
            elif status in _RETRIED:
                retry.append((recipient, d))
            elif status in _ACCOUNT_WIDE:
                stop = status
            else:
                outcome.rejected.append((recipient.ref, status))
                settled.append(recipient.ref)
        self._archive.flush(self._time_left)  # this call's sends, before they are settled; never raises
        remaining = self._markers.settle(chunk_key, remaining, settled)
        if stop:
            raise ChunkFailed(f"SES refused the send for the whole account or configuration: {stop}", outcome)
        return remaining, retry

    def _keep_for_archive(self, recipient: Recipient, data: dict[str, str], content: dict[str, str],
                          message_id: str) -> None:
        """``content``: as written (the HTML part's placeholders not yet pointed at the escaped copies), with the
        subject as sent; the values without those copies."""
        if not self._archive.enabled:
            return
        headers = {h["Name"]: h["Value"] for h in self._unsubscribe.headers(recipient.address)}
        template = self._content.name if isinstance(self._content, StoredTemplate) else "inline"
        self._archive.add("email", recipient.address, message_id, origination=self._from,
                          campaign_id=self._campaign, subject=content.get("subject", ""),
                          text=content.get("text", ""), html=content.get("html", ""), template=template,
                          replacement_data={**recipient.fields, **self._content.values(data)}, headers=headers)


    def _send_call(self, chunk_key: str, remaining: list[str], request: dict, refs: list[str],
                   outcome: Outcome) -> tuple[dict | None, str]:
        """(the answer, "") or (None, the error code of a whole-call refusal worth splitting). The call's rows are
        recorded in flight first. A throttled call (SES answered: nothing sent) is made again, ``ATTEMPTS`` in
        all; an answer of 5xx or none at all leaves the rows in flight (whether they went is unknown)."""
        for attempt in range(1, ATTEMPTS + 1):
            self._enough_time(outcome)
            self._pace(len(refs))
            self._enough_time(outcome)  # the wait for the rate may have used it up
            self._markers.calling(chunk_key, refs)
            outcome.calls += 1
            try:
                return self._ses.send_bulk_email(**request), ""
            except ClientError as error:
                if aws.is_service_fault(error):
                    raise
                code = error.response["Error"]["Code"]
                if aws.is_throttling(error):
                    self._markers.settle(chunk_key, remaining, [])
                    if attempt < ATTEMPTS:
                        self._sleep(RETRY_DELAY_SECONDS * attempt)
                        continue
                if code not in _SPLITTABLE:
                    self._markers.settle(chunk_key, remaining, [])
                    raise ChunkFailed(f"SendBulkEmail refused the call: {code}", outcome) from error
                return None, code
        raise AssertionError("unreachable: the last attempt returns or raises")


    def _enough_time(self, outcome: Outcome) -> None:
        left = self._time_left()
        if left < CALL_TIME_NEEDED_SECONDS:
            raise ChunkFailed(f"{left:.0f} s left in this invocation, too little for a call: the rest of the chunk "
                              "is sent when SQS delivers it again", outcome)


def _cannot_set_aside(recipients: list[Recipient], reason: str) -> None:
    raise RuntimeError(f"{len(recipients)} row(s) must be set aside and no set-aside was given: {reason}")


def rows_of(recipients: Sequence[Recipient]) -> str:
    refs = [r.ref for r in recipients]
    return f"{refs[0]}-{refs[-1]}" if refs else "none"
