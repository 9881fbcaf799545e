"""The profile contract: how every architecture here reads and writes Amazon Connect Customer Profiles.

A person's profile is keyed by the import's id column (a unique key of the
import's object type), with email and phone as lookup keys. Each writer owns
its attributes by name and never rewrites another's: the import writes the
file's columns, phone validation the ``phone_*`` and ``sms_*messageable*``
attributes, event segmentation the attributes its rules name, advanced
segmentation one attribute per segment token. Consent is part of the
contract: a person whose ``email_opt_out`` or ``sms_opt_out`` is ``"true"``
is never sent to on that channel by any sender here (nor is one on the SES
suppression list, unsubscribed from the contact list's topic, or on the SMS
opt-out list). docs/profile_contract.md says this for users.

How the import writes a file's rows (``ProfileStore``). The facts come from the
Amazon Connect Administrator Guide's Customer Profiles chapters ("Field
definitions", "Key definitions", "Standard identifiers", "How object type
mapping works", "Examples of object type mappings") and the Customer
Profiles API reference:

* Rows go in as profile objects of one object type (``BatchPutProfileObject``,
  at most 10 items a call). The object type's key ``customer_id`` on the id
  column is ``PROFILE`` and ``UNIQUE``: re-ingesting an object with the same
  unique value replaces that object, and the same id finds the same profile,
  so importing a person again updates their profile instead of adding one.
* Email and phone are keys with no standard identifier (``_email``,
  ``_phone``, the domain's default search keys): AWS's first mapping example
  indexes email this way, "indexed, but not used to search for the profile".
  They make ``SearchProfiles`` find people by address or number, but never
  decide which profile a row lands on, so two people sharing an address stay
  two profiles. (Even a ``PROFILE`` key matching several profiles is only
  discarded as ambiguous, but one matching the wrong single person would merge.)
* Targets update the standard profile field by field ("standard objects
  accumulate"): a value a row leaves empty is left out of the object and never
  clears what the profile holds; and ingestion does not overwrite a field
  ``UpdateProfile`` set. Profile values hold at most 255 characters (the
  Profile shape's limits), so a longer value is the row's failure, named by its
  column, never quoted (it may be personal data).
* An object type lists each source field explicitly (at most 250 fields, named
  like ``[a-zA-Z][a-zA-Z0-9_.-]*``, at most 64 characters). A file's other
  columns are only known when it arrives, so ``ensure_object_type`` builds the
  definition from the header, reads the current one (``GetProfileObjectType``)
  and puts the union when ours is not in it yet (``PutProfileObjectType``), then
  reads again to see that a concurrent import's put did not drop our fields. The
  definition only grows: a field of an earlier file stays, which costs nothing
  for rows without it. JSON lines rows can bring a new key on any line;
  ``put_rows`` extends the definition the same way before writing such a row.
  Writing the extra columns with ``UpdateProfile`` instead would cost one more
  call per row (no batch API) against the same 100 a second.
* Any column that is not a well-known one becomes the custom attribute
  ``attribute_name(column)``: lower case, each run of other characters than
  ``a-z0-9`` made one ``_``, no ``_`` at either end, ``col_`` in front when it
  would start with a digit; at most 64 characters, because it is also the
  field's name. Two columns with one name, or a column named like phone
  validation's attributes, are refused with both names.
* An opt-out column (``email_opt_out``, ``sms_opt_out``) may record an opt-out
  (true, yes, 1) but never withdraw one: false, no, 0 or empty write nothing.

Quotas ("Amazon Connect service quotas", Customer Profiles API throttling):
PutProfileObject, UpdateProfile and SearchProfiles 100 a second each,
GetProfileObjectType 10, PutProfileObjectType 1; BatchPutProfileObject is not
in the table, so the caller's ``pace`` is called before every write call and
throttling left over is retried by botocore (``due.aws``'s standard retry mode
retries ThrottlingException, HTTP 429).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from due.s3_triggered_import.rows import ImportRow, RowFailure

__all__ = ["ImportRow", "ProfileStore", "RowFailure", "attribute_name"]

# Written by phone validation (due.phone_validation).
SMS_MESSAGEABLE = "sms_messageable"  # "true" or "false"
SMS_NOT_MESSAGEABLE_REASON = "sms_not_messageable_reason"
PHONE_TYPE = "phone_type"  # End User Messaging CarrierLookup's PhoneNumberType
PHONE_CARRIER = "phone_carrier"
PHONE_COUNTRY = "phone_country"  # ISO 3166-1 alpha-2

# Read by every sender; "true" means the person opted out of that channel.
EMAIL_OPT_OUT = "email_opt_out"
SMS_OPT_OUT = "sms_opt_out"

# What another writer computes for a row and passes to put_rows as ``extra``; a file column may not write these.
PHONE_VALIDATION_ATTRIBUTES = (SMS_MESSAGEABLE, SMS_NOT_MESSAGEABLE_REASON, PHONE_TYPE, PHONE_CARRIER, PHONE_COUNTRY)
OPT_OUT_ATTRIBUTES = (EMAIL_OPT_OUT, SMS_OPT_OUT)

ID_KEY = "customer_id"  # the object type's PROFILE and UNIQUE key; the id is also the attribute of this name
EMAIL_KEY = "_email"
PHONE_KEY = "_phone"
PROFILE_ID_KEY = "_profileId"  # SearchProfiles' predefined key for the profile id itself

MAX_VALUE_LENGTH = 255  # Profile fields and attribute values (API reference, Profile and UpdateProfile)
MAX_FIELD_NAME_LENGTH = 64  # ObjectTypeField map keys (PutProfileObjectType)
MAX_FIELDS = 250  # "An object type can define up to 250 fields" (Administrator Guide, field definitions)
BATCH_SIZE = 10  # BatchPutProfileObject: Items, 1 to 10
ITEM_ATTEMPTS = 3  # an item the batch answers with 429 or 5xx is sent again this many times in all

_OPTED_OUT, _NOT_OPTED_OUT = {"true", "yes", "1"}, {"false", "no", "0"}


def says_opted_out(value: str | None) -> bool:
    """Whether an opt-out column or attribute's value records an opt-out (true, yes or 1, in any case)."""
    return (value or "").strip().lower() in _OPTED_OUT


