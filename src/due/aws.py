"""AWS clients for every handler: one per service per process, retrying throttles.

boto3 already honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``),
which is how the local emulator and the tests point handlers at moto.
"""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

# "standard" mode retries throttling errors (Throttling, ThrottlingException,
# TooManyRequestsException, ...) and transient 5xx with exponential backoff and
# jitter. Lambda retries whole batches on top of this, so a few attempts suffice.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
)


@functools.cache
def client(service_name: str):
    """The shared client for ``service_name``; created on first use, reused after."""
    return boto3.client(service_name, config=RETRY_CONFIG)


# The error codes botocore's standard retry mode treats as throttling (botocore.retries.standard), plus the
# plain "TooManyRequests" some services send. A caller that still sees one has had all its client's attempts.
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "TooManyRequests", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled", "SlowDown",
})


def is_throttling(error: Exception) -> bool:
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in THROTTLING_CODES


def is_service_fault(error: Exception) -> bool:
    """The service's own failure (HTTP 5xx): the request may or may not have taken effect."""
    return isinstance(error, ClientError) and error.response.get("ResponseMetadata", {}).get(
        "HTTPStatusCode", 0) >= 500


def is_passing(error: Exception) -> bool:
    """Throttling that outlasted the client's retries, or the network: worth trying again later."""
    return is_throttling(error) or isinstance(error, (EndpointConnectionError, ConnectionClosedError,
                                                      ReadTimeoutError))
