"""Where a stack's rule set comes from: an S3 object when ``RulesKey`` names one, else the ``Rules`` parameter.

Both the deploy-time check (a custom resource that fails the stack with ``RuleSetError``'s message, which names
the rule) and the applier read rules through here, so what was checked is what runs.

A rule set in S3 is best pinned: ``RulesVersion`` names the object's version, the check reads that version and so
does the applier, for good. A new version is rolled out by updating the stack with its id, which runs the check
again (CloudFormation calls a custom resource only when its properties change) and rolls back cleanly to the
previous, still readable, version if the new one is refused. Without a version the applier rereads the object
every ``CACHE_SECONDS``, unchecked; a reread that fails (the object unreadable, or no longer a valid rule set)
keeps the rules it had and logs the error, so one bad upload never stops the stream.
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from due.event_segmentation.rules import DEFAULT_RULES, Mode, RuleSet, RuleSetError, load_rules
from due.logs import get_logger

logger = get_logger("event_segmentation_rules")

CACHE_SECONDS = 300


def read_rules(s3, text: str, bucket: str, key: str, version: str, mode: str) -> RuleSet:
    """The rule set: the object ``key`` of ``bucket`` (at ``version`` when given) when a key is given, else
    ``text``, else the seed rules."""
    if key:
        where = f"s3://{bucket}/{key}" + (f" (version {version})" if version else "")
        try:
            text = s3.get_object(Bucket=bucket, Key=key, **({"VersionId": version} if version else {}))["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            # Without s3:ListBucket S3 answers a missing key with AccessDenied, not NoSuchKey (S3 API reference,
            # GetObject); the stack grants GetObject on the one object only.
            raise RuleSetError(f"the rule set at {where} cannot be read ({code}): it does not exist, or this stack "
                               "may not read it (a bucket of another account, or a KMS key it may not use)") from None
    return load_rules(text or DEFAULT_RULES, Mode(mode))


class CachedRules:
    def __init__(self, s3, text: str, bucket: str, key: str, version: str, mode: str, clock=time.monotonic):
        self._args, self._clock = (s3, text, bucket, key, version, mode), clock
        self._rules: RuleSet | None = None
        self._read_at = 0.0

    def get(self) -> RuleSet:
        unpinned_object = self._args[3] and not self._args[4]
        if self._rules is None:
            self._rules, self._read_at = read_rules(*self._args), self._clock()
        elif unpinned_object and self._clock() - self._read_at > CACHE_SECONDS:
            self._read_at = self._clock()
            try:
                self._rules = read_rules(*self._args)
            except RuleSetError as error:
                logger.error("the rule set could not be reread; the previous one stays in use",
                             extra={"error": str(error)})
        return self._rules
