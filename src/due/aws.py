"""AWS clients for every handler: one per service per process, retrying throttles.

boto3 already honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``),
which is how the local emulator and the tests point handlers at moto.
"""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config

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
