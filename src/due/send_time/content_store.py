"""#12's store: a campaign's subject, HTML and text per locale, in S3, fetched at send time and cached.

Layout: one JSON object per campaign and locale, ``<prefix><campaign>/<locale>.json``, holding
``{"subject": "...", "html": "...", "text": "..."}`` (subject and at least one of html and text). A
recipient's locale is tried as given (``es_MX``; ``es-MX`` is read as ``es_MX``), then its language alone
(``es``), then the stack's default locale. A campaign with no object in the default locale has no content:
``require`` says so before a file is sent, so nothing of it goes out.

Caching: an object is fetched once per version. It is kept in the function's memory (warm invocations reuse
it) with its ETag; after ``REVALIDATE_SECONDS`` the next use asks S3 with ``If-None-Match`` and keeps the copy
when S3 answers 304 Not Modified (S3 API reference, GetObject: IfNoneMatch), so an edited object is picked up
within that time and an unchanged one is not downloaded again. A locale that has no object is remembered for
as long, so recipients in a locale without its own content do not cost a request each.

Limits (SES Developer Guide, "Using templates to send personalized email with the Amazon SES API"): inline
template content may be up to 1 MB (subject, text and HTML together), and supports simple substitutions only
(no Handlebars helpers, loops or partials); SES documents no length for a subject, so the subject is trimmed
to ``MAX_SUBJECT_CHARACTERS`` (RFC 5322's 998 characters a header line, the form SES accepts headers in:
Developer Guide, "Amazon SES header fields").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from botocore.exceptions import ClientError

from due.send_time.lookup import MONOTONIC, Found, Recipient, TooLate, within_budget

REVALIDATE_SECONDS = 60.0
MAX_CONTENT_BYTES = 1024 * 1024  # inline template content, subject, text and HTML together
MAX_SUBJECT_CHARACTERS = 998
# The roles grant s3:GetObject and not s3:ListBucket, and "If you don't have the s3:ListBucket permission,
# Amazon S3 returns an HTTP status code 403" for a key that does not exist (S3 API reference, GetObject:
# Permissions). So on AWS a missing object is answered AccessDenied; moto answers NoSuchKey. Both are "missing".
_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "AccessDenied", "403"}


class CampaignContentMissing(Exception):
    """The campaign has no content in the default locale: nothing of the file may be sent."""


class BadContent(ValueError):
    """A content object is not usable (not JSON, no subject, no body, too large)."""


@dataclass(frozen=True)
class Content:
    subject: str
    html: str
    text: str
    etag: str
    key: str

    def as_data(self) -> dict[str, str]:
        return {name: value for name, value in (("subject", self.subject), ("html", self.html),
                                                 ("text", self.text)) if value}


def normalised_locale(locale: str) -> str:
    """``es-mx`` -> ``es_MX``; ``EN`` -> ``en``; anything else is kept as written (stripped)."""
    parts = locale.strip().replace("-", "_").split("_")
    if len(parts) == 2 and parts[0].isalpha() and parts[1].isalnum():
        return f"{parts[0].lower()}_{parts[1].upper()}"
    if len(parts) == 1 and parts[0].isalpha():
        return parts[0].lower()
    return locale.strip()


def parse_content(body: bytes, key: str, etag: str) -> Content:
    if len(body) > MAX_CONTENT_BYTES:
        raise BadContent(f"{key} is {len(body)} bytes; SES takes inline content up to {MAX_CONTENT_BYTES}")
    try:
        document = json.loads(body)
    except ValueError as error:
        raise BadContent(f"{key} is not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("subject"), str) or not document["subject"]:
        raise BadContent(f"{key} has no subject")
    html, text = document.get("html") or "", document.get("text") or ""
    if not isinstance(html, str) or not isinstance(text, str) or not (html or text):
        raise BadContent(f"{key} has neither html nor text")
    subject = " ".join(document["subject"].split())[:MAX_SUBJECT_CHARACTERS]  # one header line
    return Content(subject, html, text, etag, key)


@dataclass
class _Cached:
    content: Content | None  # None: S3 has no such object
    checked_at: float


class ContentStore:
    def __init__(self, s3, bucket: str, prefix: str, default_locale: str, budget_seconds: float, *,
                 clock: Callable[[], float] = MONOTONIC):
        self._s3, self._bucket, self._prefix = s3, bucket, prefix
        self._default = normalised_locale(default_locale)
        self._budget, self._clock = budget_seconds, clock
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # GETs that brought a body
        self.revalidations = 0  # GETs answered 304 Not Modified
        self.requests = 0  # every GET, including the ones that found nothing

    def key(self, campaign: str, locale: str) -> str:
        return f"{self._prefix}{campaign}/{locale}.json"

    def candidates(self, locale: str) -> list[str]:
        tried = []
        for name in (normalised_locale(locale), normalised_locale(locale).split("_")[0], self._default):
            if name and name not in tried:
                tried.append(name)
        return tried

    def require(self, campaign: str) -> Content:
        """The campaign's default-locale content; raises CampaignContentMissing when there is none."""
        content = self._get(self.key(campaign, self._default))
        if content is None:
            raise CampaignContentMissing(
                f"campaign {campaign!r} has no content: s3://{self._bucket}/{self.key(campaign, self._default)} "
                "does not exist (the default locale's content is required)")
        return content

    def content_for(self, campaign: str, locale: str) -> Content | None:
        for candidate in self.candidates(locale):
            content = self._get(self.key(campaign, candidate))
            if content is not None:
                return content
        return None

    def look_up(self, campaign: str, recipients: Sequence[Recipient]) -> Found:
        found = Found()
        by_locale: dict[str, list[Recipient]] = {}
        for recipient in recipients:
            by_locale.setdefault(normalised_locale(recipient.locale), []).append(recipient)
        requests_before = self.requests
        for locale, group in by_locale.items():
            try:
                content = within_budget(lambda locale=locale: self.content_for(campaign, locale), self._budget)
            except TooLate:
                found.late |= {r.ref for r in group}
                continue
            for recipient in group:
                if content is None:
                    found.missing.add(recipient.ref)
                else:
                    found.data[recipient.ref] = content.as_data()
        found.store_calls = self.requests - requests_before
        return found

    def _get(self, key: str) -> Content | None:
        with self._lock:
            cached = self._cache.get(key)
        now = self._clock()
        if cached is not None and now - cached.checked_at < REVALIDATE_SECONDS:
            return cached.content
        conditional = {"IfNoneMatch": cached.content.etag} if cached is not None and cached.content else {}
        try:
            self.requests += 1
            response = self._s3.get_object(Bucket=self._bucket, Key=key, **conditional)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "304" or status == 304:
                self.revalidations += 1
                with self._lock:
                    self._cache[key] = _Cached(cached.content, now)
                return cached.content
            if code in _NOT_FOUND or status in (403, 404):
                with self._lock:
                    self._cache[key] = _Cached(None, now)
                return None
            raise
        self.fetches += 1
        content = parse_content(response["Body"].read(), key, response.get("ETag", ""))
        with self._lock:
            self._cache[key] = _Cached(content, now)
        return content

