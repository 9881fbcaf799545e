"""The List-Unsubscribe headers every message carries, one recipient at a time.

SendBulkEmail takes no ``ListManagementOptions``, so SES adds no unsubscribe headers for a bulk send; each
destination's own headers go in its ``ReplacementHeaders`` (SES v2 API reference, BulkEmailEntry: a header
named there takes precedence over the same header of the template, or is added). Per RFC 2369 the header holds
one or more URIs in angle brackets; per RFC 8058 ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` says
the https URI accepts a one-click POST, and is only given with an https URI. SES accepts each of the two
headers once (Developer Guide, "Amazon SES header fields"); a header value is printable ASCII of at most 870
characters (API reference, MessageHeader).

The URI is the stack's unsubscribe function (``unsubscribe_handler``), signed per address, or one the user
names: a ``{address}`` in it is replaced by the URL-encoded address, so the user's service knows who clicked.

The signing secret is derived from the stack's KMS HMAC key once per process (``link_secret``: KMS
GenerateMac of a fixed message, HMAC_SHA_256; KMS API reference, GenerateMac), so the key material never
leaves KMS, nothing secret is stored, and the sender and the unsubscribe function derive the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

MAX_HEADER_VALUE = 870
ONE_CLICK = {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}


class HeaderTooLong(ValueError):
    """The unsubscribe URI does not fit an SES header value."""


_DERIVATION_MESSAGE = b"due.send_time List-Unsubscribe link secret, version 1"


def link_secret(kms, key_arn: str) -> bytes:
    return kms.generate_mac(KeyId=key_arn, Message=_DERIVATION_MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"]


def sign(secret: bytes, address: str) -> str:
    return hmac.new(secret, address.lower().encode(), hashlib.sha256).hexdigest()


def encode_address(address: str) -> str:
    return base64.urlsafe_b64encode(address.lower().encode()).decode().rstrip("=")


def decode_address(encoded: str) -> str:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


class ListUnsubscribe:
    def __init__(self, url: str, secret: bytes | None = None):
        """``url``: the stack's unsubscribe function URL (then ``secret`` signs each address), or the user's."""
        if not url:
            raise ValueError("an unsubscribe URL is required: every message carries List-Unsubscribe")
        self._url, self._secret = url, secret

    def uri(self, address: str) -> str:
        if self._secret is not None:
            query = urllib.parse.urlencode({"a": encode_address(address), "t": sign(self._secret, address)})
            return f"{self._url}{'&' if '?' in self._url else '?'}{query}"
        return self._url.replace("{address}", urllib.parse.quote(address.lower(), safe=""))

    def headers(self, address: str) -> list[dict[str, str]]:
        uri = self.uri(address)
        value = f"<{uri}>"
        if len(value) > MAX_HEADER_VALUE or not value.isascii():
            raise HeaderTooLong(f"the List-Unsubscribe value is {len(value)} characters (SES takes printable "
                                f"ASCII up to {MAX_HEADER_VALUE})")
        headers = [{"Name": "List-Unsubscribe", "Value": value}]
        if uri.startswith("https://"):
            headers.append(dict(ONE_CLICK))
        return headers
