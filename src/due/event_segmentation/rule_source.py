"""Where a stack's rule set comes from: an S3 object when ``RulesKey`` names one, else the ``Rules`` parameter.

Both the deploy-time check (a custom resource that fails the stack with ``RuleSetError``'s message, which names
the rule) and the applier read rules through here, so what was checked is what runs. The applier keeps what it
read for ``CACHE_SECONDS``: a new S3 object is picked up within that time, without a deployment (and without
the check: the page says to update the stack, which checks it, rather than overwrite the object).
"""

from __future__ import annotations

import time

from due.event_segmentation.rules import DEFAULT_RULES, Mode, RuleSet, RuleSetError, load_rules

CACHE_SECONDS = 300


def read_rules(s3, text: str, bucket: str, key: str, mode: str) -> RuleSet:
    """The rule set: the object ``key`` of ``bucket`` when a key is given, else ``text``, else the seed rules."""
    if key:
        try:
            text = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            raise RuleSetError(f"there is no rule set at s3://{bucket}/{key}") from None
    return load_rules(text or DEFAULT_RULES, Mode(mode))


class CachedRules:
    def __init__(self, s3, text: str, bucket: str, key: str, mode: str, clock=time.monotonic):
        self._args, self._clock = (s3, text, bucket, key, mode), clock
        self._rules: RuleSet | None = None
        self._read_at = 0.0

    def get(self) -> RuleSet:
        if self._rules is None or (self._args[3] and self._clock() - self._read_at > CACHE_SECONDS):
            self._rules, self._read_at = read_rules(*self._args), self._clock()
        return self._rules