@dataclass(frozen=True)
class _Standard:
    target: str
    content_type: str = "STRING"
    key: str | None = None  # an index-only key: searchable, never used to match a profile


# Well-known columns: field name (also the object's key) -> where it goes in the standard profile.
_STANDARD = {
    "email": _Standard("_profile.EmailAddress", "EMAIL_ADDRESS", EMAIL_KEY),
    "phone": _Standard("_profile.PhoneNumber", "PHONE_NUMBER", PHONE_KEY),
    "first_name": _Standard("_profile.FirstName", "NAME"),
    "last_name": _Standard("_profile.LastName", "NAME"),
    "address1": _Standard("_profile.Address.Address1"),
    "address2": _Standard("_profile.Address.Address2"),
    "city": _Standard("_profile.Address.City"),
    "county": _Standard("_profile.Address.County"),
    "state": _Standard("_profile.Address.State"),
    "province": _Standard("_profile.Address.Province"),
    "postal_code": _Standard("_profile.Address.PostalCode"),
    "country": _Standard("_profile.Address.Country"),
}
# Column names (as attribute_name spells them) that mean a well-known field.
_ALIASES = {name: name for name in _STANDARD} | {
    "email_address": "email", "emailaddress": "email", "e_mail": "email",
    "phone_number": "phone", "phonenumber": "phone", "mobile": "phone", "mobile_phone": "phone",
    "mobile_number": "phone", "cell": "phone",
    "firstname": "first_name", "given_name": "first_name",
    "lastname": "last_name", "surname": "last_name", "family_name": "last_name",
    "address": "address1", "address_1": "address1", "address_line_1": "address1", "street": "address1",
    "address_2": "address2", "address_line_2": "address2",
    "postalcode": "postal_code", "postcode": "postal_code", "zip": "postal_code", "zip_code": "postal_code",
    "zipcode": "postal_code",
}


def standard_column(column: str) -> str:
    """The well-known column a file's column stands for ("Email Address" -> "email", "Mobile" -> "phone"),
    or its attribute name when it is no well-known one."""
    name = attribute_name(column)
    return _ALIASES.get(name, name)


