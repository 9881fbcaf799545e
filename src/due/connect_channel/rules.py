"""Who may be called, and when: E.164 numbers in allowed countries, inside the calling window.

* ``refusal(number)``: why a number must not be dialled, or None. A number must be E.164 ("+", then 2 to
  15 digits, the first not 0: the pattern of StartOutboundVoiceContact's DestinationPhoneNumber,
  ``\\+[1-9]\\d{1,14}$``, Amazon Connect API reference) and, when ``allowed_countries`` is given, belong to
  one of those ISO 3166 countries (found by its calling code and number plan with ``phonenumbers``; +1
  numbers are told apart by area code: US, CA, PR...). An unparseable number is "invalid number".
* ``window(time_zone, number, now)``: when the call may start. The window is local hours
  ``[start_hour, end_hour)``, in the recipient's time zone when the row or endpoint names a valid IANA zone;
  otherwise in every time zone of the number's country at once (a country's zones from the tz database's
  ``zone.tab``, which comes with the time zone data zoneinfo reads: the United States' run from New York to
  Honolulu, so a row without a zone is called only when it is inside the window in all of them); only for a
  country the table lacks, in ``default_time_zone`` (a stack parameter). A zone the row names that the data
  lacks is not silently replaced: the outcome's reason says so. ``wait`` is 0 inside the window, else the
  seconds until it opens everywhere (the row is held, never dropped), or None when it never does (a window
  shorter than the country's spread of zones): the dialler refuses the call with the reason.
* ``wait_seconds(time_zone, now)``: the same for one zone (the named one, else ``default_time_zone``).
"""

from __future__ import annotations

import datetime
import functools
import importlib.resources
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

E164 = re.compile(r"\+[1-9]\d{1,14}")


LOOK_AHEAD = datetime.timedelta(days=2)  # a window open in every zone at once opens within a day, if ever


@functools.cache
def zones_by_country() -> dict[str, tuple[str, ...]]:
    """ISO country code -> its IANA zones, from ``zone.tab`` (tab-separated: country code, coordinates, zone,
    comments; "#" lines are comments) in the first directory of zoneinfo's search path that has one."""
    tables = [Path(directory) / "zone.tab" for directory in zoneinfo.TZPATH]
    # The tzdata package (bundled in the zip) carries the same table where the OS has no time zone data.
    tables.append(importlib.resources.files("tzdata") / "zoneinfo" / "zone.tab")
    for table in tables:
        if table.is_file():
            zones: dict[str, list[str]] = {}
            for line in table.read_text(encoding="utf-8").splitlines():
                fields = line.split("\t")
                if not line.startswith("#") and len(fields) >= 3:
                    zones.setdefault(fields[0], []).append(fields[2])
            return {country: tuple(names) for country, names in zones.items()}
    return {}


@dataclass(frozen=True)
class Window:
    wait: int | None  # 0: open now; seconds until it opens in every zone; None: it never does
    note: str = ""  # what the outcome should say about the zones used ("" when the row's own zone was used)
    place: str = ""  # the country whose zones were used, for a refusal's reason


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
            return self.default_zone

    def zones_for(self, time_zone: str, number: str) -> tuple[list[ZoneInfo], str, str]:
        """(the zones the window must be open in, a note for the outcome, the country used)."""
        note = ""
        if time_zone:
            try:
                return [ZoneInfo(time_zone)], "", ""
            except (ZoneInfoNotFoundError, ValueError):
                note = f"the time zone {time_zone[:64]!r} is unknown; "
        try:
            country = phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
        except phonenumbers.NumberParseException:
            country = ""
        zones = []
        for name in zones_by_country().get(country, ()):
            try:
                zones.append(ZoneInfo(name))
            except (ZoneInfoNotFoundError, ValueError):
                continue
        if zones:
            return zones, f"{note}the window was checked in every time zone of {country}" if note else "", country
        fallback = f"{note}no time zones known for {country or 'the number'}: DefaultTimeZone used"
        return [self.default_zone], fallback, ""

    def window(self, time_zone: str, number: str, now: datetime.datetime) -> Window:
        zones, note, country = self.zones_for(time_zone, number)
        return Window(self._wait_in(zones, now), note, country)

    def wait_seconds(self, time_zone: str, now: datetime.datetime) -> int:
        return self._wait_in([self.zone(time_zone)], now) or 0

    def _wait_in(self, zones: list[ZoneInfo], now: datetime.datetime) -> int | None:
        # Jump to the latest next opening of the zones closed at t: before it one of them is still closed, so
        # no common open instant is skipped; then look again (a zone open at t may have closed since).
        at = now.astimezone(datetime.UTC)
        while at - now < LOOK_AHEAD:
            closed = [zone for zone in zones if self._until_open(zone, at)]
            if not closed:
                return max(0, int((at - now).total_seconds() + 0.999)) if at > now else 0
            at = max(at + datetime.timedelta(seconds=self._until_open(zone, at)) for zone in closed)
        return None

    def _until_open(self, zone: ZoneInfo, now: datetime.datetime) -> int:
        local = now.astimezone(zone)
        hour = local.hour + local.minute / 60 + local.second / 3600
        if self.start_hour <= hour < self.end_hour:
            return 0
        opens = local.replace(hour=self.start_hour, minute=0, second=0, microsecond=0)
        if hour >= self.end_hour:
            opens += datetime.timedelta(days=1)
        # Across a daylight-saving change the wall clock jumps: count real seconds between the two instants.
        opens = opens.replace(tzinfo=local.tzinfo)
        return max(1, int((opens.astimezone(datetime.UTC) - now.astimezone(datetime.UTC)).total_seconds()))
