"""Phone number validation for the import: each distinct number is looked up once, in bounded memory.

``PhoneValidator.validate(raw)``:
1. parses ``raw`` with the ``phonenumbers`` library, applying the default country to a number written
   without ``+country``: the lookups take E.164 only (CarrierLookup's ``PhoneNumber`` must start with
   ``+``: pattern ``\\+[({\\s\\[]?[1-9][0-9(){}\\s\\[\\],.-]{1,38}``, End User Messaging SMS API reference).
   Text that is not a number, or is too short or too long to be one of its country's numbers
   (``is_possible_number``), gets its verdict here, without a lookup (each lookup is charged: "There is an
   additional charge for using the carrier lookup service", End User Messaging SMS user guide, "Use the
   carrier lookup service"). Whether a possible number is really assigned is the service's to say: the
   library's number ranges are as old as its pinned version;
2. answers from a per-process LRU memo of at most ``memo_size`` numbers;
3. else from the cache table (partition key ``number``), whose items carry ``expires_at`` (epoch seconds,
   the table's TTL attribute). DynamoDB deletes expired items lazily, "typically within two days", and they
   "still show up in reads" until then (DynamoDB API reference, UpdateTimeToLive), so a read checks
   ``expires_at`` itself;
4. else asks the service (``lookups`` counts these calls) and writes the verdict to the table for
   ``cache_days``.

Which line types are messageable by SMS (``MESSAGEABLE_TYPES``): MOBILE and PREPAID (a prepaid line is a
mobile subscription paid in advance) and VOIP (many VoIP services receive SMS; a send that fails shows in
the delivery events at the price of one message, while refusing them would silently drop people who can be
reached). LANDLINE, INVALID and OTHER (the service could not say what the line is) are not: their reason is
the type in lower case. The types are CarrierLookup's PhoneNumberType (MOBILE, LANDLINE, VOIP, PREPAID,
OTHER, INVALID; the pinpoint-sms-voice-v2 service model) and PhoneNumberValidate's PhoneType ("MOBILE,
LANDLINE, VOIP, INVALID, PREPAID, and OTHER", Pinpoint API reference, NumberValidateResponse).

A request the service refuses for this number (CarrierLookup's ValidationException, PhoneNumberValidate's
BadRequestException) gives a not-messageable verdict kept in the memo only: the file does not ask twice,
but the refusal is not recorded for ``cache_days`` (it is about our request, not the line, and the next
file asks again at the price of one lookup). Throttling is retried by the client (due.aws: botocore's
standard mode retries ThrottlingException and TooManyRequestsException); when it persists, and for every
other error (access denied, spend quota, server errors), the exception propagates: those are not facts
about one number, and marking every number unmessageable would hide them.

No number is logged here.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from botocore.exceptions import ClientError

from due import profiles

MESSAGEABLE_TYPES = frozenset({"MOBILE", "PREPAID", "VOIP"})

# Reasons given by our own parsing, before any lookup.
NO_NUMBER = "no number"
UNPARSEABLE = "not a phone number"
IMPOSSIBLE = "impossible number"


@dataclass(frozen=True)
class PhoneVerdict:
    e164: str | None
    messageable: bool
    reason: str | None  # why not messageable; None when messageable
    phone_type: str | None
    carrier: str | None
    country: str | None  # ISO 3166-1 alpha-2

    def attributes(self) -> dict[str, str]:
        """The profile contract's attributes; values the verdict lacks are left out (a profile attribute
        value is 1 to 255 characters, Customer Profiles API reference)."""
        values = {
            profiles.SMS_MESSAGEABLE: "true" if self.messageable else "false",
            profiles.SMS_NOT_MESSAGEABLE_REASON: self.reason,
            profiles.PHONE_TYPE: self.phone_type,
            profiles.PHONE_CARRIER: self.carrier,
            profiles.PHONE_COUNTRY: self.country,
        }
        return {name: value[:255] for name, value in values.items() if value}


def verdict_for(e164: str, phone_type: str | None, carrier: str | None, country: str | None) -> PhoneVerdict:
    """The verdict for a line type the service reported (an unknown or missing type is not messageable)."""
    phone_type = phone_type or "UNKNOWN"
    messageable = phone_type in MESSAGEABLE_TYPES
    return PhoneVerdict(e164=e164, messageable=messageable, reason=None if messageable else phone_type.lower(),
                        phone_type=phone_type, carrier=carrier or None, country=country or None)


class LookupRefused(Exception):
    """The service refused the request for this one number (not throttling, not a fault of the account)."""


class PhoneValidator:
    def __init__(self, lookup: Callable[[str], PhoneVerdict], dynamodb, cache_table: str, default_country: str,
                 cache_days: int, memo_size: int = 10_000, clock: Callable[[], float] = time.time):
        default_country = default_country.upper()
        if default_country not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"default country {default_country!r} is not an ISO 3166-1 alpha-2 code "
                             "with a numbering plan")
        if cache_days < 1 or memo_size < 1:
            raise ValueError(f"cache_days ({cache_days}) and memo_size ({memo_size}) must be at least 1")
        self._lookup, self._dynamodb, self._table = lookup, dynamodb, cache_table
        self._country, self._keep_seconds, self._memo_size = default_country, cache_days * 86_400, memo_size
        self._clock = clock
        self._memo: OrderedDict[str, tuple[PhoneVerdict, float]] = OrderedDict()  # e164 -> (verdict, expires_at)
        self.lookups = 0  # service calls made

    def validate(self, raw: str) -> PhoneVerdict:
        e164_or_verdict = self._parse(raw)
        if isinstance(e164_or_verdict, PhoneVerdict):
            return e164_or_verdict
        e164, now = e164_or_verdict, self._clock()
        remembered = self._memo.get(e164)
        if remembered and remembered[1] > now:
            self._memo.move_to_end(e164)
            return remembered[0]
        cached = self._read_cache(e164, now)
        if cached:
            self._remember(e164, *cached)
            return cached[0]
        self.lookups += 1
        try:
            verdict = self._lookup(e164)
        except LookupRefused as refusal:
            verdict = PhoneVerdict(e164, False, f"lookup refused: {refusal}", None, None, None)
            self._remember(e164, verdict, now + self._keep_seconds)  # this process only, see the module's text
            return verdict
        expires_at = now + self._keep_seconds
        self._write_cache(e164, verdict, expires_at)
        self._remember(e164, verdict, expires_at)
        return verdict

    def _parse(self, raw: str) -> str | PhoneVerdict:
        if not raw or not raw.strip():
            return PhoneVerdict(None, False, NO_NUMBER, None, None, None)
        try:
            number = phonenumbers.parse(raw, self._country)
        except phonenumbers.NumberParseException:
            return PhoneVerdict(None, False, UNPARSEABLE, None, None, None)
        if not phonenumbers.is_possible_number(number):
            return PhoneVerdict(None, False, IMPOSSIBLE, None, None, phonenumbers.region_code_for_number(number))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def _remember(self, e164: str, verdict: PhoneVerdict, expires_at: float) -> None:
        self._memo[e164] = (verdict, expires_at)
        self._memo.move_to_end(e164)
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)

    def _read_cache(self, e164: str, now: float) -> tuple[PhoneVerdict, float] | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"number": {"S": e164}}).get("Item")
        if not item or float(item["expires_at"]["N"]) <= now:
            return None

        def text(name: str) -> str | None:
            return item[name]["S"] if name in item else None

        verdict = PhoneVerdict(text("e164"), item["messageable"]["BOOL"], text("reason"), text("phone_type"),
                               text("carrier"), text("country"))
        return verdict, float(item["expires_at"]["N"])

    def _write_cache(self, e164: str, verdict: PhoneVerdict, expires_at: float) -> None:
        item = {"number": {"S": e164}, "messageable": {"BOOL": verdict.messageable},
                "expires_at": {"N": str(int(expires_at))}}
        for name in ("e164", "reason", "phone_type", "carrier", "country"):
            if getattr(verdict, name):
                item[name] = {"S": getattr(verdict, name)}
        self._dynamodb.put_item(TableName=self._table, Item=item)


def _refusal_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def carrier_lookup(sms_voice_v2) -> Callable[[str], PhoneVerdict]:
    """End User Messaging SMS ``CarrierLookup`` (the current mode)."""

    def lookup(e164: str) -> PhoneVerdict:
        try:
            answer = sms_voice_v2.carrier_lookup(PhoneNumber=e164)
        except ClientError as error:
            if _refusal_code(error) == "ValidationException":
                raise LookupRefused("ValidationException") from error
            raise
        return verdict_for(answer.get("E164PhoneNumber") or e164, answer.get("PhoneNumberType"),
                           answer.get("Carrier"), answer.get("IsoCountryCode"))

    return lookup


def pinpoint_phone_number_validate(pinpoint) -> Callable[[str], PhoneVerdict]:
    """Pinpoint ``PhoneNumberValidate`` (the Pinpoint mode; the API continues under End User Messaging).

    The number is already E.164, so ``IsoCountryCode`` (the country to read a national number in) is left
    out: the request's number carries its country code, as the API reference asks."""

    def lookup(e164: str) -> PhoneVerdict:
        try:
            answer = pinpoint.phone_number_validate(NumberValidateRequest={"PhoneNumber": e164})
        except ClientError as error:
            if _refusal_code(error) == "BadRequestException":
                raise LookupRefused("BadRequestException") from error
            raise
        response = answer["NumberValidateResponse"]
        return verdict_for(response.get("CleansedPhoneNumberE164") or e164, response.get("PhoneType"),
                           response.get("Carrier"), response.get("CountryCodeIso2"))

    return lookup
