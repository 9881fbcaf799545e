"""Who may be called, and when: E.164 numbers in allowed countries, inside the calling window.

* ``refusal(number)``: why a number must not be dialled, or None. A number must be E.164 ("+", then 2 to
  15 digits, the first not 0: the pattern of StartOutboundVoiceContact's DestinationPhoneNumber,
  ``\\+[1-9]\\d{1,14}$``, Amazon Connect API reference) and, when ``allowed_countries`` is given, belong to
  one of those ISO 3166 countries (found by its calling code and number plan with ``phonenumbers``; +1
  numbers are told apart by area code: US, CA, PR...). An unparseable number is "invalid number".
* ``wait_seconds(time_zone, now)``: 0 inside the window, else the seconds until it opens. The window is local
  hours ``[start_hour, end_hour)`` in the recipient's time zone when the row or endpoint names a valid IANA
  zone, else in ``default_time_zone`` (the instance's, a stack parameter: Connect's API has no instance
  time zone to read). A row outside its window is held, never dropped (the dialler keeps its queue message
  invisible until the window opens).
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

E164 = re.compile(r"\+[1-9]\d{1,14}")


class CallRules:
    def __init__(self, allowed_countries: frozenset[str] = frozenset(), start_hour: int = 0, end_hour: int = 24,
                 default_time_zone: str = "UTC"):
        # The template's rule CallingWindowIsASpanOfHours refuses such a window at deploy; this names the
        # parameters for anyone who builds the rules otherwise (every call fails with it, none is dropped).
        if not 0 <= start_hour < end_hour <= 24:
            raise ValueError(f"configuration: the calling window {start_hour}-{end_hour} is not a span of hours in "
                             "one day (CallingWindowStartHour must be below CallingWindowEndHour)")
        self.allowed = frozenset(c.strip().upper() for c in allowed_countries if c.strip())
        self.start_hour, self.end_hour = start_hour, end_hour
        try:
            self.default_zone = ZoneInfo(default_time_zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"configuration: DefaultTimeZone {default_time_zone!r} is not an IANA time zone "
                             "(e.g. America/New_York)") from None

    def refusal(self, number: str) -> tuple[str, str] | None:
        """(outcome, reason) for a number that must not be dialled, or None."""
        if not E164.fullmatch(number):
            return "invalid number", "not an E.164 number (+, country code and number, 15 digits at most)"
        try:
            parsed = phonenumbers.parse(number, None)
        except phonenumbers.NumberParseException:
            return "invalid number", "not a phone number of any country"
        if not phonenumbers.is_possible_number(parsed):
            return "invalid number", "too short or too long for its country"
        country = phonenumbers.region_code_for_number(parsed) or ""
        if self.allowed and country not in self.allowed:
            return "refused", f"country {country or 'unknown'} is not among the allowed countries"
        return None

    def zone(self, time_zone: str) -> ZoneInfo:
        try:
            return ZoneInfo(time_zone) if time_zone else self.default_zone
        except (ZoneInfoNotFoundError, ValueError):
            return self.default_zone  # a zone the data gets wrong does not stop the call: the default holds

    def wait_seconds(self, time_zone: str, now: datetime.datetime) -> int:
        local = now.astimezone(self.zone(time_zone))
        hour = local.hour + local.minute / 60 + local.second / 3600
        if self.start_hour <= hour < self.end_hour:
            return 0
        opens = local.replace(hour=self.start_hour, minute=0, second=0, microsecond=0)
        if hour >= self.end_hour:
            opens += datetime.timedelta(days=1)
        # Across a daylight-saving change the wall clock jumps: count real seconds between the two instants.
        opens = opens.replace(tzinfo=local.tzinfo)
        return max(1, int((opens.astimezone(datetime.UTC) - now.astimezone(datetime.UTC)).total_seconds()))
