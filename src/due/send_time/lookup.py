"""The one send-time lookup shape both architectures share, and what happens to a recipient without data.

A ``Lookup`` takes the recipients of one call (a chunk of an audience file, or the endpoints of one campaign
hook invocation) and answers the data each one gets: a map of names to string values (#11: the item's
attributes, e.g. ``Offer``; #12: ``subject``, ``html`` and ``text``). A recipient it has no data for is
``missing`` (the store has none) or ``late`` (the store did not answer within the lookup's time budget).

Both are handled by one stated policy (``MissingDataPolicy``, a stack parameter):

* ``SendWithout``: the recipient is sent to without the data (the template must read well without it);
* ``UseDefault``: the recipient gets the configured default data;
* ``Skip``: the recipient is not sent to, and is reported with the reason.

A slow store is a missing answer, not a failed send (``within_budget``): the budget is a parameter, so a send
never waits on a store longer than the person running it chose.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Recipient:
    """One destination of a send: an audience file's row, or one endpoint of a campaign hook's event."""

    ref: str  # the row number or endpoint id: how reports and results name the recipient (never the address)
    key: str  # the store's key for this recipient (#11: the key column's value or the endpoint's id)
    address: str = ""  # the email address (empty in hook mode: Pinpoint sends)
    locale: str = ""  # as the file or the endpoint gives it (e.g. "es_MX", "en-US"); "" for none
    fields: dict[str, str] = field(default_factory=dict, compare=False)  # the row's columns, for the template


class MissingDataPolicy(StrEnum):
    SEND_WITHOUT = "SendWithout"
    USE_DEFAULT = "UseDefault"
    SKIP = "Skip"


@dataclass
class Found:
    """A lookup's answer for one call's recipients (by ``Recipient.ref``)."""

    data: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # the store holds nothing for them
    late: set[str] = field(default_factory=set)  # the store did not answer within the time budget
    store_calls: int = 0


class Lookup(Protocol):
    def look_up(self, campaign: str, recipients: Sequence[Recipient]) -> Found:
        """The data of each recipient; never raises for a slow store (those are ``late``)."""


@dataclass(frozen=True)
class Decided:
    """What each recipient of a call gets after the missing-data policy."""

    send: list[tuple[Recipient, dict[str, str]]]  # recipient and the data they get ({} when sent without)
    skipped: list[tuple[Recipient, str]]  # recipient and the reason, for the report


def apply_policy(recipients: Sequence[Recipient], found: Found, policy: MissingDataPolicy,
                 default: dict[str, str] | Callable[[], dict[str, str]] | None = None) -> Decided:
    """``default``: the UseDefault data, or a function that gives it (asked only when a recipient needs it)."""
    send: list[tuple[Recipient, dict[str, str]]] = []
    skipped: list[tuple[Recipient, str]] = []
    for recipient in recipients:
        if recipient.ref in found.data:
            send.append((recipient, found.data[recipient.ref]))
            continue
        why = "the store did not answer within the time budget" if recipient.ref in found.late else \
            "the store has no data for this recipient"
        if policy is MissingDataPolicy.SKIP:
            skipped.append((recipient, f"{why} (policy Skip)"))
        elif policy is MissingDataPolicy.USE_DEFAULT and (default := default() if callable(default) else default):
            send.append((recipient, dict(default)))
        else:  # SendWithout, or UseDefault with no default configured
            send.append((recipient, {}))
    return Decided(send, skipped)


class TooLate(Exception):
    """The work did not finish within its budget (it may still finish in the background; its result is dropped)."""


def within_budget(work: Callable[[], T], budget_seconds: float) -> T:
    """``work()``'s result, or TooLate once ``budget_seconds`` have passed.

    The work runs on a daemon thread, so a store that hangs cannot hold the send past its budget (botocore's
    own timeouts end the thread later). A failure inside the work is raised here as it was raised there."""
    answers: queue.Queue = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            answers.put((True, work()))
        except BaseException as error:  # handed to the caller, who raises it: nothing is swallowed
            answers.put((False, error))

    # The thread runs in a copy of the caller's context, so what the caller's context carries (tracing, the local
    # emulator's record of which function makes a call) carries over.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), daemon=True, name="send-time-lookup").start()
    try:
        ok, value = answers.get(timeout=max(budget_seconds, 0.001))
    except queue.Empty:
        raise TooLate(f"no answer within {budget_seconds:.3f} s") from None
    if not ok:
        raise value
    return value


class Clock(Protocol):
    def __call__(self) -> float: ...


MONOTONIC: Clock = time.monotonic
