"""Where the segment token goes: a Customer Profiles attribute (current mode) or a Pinpoint endpoint attribute.

Both targets take the walk's changes one person at a time (``enter``, ``stay``,
``leave``), write only what changes, and count what they did. Neither creates
anybody: a key with no profile or endpoint is counted and looked up again on
the next run while it stays in the segment, so a person imported later is
tagged then.

Current mode (docs/profile_contract.md: advanced segmentation owns one
attribute per segment token): the token is the profile attribute
``segment_<token>`` = ``"true"``, removed by writing ``""`` (UpdateProfile keeps
attributes a request leaves out and removes one set to an empty string: API
reference, UpdateProfile). One attribute per segment, so two segments never
race on one value. People are found by the key the query returns
(``ProfileStore.find``: SearchProfiles on ``_email``, ``_phone``, the import's
``customer_id`` or the predefined ``_profileId``). An address shared by two
profiles tags both. A profile already holding ``"true"`` is not written again.

Pinpoint mode (the seed): the endpoint attribute ``AdvancedSegmentTarget``, an
array of tokens. UpdateEndpointsBatch replaces an attribute's values with the
ones it is given ("If an update includes one or more values for a custom
attribute, Amazon Pinpoint replaces (overwrites) any existing values": API
reference, Endpoints), so each changed endpoint is read first (GetEndpoint) and
written with its current tokens plus or minus ours: other tokens stay, ours
never appears twice. At most 100 endpoints a call (the same page). An endpoint
that does not exist is counted and never written (an update would create it).
Removing the last token writes an empty array; Pinpoint documents the
overwrite only for "one or more values", and with its engagement APIs gone
since 2026-10-30 no account can prove what an empty array does. The read and
the write are not one transaction: two stacks with different tokens writing
the same endpoint at the same moment can lose one token (the page asks for
staggered schedules).

A key the service cannot take is skipped and counted (``refused_key``), never
fatal to the run: SearchProfiles takes values of 1 to 255 characters
(API reference, SearchProfiles and AdditionalSearchKey: "Values ... Length
Constraints: Minimum length of 1. Maximum length of 255"), so a longer key, or
one with spaces around it (the query's key column is compared as it is
written), is refused before any call; a key the service still answers with
BadRequestException or ValidationException is refused the same way. The
service's message is never kept: it may quote the key, which may be an address.

A member marked uncertain (``membership.recovered``: a failed run may have
changed it) is looked up again whether it stays (tagged if it is not) or
leaves (untagged wherever the token is found, and on the targets known before).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from botocore.exceptions import ClientError

from due.advanced_segmentation.membership import Member
from due.profiles import ProfileStore

PINPOINT_ATTRIBUTE = "AdvancedSegmentTarget"
ENDPOINTS_PER_BATCH = 100  # UpdateEndpointsBatch: "A batch can include up to 100 endpoints" (API reference)
PROFILE_KEYS = ("email", "phone", "customer_id", "profile_id")
SEARCH_VALUE_MAX = 255  # SearchProfiles Values: 1 to 255 characters (API reference)
REFUSED_CODES = frozenset({"BadRequestException", "ValidationException"})


def _refused(error: Exception) -> bool:
    """The service refused the request as invalid (a 4xx about the value), not a passing trouble."""
    return getattr(error, "response", {}).get("Error", {}).get("Code") in REFUSED_CODES


def profile_attribute(token: str) -> str:
    return f"segment_{token}"


class _Target:
    """What both targets do with a person who matched before and matches still."""

    counts: dict[str, int]

    def enter(self, key: str) -> Member:
        raise NotImplementedError

    def stay(self, member: Member) -> Member:
        """Nothing to write, unless the person had no profile or endpoint last time, or a failed run may have
        changed them (uncertain): then they are looked up and entered again."""
        if member.targets and not member.uncertain:
            return member
        self.counts["rechecked" if member.uncertain else "looked_up_again"] += 1
        return self.enter(member.key)


class ProfilesTarget(_Target):
    """The token as one Customer Profiles attribute per segment."""

    pending = 0  # every change is written as it comes

    def __init__(self, client, domain: str, token: str, key_kind: str, pace: Callable[[], None] = lambda: None):
        """``client``: customer-profiles; ``pace`` is called before every call (searches and updates alike)."""
        if key_kind not in PROFILE_KEYS:
            raise ValueError(f"the person key must be one of {', '.join(PROFILE_KEYS)}, not {key_kind!r}")
        self._store = ProfileStore(client, domain, object_type="", pace=pace)
        self._client, self._pace = client, pace
        self.attribute, self._key_kind = profile_attribute(token), key_kind
        self.counts: Counter[str] = Counter()

    def _profiles(self, key: str) -> list[dict] | None:
        """The profiles found by the key; None when the key is refused (counted)."""
        if not 1 <= len(key) <= SEARCH_VALUE_MAX or key != key.strip():
            self.counts["refused_key"] += 1
            return None
        self.counts["lookups"] += 1
        self._pace()  # ProfileStore paces its writes; its searches are the caller's to pace
        try:
            return self._store.find(**{"key" if self._key_kind == "customer_id" else self._key_kind: key})
        except ClientError as error:
            if not _refused(error):
                raise
            self.counts["refused_key"] += 1
            return None

    def enter(self, key: str) -> Member:
        profiles = self._profiles(key)
        if profiles is None:
            return Member(key)
        if not profiles:
            self.counts["without_profile"] += 1
        for profile in profiles:
            if (profile.get("Attributes") or {}).get(self.attribute) != "true":
                self._store.set_attributes(profile["ProfileId"], {self.attribute: "true"})
                self.counts["writes"] += 1
        return Member(key, sorted(profile["ProfileId"] for profile in profiles))

    def leave(self, member: Member) -> None:
        targets = set(member.targets)
        if member.uncertain:  # a failed run may have tagged profiles this line does not name, or untagged these
            self.counts["rechecked"] += 1
            found = self._profiles(member.key) or []
            targets -= {profile["ProfileId"] for profile in found}  # read now: written below only if tagged
            targets |= {profile["ProfileId"] for profile in found
                        if (profile.get("Attributes") or {}).get(self.attribute) == "true"}
        for profile_id in sorted(targets):
            try:
                self._store.set_attributes(profile_id, {self.attribute: ""})
                self.counts["writes"] += 1
            except self._client.exceptions.ResourceNotFoundException:
                self.counts["profile_gone"] += 1  # deleted (or merged away) since it was tagged

    def flush(self) -> None:
        pass


class PinpointTarget(_Target):
    """The token in the endpoint attribute array ``AdvancedSegmentTarget`` (seed behaviour)."""

    def __init__(self, pinpoint, application_id: str, token: str, pace: Callable[[], None] = lambda: None):
        self._pinpoint, self._application, self.token, self._pace = pinpoint, application_id, token, pace
        self._queue: list[tuple[bool, Member]] = []  # (entering, member), written together by flush
        self.counts: Counter[str] = Counter()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def enter(self, key: str) -> Member:
        member = Member(key)
        self._enqueue(True, member)
        return member

    def leave(self, member: Member) -> None:
        if member.targets or member.uncertain:  # uncertain: a failed run may have added the token
            self._enqueue(False, Member(member.key, [member.key]))

    def _enqueue(self, entering: bool, member: Member) -> None:
        self._queue.append((entering, member))
        if len(self._queue) == ENDPOINTS_PER_BATCH:
            self.flush()

    def flush(self) -> None:
        items = []
        for entering, member in self._queue:
            self._pace()
            self.counts["lookups"] += 1
            try:
                endpoint = self._pinpoint.get_endpoint(ApplicationId=self._application,
                                                       EndpointId=member.key)["EndpointResponse"]
            except self._pinpoint.exceptions.NotFoundException:
                self.counts["without_endpoint" if entering else "endpoint_gone"] += 1
                member.targets = []
                continue
            except ClientError as error:
                if not _refused(error):
                    raise
                self.counts["refused_key"] += 1  # an endpoint id Pinpoint will not take: skipped, never written
                member.targets = []
                continue
            current = list((endpoint.get("Attributes") or {}).get(PINPOINT_ATTRIBUTE, []))
            wanted = ([*current, self.token] if self.token not in current else current) if entering else [
                token for token in current if token != self.token]
            member.targets = [member.key] if entering else []
            if wanted != current:
                items.append({"Id": member.key, "Attributes": {PINPOINT_ATTRIBUTE: wanted}})
        self._queue.clear()
        if items:
            self._pace()
            self._pinpoint.update_endpoints_batch(ApplicationId=self._application,
                                                  EndpointBatchRequest={"Item": items})
            self.counts["writes"] += len(items)
            self.counts["write_calls"] += 1
