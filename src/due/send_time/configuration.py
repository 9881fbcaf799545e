"""The two thin configurations: which store, which content, which policy, from the function's environment.

``ARCHITECTURE`` is ``ExternalAttributes`` (#11: a DynamoDB item per recipient fills a stored SES template)
or ``ExternalTemplates`` (#12: S3 content per campaign and locale is the template). Everything else (the
sender, consent, markers, the rate limiter, the hook) is the same code for both.

Environment (set by the templates; tests/templates/test_code_contract.py checks the contract):

* both: ``ARCHITECTURE``, ``MISSING_DATA_POLICY``, ``LOOKUP_BUDGET_MILLISECONDS``;
* #11: ``TABLE_NAME``, ``KEY_ATTRIBUTE``, ``KEY_COLUMN``, ``DEFAULT_DATA`` (a JSON object, the UseDefault
  values), ``TEMPLATE_NAME`` (the sender's stored template), ``HOOK_KEY_SOURCE`` (hook: EndpointId/UserId);
* #12: ``CONTENT_BUCKET``, ``CONTENT_PREFIX``, ``DEFAULT_LOCALE``, ``LOCALE_COLUMN``, ``DEFAULT_CAMPAIGN``
  (UseDefault: that campaign's content);
* the sender: ``FROM_ADDRESS``, ``CONFIGURATION_SET_NAME``, ``EMAILS_PER_SECOND``, ``SENT_TABLE_NAME``,
  ``RATE_TABLE_NAME``, ``SEND_DEAD_LETTER_QUEUE_URL``, ``CONTACT_LIST_NAME``, ``TOPIC_NAME``,
  ``PROFILES_DOMAIN_NAME``, ``UNSUBSCRIBE_URL``, ``UNSUBSCRIBE_SECRET_ARN`` (empty: the URL is the user's);
* the reader: ``CHUNK_SIZE`` (rows a queue message holds) and the pipeline's queues.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.config import Config

from due import aws, profiles
from due.rate_limit import RateLimiter
from due.send_time.attribute_store import AttributeStore
from due.send_time.consent import Consent, Unsubscribes
from due.send_time.content_store import ContentStore
from due.send_time.email_sender import EmailSender, InlineContent, StoredTemplate
from due.send_time.lookup import Lookup, MissingDataPolicy
from due.send_time.markers import ChunkMarkers
from due.send_time.unsubscribe import ListUnsubscribe

EXTERNAL_ATTRIBUTES = "ExternalAttributes"
EXTERNAL_TEMPLATES = "ExternalTemplates"
SES_API_REQUESTS_PER_SECOND = 1.0  # "Service quotas in Amazon SES": the rate of SES API calls other than sending
PROFILE_SEARCHES_PER_SECOND = 100.0  # Customer Profiles SearchProfiles ("Amazon Connect service quotas")


# SendBulkEmail takes no client token: a request botocore sent again after a timeout or a 5xx could mail everyone
# in it twice. So the sending client makes one attempt; the sender itself tries a throttled call again (SES
# answered it, so nothing was sent) and leaves any other unanswered call's rows in flight (due.send_time.markers).
SENDING_CONFIG = aws.RETRY_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))


@functools.lru_cache(maxsize=1)
def sending_client():
    return boto3.client("sesv2", config=SENDING_CONFIG)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Configuration:
    architecture: str
    lookup: Lookup
    policy: MissingDataPolicy
    default: dict[str, str] | Callable[[], dict[str, str]]
    escape_hook_values: bool  # #11's data is text to escape in HTML; #12's html is HTML as stored
    hook_key_source: str
    key_column: str
    locale_column: str
    content_store: ContentStore | None


@functools.lru_cache(maxsize=1)
def configuration() -> Configuration:
    architecture = _env("ARCHITECTURE")
    budget = int(_env("LOOKUP_BUDGET_MILLISECONDS", "2000")) / 1000
    policy = MissingDataPolicy(_env("MISSING_DATA_POLICY", MissingDataPolicy.SKIP.value))
    if architecture == EXTERNAL_ATTRIBUTES:
        store = AttributeStore(aws.client("dynamodb"), _env("TABLE_NAME"), _env("KEY_ATTRIBUTE", "id"), budget)
        return Configuration(architecture, store, policy, json.loads(_env("DEFAULT_DATA") or "{}"), True,
                             _env("HOOK_KEY_SOURCE", "EndpointId"), _env("KEY_COLUMN", "id"), "", None)
    if architecture == EXTERNAL_TEMPLATES:
        content = ContentStore(aws.client("s3"), _env("CONTENT_BUCKET"), _env("CONTENT_PREFIX", "content/"),
                               _env("DEFAULT_LOCALE", "en_US"), budget)
        default_campaign = _env("DEFAULT_CAMPAIGN", "default")

        def default() -> dict[str, str]:
            found = content.content_for(default_campaign, "")
            return found.as_data() if found else {}
        return Configuration(architecture, content, policy, default, False, "EndpointId", "",
                             _env("LOCALE_COLUMN", "locale"), content)
    raise ValueError(f"ARCHITECTURE must be {EXTERNAL_ATTRIBUTES} or {EXTERNAL_TEMPLATES}, not {architecture!r}")


@functools.lru_cache(maxsize=1)
def limiter() -> RateLimiter:
    return RateLimiter(aws.client("dynamodb"), _env("RATE_TABLE_NAME"))


def _unsubscribe_secret(arn: str) -> bytes:
    return aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"].encode()


@functools.lru_cache(maxsize=1)
def sender() -> EmailSender:
    config = configuration()
    sesv2 = aws.client("sesv2")
    per_second = float(_env("EMAILS_PER_SECOND", "1"))
    rate = limiter()
    domain = _env("PROFILES_DOMAIN_NAME")
    store = profiles.ProfileStore(aws.client("customer-profiles"), domain, "") if domain else None
    unsubscribes = Unsubscribes(aws.client("dynamodb"), _env("UNSUBSCRIBES_TABLE_NAME")) \
        if _env("UNSUBSCRIBES_TABLE_NAME") else None
    consent = Consent(sesv2, contact_list=_env("CONTACT_LIST_NAME"), topic=_env("TOPIC_NAME"), profile_store=store,
                      unsubscribes=unsubscribes,
                      pace_ses_api=lambda: rate.wait("ses:api", SES_API_REQUESTS_PER_SECOND),
                      pace_profiles=lambda: rate.wait(f"customer-profiles-search:{domain}",
                                                      PROFILE_SEARCHES_PER_SECOND))
    secret_arn = _env("UNSUBSCRIBE_SECRET_ARN")
    unsubscribe = ListUnsubscribe(_env("UNSUBSCRIBE_URL"), _unsubscribe_secret(secret_arn) if secret_arn else None)
    content = (StoredTemplate(sesv2, _env("TEMPLATE_NAME")) if config.architecture == EXTERNAL_ATTRIBUTES
               else InlineContent())
    markers = ChunkMarkers(aws.client("dynamodb"), _env("SENT_TABLE_NAME"))
    return EmailSender(sending_client(), config.lookup, content, markers,
                       consent, unsubscribe, from_address=_env("FROM_ADDRESS"), policy=config.policy,
                       default_data=config.default,
                       configuration_set=_env("CONFIGURATION_SET_NAME"),
                       pace=lambda n: rate.wait("ses:send", per_second / n), emails_per_second=per_second)