def attribute_name(column: str) -> str:
    """The custom attribute (and object type field) a file column becomes; ValueError names an unusable column."""
    name = re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")
    if not name:
        raise ValueError(f"column {column!r} has no letter or digit to name an attribute after")
    if name[0].isdigit():
        name = f"col_{name}"
    if len(name) > MAX_FIELD_NAME_LENGTH:
        raise ValueError(f"column {column!r} gives an attribute name longer than {MAX_FIELD_NAME_LENGTH} "
                         "characters; shorten the column name")
    return name


def utf16_length(value: str) -> int:
    # The API's length constraints are Java string lengths: UTF-16 code units (a character beyond U+FFFF is 2).
    return len(value.encode("utf-16-le")) // 2


def _column_fields(columns: Iterable[str], id_column: str) -> dict[str, str]:
    """column -> object type field name, for every column but the id column; ValueError names clashing columns."""
    fields: dict[str, str] = {}
    owner: dict[str, str] = {}
    for column in columns:
        if column == id_column:
            continue
        name = attribute_name(column)
        field = _ALIASES.get(name, name)
        if field in PHONE_VALIDATION_ATTRIBUTES:
            raise ValueError(f"column {column!r} would write {field!r}, which phone validation owns; rename it")
        if field == ID_KEY:
            raise ValueError(f"column {column!r} would write {ID_KEY!r}, which holds the id column; rename it")
        if field in owner:
            raise ValueError(f"columns {owner[field]!r} and {column!r} both write {field!r}; keep one")
        owner[field], fields[column] = column, field
    return fields


def _field_definition(field: str) -> dict[str, str]:
    standard = _STANDARD.get(field)
    if standard:
        return {"Source": f"_source.{field}", "Target": standard.target, "ContentType": standard.content_type}
    return {"Source": f"_source.{field}", "Target": f"_profile.Attributes.{field}", "ContentType": "STRING"}


