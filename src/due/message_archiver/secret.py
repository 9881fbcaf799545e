"""The archive's HMAC key: the SecretString of the secret the Message_Archiver stack generates.

The stack creates it with ``GenerateSecretString`` (AWS::SecretsManager::Secret), so its value is a string;
``GetSecretValue`` returns it as ``SecretString`` (Secrets Manager API Reference, GetSecretValue). The key is
its UTF-8 bytes, the same for every reader: the writer, the Pinpoint-mode archiver and the erase command.
"""

from __future__ import annotations

import functools
import os

from due import aws
from due.archive import ArchiveWriter


class SecretMissing(Exception):
    """The secret holds no string (a binary secret, or an empty one): no folder could be derived from it."""


def recipient_secret(secretsmanager_client, secret_arn: str) -> bytes:
    """The HMAC key of the recipient folders, read from the secret ``secret_arn`` (an ARN or a name)."""
    value = secretsmanager_client.get_secret_value(SecretId=secret_arn).get("SecretString") or ""
    if not value:
        raise SecretMissing("the recipient secret has no SecretString; the archive's folders cannot be derived")
    return value.encode()


@functools.cache
def container_secret() -> bytes:
    """The recipient secret of a function that archives (RECIPIENT_SECRET_ARN), read once per container."""
    return recipient_secret(aws.client("secretsmanager"), os.environ["RECIPIENT_SECRET_ARN"])


@functools.cache
def archive_writer() -> ArchiveWriter:
    """The writer of a function that archives (ARCHIVE_BUCKET, RECIPIENT_SECRET_ARN), its secret read once per
    container."""
    return ArchiveWriter(aws.client("s3"), os.environ["ARCHIVE_BUCKET"], container_secret())
