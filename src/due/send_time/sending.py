"""The bulk email sender as both architectures' sender functions build it from their environment.

``SendBulkEmail`` takes no client token: a request botocore sent again after a timeout or a 5xx could mail
everyone in it twice. So the sending client makes one attempt (``sending_client``); the sender itself makes a
throttled call again (SES answered it, so nothing was sent) and leaves any other unanswered call's rows in
flight, to be set aside (``due.send_time.markers``).

Environment: ``FROM_ADDRESS``, ``CONFIGURATION_SET_NAME``, ``EMAILS_PER_SECOND``, ``SENT_TABLE_NAME``,
``RATE_TABLE_NAME``, ``CONTACT_LIST_NAME``, ``TOPIC_NAME``, ``PROFILES_DOMAIN_NAME``, ``UNSUBSCRIBE_URL``,
``UNSUBSCRIBE_KEY_ARN`` (the KMS HMAC key that signs the stack's own links; empty when the URL is the
user's), ``UNSUBSCRIBES_TABLE_NAME`` and ``ARCHIVE_QUEUE_URL`` (due.archiving; empty: no archiving).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import boto3
from botocore.config import Config

from due import aws, profiles
from due.archiving import SentArchive
from due.rate_limit import RateLimiter
from due.send_time.consent import Consent, Unsubscribes
from due.send_time.email_sender import EmailSender, InlineContent, StoredTemplate
from due.send_time.lookup import Lookup, MissingDataPolicy
from due.send_time.markers import ChunkMarkers
from due.send_time.unsubscribe import ListUnsubscribe, link_secret

SENDING_CONFIG = aws.RETRY_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
SES_API_REQUESTS_PER_SECOND = 1.0  # "Service quotas in Amazon SES": the rate of SES API calls other than sending
PROFILE_SEARCHES_PER_SECOND = 100.0  # Customer Profiles SearchProfiles ("Amazon Connect service quotas")
# A call's recipients leave at once, and the next call waits their share of a second. The time between taking a
# permit and SES receiving the call varies by milliseconds from call to call; 5% slack keeps any one second at
# or below the rate despite it (benchmarks/send_time_data.py measures it at the SES end).
RATE_SLACK = 0.95


def pacer(limiter: RateLimiter, per_second: float) -> Callable[[int], None]:
    """``pace(n)``: returns when a call of ``n`` recipients may go, at most ``per_second`` recipients a second
    across every sender of the stack (one rate-limiter permit per call, ``n`` recipients' worth of time)."""
    return lambda n: limiter.wait("ses:send", per_second * RATE_SLACK / n)


def ses_api_pace() -> Callable[[], None]:
    """Waits for one permit of the stack's shared "ses:api" limit (SES API calls other than sending)."""
    rate = RateLimiter(aws.client("dynamodb"), os.environ["RATE_TABLE_NAME"])
    return lambda: rate.wait("ses:api", SES_API_REQUESTS_PER_SECOND)


@functools.lru_cache(maxsize=1)
def sending_client():
    return boto3.client("sesv2", config=SENDING_CONFIG)


def build_sender(lookup: Lookup, content: StoredTemplate | InlineContent, policy: MissingDataPolicy,
                 default: dict[str, str] | Callable[[], dict[str, str]] | None) -> EmailSender:
    rate = RateLimiter(aws.client("dynamodb"), os.environ["RATE_TABLE_NAME"])
    per_second = float(os.environ["EMAILS_PER_SECOND"])
    domain = os.environ["PROFILES_DOMAIN_NAME"]
    store = profiles.ProfileStore(aws.client("customer-profiles"), domain, "") if domain else None
    unsubscribes = Unsubscribes(aws.client("dynamodb"), os.environ["UNSUBSCRIBES_TABLE_NAME"]) \
        if os.environ["UNSUBSCRIBES_TABLE_NAME"] else None
    consent = Consent(aws.client("sesv2"), contact_list=os.environ["CONTACT_LIST_NAME"],
                      topic=os.environ["TOPIC_NAME"], profile_store=store, unsubscribes=unsubscribes,
                      pace_ses_api=lambda: rate.wait("ses:api", SES_API_REQUESTS_PER_SECOND),
                      pace_profiles=lambda: rate.wait(f"customer-profiles-search:{domain}",
                                                      PROFILE_SEARCHES_PER_SECOND))
    key_arn = os.environ["UNSUBSCRIBE_KEY_ARN"]
    unsubscribe = ListUnsubscribe(os.environ["UNSUBSCRIBE_URL"],
                                  link_secret(aws.client("kms"), key_arn) if key_arn else None)
    markers = ChunkMarkers(aws.client("dynamodb"), os.environ["SENT_TABLE_NAME"])
    return EmailSender(sending_client(), lookup, content, markers, consent, unsubscribe,
                       from_address=os.environ["FROM_ADDRESS"], policy=policy, default_data=default,
                       configuration_set=os.environ["CONFIGURATION_SET_NAME"],
                       pace=pacer(rate, per_second), emails_per_second=per_second,
                       archive=SentArchive.from_environment())
