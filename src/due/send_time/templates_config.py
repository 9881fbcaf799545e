"""#12's configuration: the S3 content store, its policy and default, from the function's environment
(``CONTENT_BUCKET``, ``CONTENT_PREFIX``, ``DEFAULT_LOCALE``, ``LOOKUP_BUDGET_MILLISECONDS``,
``MISSING_DATA_POLICY``, ``DEFAULT_CAMPAIGN``: UseDefault sends that campaign's content)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from due import aws
from due.send_time.content_store import ContentStore
from due.send_time.lookup import MissingDataPolicy


@functools.lru_cache(maxsize=1)
def content_store() -> ContentStore:
    return ContentStore(aws.client("s3"), os.environ["CONTENT_BUCKET"], os.environ["CONTENT_PREFIX"],
                        os.environ["DEFAULT_LOCALE"], int(os.environ["LOOKUP_BUDGET_MILLISECONDS"]) / 1000)


@functools.lru_cache(maxsize=1)
def settings() -> tuple[ContentStore, MissingDataPolicy, Callable[[], dict[str, str]]]:
    store, default_campaign = content_store(), os.environ["DEFAULT_CAMPAIGN"]

    def default() -> dict[str, str]:
        found = store.content_for(default_campaign, "")
        return found.as_data() if found else {}

    return store, MissingDataPolicy(os.environ["MISSING_DATA_POLICY"]), default
