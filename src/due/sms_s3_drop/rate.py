"""At most ``rate`` messages per second per origination identity, never faster.

Each identity's next slot is 1/rate seconds after its previous one; a send
waits for its slot. With the sender's reserved concurrency of one, this holds
across invocations too (the limiter lives as long as the execution environment).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate_per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate_per_second <= 0:
            raise ValueError("the rate must be positive")
        self._interval, self._clock, self._sleep = 1.0 / rate_per_second, clock, sleep
        self._next: dict[str, float] = {}

    def wait(self, identity: str) -> None:
        now = self._clock()
        slot = self._next.get(identity, now)
        if slot > now:
            self._sleep(slot - now)
            now = self._clock()  # sleeps end late, never early: count from when this send really goes
        self._next[identity] = now + self._interval