def _keys(fields: Iterable[str]) -> dict[str, list[dict]]:
    keys: dict[str, list[dict]] = {ID_KEY: [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": [ID_KEY]}]}
    for field in fields:
        standard = _STANDARD.get(field)
        if standard and standard.key:
            keys[standard.key] = [{"FieldNames": [field]}]  # no identifier: indexed for search only
    return keys


def _same_mapping(current: dict | None, wanted: dict[str, str]) -> bool:
    return bool(current) and current.get("Source") == wanted["Source"] and current.get("Target") == wanted["Target"]


def _key_signature(keys: dict | None) -> dict:
    return {name: sorted((sorted(d.get("StandardIdentifiers") or []), list(d.get("FieldNames") or []))
                         for d in definitions) for name, definitions in (keys or {}).items()}


@functools.lru_cache(maxsize=64)
def _header_fields(columns: tuple[str, ...], id_column: str) -> dict[str, str]:
    return _column_fields(columns, id_column)  # rows of one file share a header: name its columns once


class ProfileStore:
    """One domain's profiles, written through one object type. ``client`` is a customer-profiles client."""

    def __init__(self, client, domain: str, object_type: str, pace: Callable[[], None] = lambda: None):
        self._client, self._domain, self._object_type, self._pace = client, domain, object_type, pace
        self._fields: set[str] | None = None  # the object type's fields, once read or written here

    # --- the object type ----------------------------------------------------
    def ensure_object_type(self, columns: list[str], id_column: str, expiration_days: int) -> None:
        """Makes the object type map these columns (ValueError names a column that cannot be mapped)."""
        if id_column not in columns:
            raise ValueError(f"the id column {id_column!r} is not among the file's columns")
        wanted = set(_column_fields(columns, id_column).values())
        if self._fields is not None and wanted <= self._fields:
            return  # this store read or wrote the definition already, and it maps these columns: no call
        self._ensure_fields(wanted, expiration_days)

    def _ensure_fields(self, wanted: set[str], expiration_days: int | None) -> None:
        """Puts the union of the current definition and these fields unless it is there already."""
        definitions = {field: _field_definition(field) for field in wanted | {ID_KEY, *PHONE_VALIDATION_ATTRIBUTES}}
        written = False
        for _ in range(3):  # a concurrent import may put its own union between our read and our put
            current = self._current_object_type()
            fields = dict((current or {}).get("Fields") or {})
            if current and all(_same_mapping(fields.get(f), d) for f, d in definitions.items()) and (written or (
                    current.get("AllowProfileCreation") and expiration_days in (None, current.get("ExpirationDays"))
                    and _key_signature(current.get("Keys")) == _key_signature(_keys(fields)))):
                self._fields = set(fields)
                return
            if current is None and expiration_days is None:
                raise ValueError(f"the object type {self._object_type} does not exist yet: call "
                                 "ensure_object_type first")
            fields.update(definitions)
            if len(fields) > MAX_FIELDS:
                raise ValueError(f"the object type {self._object_type} would need {len(fields)} fields; Customer "
                                 f"Profiles allows {MAX_FIELDS}: drop columns, or use another object type")
            days = expiration_days or current.get("ExpirationDays")
            self._pace()
            self._client.put_profile_object_type(
                DomainName=self._domain, ObjectTypeName=self._object_type,
                Description="Contacts imported from files by the S3 triggered import; one object per id.",
                AllowProfileCreation=True,  # the default, false, rejects a row whose person has no profile yet
                Fields=fields, Keys=_keys(fields), **({"ExpirationDays": days} if days else {}))
            written = True
        raise RuntimeError(f"the object type {self._object_type} kept changing under us; try again")

    def _current_object_type(self) -> dict | None:
        try:
            return self._client.get_profile_object_type(DomainName=self._domain, ObjectTypeName=self._object_type)
        except self._client.exceptions.ResourceNotFoundException:
            return None

    # --- rows ---------------------------------------------------------------
    def put_rows(self, rows: Iterable[ImportRow], id_column: str,
                 extra: dict[int, dict[str, str]] | None = None) -> list[RowFailure]:
        """Writes the rows, in order, 10 a call; returns the rows that were not written, with the reason.

        ``extra``: per row number, phone validation's attributes for that row. A row appears at most once
        per call, so the later of two rows for one person is written later. Raises what botocore could
        not retry (the caller's task retries the chunk; rows already written are written again, harmlessly)."""
        failures: list[RowFailure] = []
        batch: list[tuple[int, str]] = []
        ids_in_batch: set[str] = set()
        for row in rows:
            prepared = self._object(row, id_column, (extra or {}).get(row.row_number, {}))
            if isinstance(prepared, RowFailure):
                failures.append(prepared)
                continue
            person, document = prepared
            if person in ids_in_batch or len(batch) == BATCH_SIZE:
                failures += self._put_batch(batch)
                batch, ids_in_batch = [], set()
            batch.append((row.row_number, document))
            ids_in_batch.add(person)
        if batch:
            failures += self._put_batch(batch)
        return sorted(failures, key=lambda failure: failure.row_number)

    def _object(self, row: ImportRow, id_column: str, extra: dict[str, str]) -> tuple[str, str] | RowFailure:
        """(id, the object's JSON) for the row, or why it cannot be written."""
        person = (row.fields.get(id_column) or "").strip()
        if not person:
            return RowFailure(row.row_number, f"no value in the id column {id_column!r}")
        if utf16_length(person) > MAX_VALUE_LENGTH:
            return RowFailure(row.row_number, f"the id column {id_column!r} is longer than {MAX_VALUE_LENGTH} "
                                              "characters")
        try:
            fields = _header_fields(tuple(row.fields), id_column)
        except ValueError as error:
            return RowFailure(row.row_number, str(error))
        document = {ID_KEY: person}
        for column, field in fields.items():
            value = (row.fields[column] or "").strip()
            if field in OPT_OUT_ATTRIBUTES:
                if value.lower() not in _OPTED_OUT | _NOT_OPTED_OUT | {""}:
                    return RowFailure(row.row_number, f"column {column!r} must be true, yes, 1, false, no, 0 or empty")
                value = "true" if value.lower() in _OPTED_OUT else ""  # never withdraws an opt-out
            if not value:
                continue  # an empty value leaves what the profile holds
            if utf16_length(value) > MAX_VALUE_LENGTH:
                return RowFailure(row.row_number, f"column {column!r} is longer than {MAX_VALUE_LENGTH} characters, "
                                                  "the most a profile value holds")
            document[field] = value
        for name, value in extra.items():
            if name not in PHONE_VALIDATION_ATTRIBUTES:
                raise ValueError(f"extra attribute {name!r} is not one the import writes for another writer")
            if utf16_length(value) > MAX_VALUE_LENGTH:
                return RowFailure(row.row_number, f"attribute {name!r} is longer than {MAX_VALUE_LENGTH} characters")
            document[name] = value
        if self._fields is None or not set(document) <= self._fields:
            self._ensure_fields(set(document), None)  # a JSON line with a key no earlier row had
        return person, json.dumps(document, ensure_ascii=False)

    def _put_batch(self, batch: list[tuple[int, str]]) -> list[RowFailure]:
        pending, failures = batch, []
        for _ in range(ITEM_ATTEMPTS):
            self._pace()
            response = self._client.batch_put_profile_object(
                DomainName=self._domain, ObjectTypeName=self._object_type,
                Items=[{"Id": str(number), "Object": document} for number, document in pending])
            # Each failed item: its Id, the HTTP status code and a message (BatchPutProfileObjectErrorItem). The
            # message is left out of the reason: it may quote the row's values.
            codes = {int(item["Id"]): item["Code"] for item in response.get("Failed", [])}
            retry = []
            for number, document in pending:
                code = codes.get(number)
                if code is not None and (code == 429 or code >= 500):
                    retry.append((number, document))
                elif code is not None:
                    failures.append(RowFailure(number, f"Customer Profiles refused the row (HTTP {code})"))
            pending = retry
            if not pending:
                return failures
        return failures + [RowFailure(number, f"Customer Profiles still refused the row after {ITEM_ATTEMPTS} "
                                              f"attempts (HTTP {codes[number]})") for number, _ in pending]

    # --- reading and other writers ------------------------------------------
    def find(self, *, email: str | None = None, phone: str | None = None, key: str | None = None,
             profile_id: str | None = None, limit: int | None = None) -> list[dict]:
        """The profiles with this email address, phone number, import id (``key``) or Customer Profiles profile
        id (exactly one of them), as SearchProfiles returns them; at most about ``limit`` (no more pages are read
        once it is reached)."""
        criteria = [(name, value) for name, value in ((EMAIL_KEY, email), (PHONE_KEY, phone), (ID_KEY, key),
                                                       (PROFILE_ID_KEY, profile_id)) if value is not None]
        if len(criteria) != 1:
            raise ValueError("find takes exactly one of email, phone, key or profile_id")
        (key_name, value), = criteria
        profiles, token = [], None
        while True:
            page = self._client.search_profiles(DomainName=self._domain, KeyName=key_name, Values=[value],
                                                MaxResults=min(limit or 100, 100),
                                                **({"NextToken": token} if token else {}))
            profiles += page.get("Items", [])
            token = page.get("NextToken")
            if not token or (limit is not None and len(profiles) >= limit):
                return profiles

    def set_attributes(self, profile_id: str, attributes: dict[str, str]) -> None:
        """Sets these custom attributes of one profile and no others ("" removes one: UpdateProfile keeps what
        a request leaves out and removes what it sets to an empty string). Last writer wins: there is no
        conditional write, so each attribute has one writer (the contract)."""
        self.set_attributes_check(attributes)
        if attributes:
            self._pace()
            self._client.update_profile(DomainName=self._domain, ProfileId=profile_id, Attributes=attributes)

    def create(self, attributes: dict[str, str], *, email: str | None = None, phone: str | None = None) -> str:
        """A new profile with this email address or number and these custom attributes (CreateProfile); its id.

        For writers that may create people (an event segmentation rule with ``create_profile``): the import's
        object type never sees them, so they carry no import id until a file names them."""
        attributes = {name: value for name, value in attributes.items() if value != ""}  # nothing to remove yet
        self.set_attributes_check(attributes)
        self._pace()
        fields = {"EmailAddress": email} if email else {}
        fields |= {"PhoneNumber": phone} if phone else {}
        return self._client.create_profile(DomainName=self._domain, Attributes=attributes, **fields)["ProfileId"]

    @staticmethod
    def set_attributes_check(attributes: dict[str, str]) -> None:
        """Refuses what the service would: attribute names of 1 to 255 characters, values of at most 255."""
        for name, value in attributes.items():
            if not 1 <= utf16_length(name) <= MAX_VALUE_LENGTH:
                raise ValueError(f"attribute name {name[:40]!r} must be 1 to {MAX_VALUE_LENGTH} characters")
            if utf16_length(value) > MAX_VALUE_LENGTH:
                raise ValueError(f"attribute {name!r} is longer than {MAX_VALUE_LENGTH} characters")
