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
opt-out list).
"""

from __future__ import annotations

# Written by phone validation (due.phone_validation).
SMS_MESSAGEABLE = "sms_messageable"  # "true" or "false"
SMS_NOT_MESSAGEABLE_REASON = "sms_not_messageable_reason"
PHONE_TYPE = "phone_type"  # End User Messaging CarrierLookup's PhoneNumberType
PHONE_CARRIER = "phone_carrier"
PHONE_COUNTRY = "phone_country"  # ISO 3166-1 alpha-2

# Read by every sender; "true" means the person opted out of that channel.
EMAIL_OPT_OUT = "email_opt_out"
SMS_OPT_OUT = "sms_opt_out"
