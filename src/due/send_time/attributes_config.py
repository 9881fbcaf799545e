"""#11's configuration: the DynamoDB store, its policy and default, from the function's environment
(``TABLE_NAME``, ``KEY_ATTRIBUTE``, ``LOOKUP_BUDGET_MILLISECONDS``, ``MISSING_DATA_POLICY``, ``DEFAULT_DATA``:
a JSON object, the UseDefault values)."""

from __future__ import annotations

import functools
import json
import os

from due import aws
from due.send_time.attribute_store import AttributeStore
from due.send_time.lookup import MissingDataPolicy


@functools.lru_cache(maxsize=1)
def settings() -> tuple[AttributeStore, MissingDataPolicy, dict[str, str]]:
    store = AttributeStore(aws.client("dynamodb"), os.environ["TABLE_NAME"], os.environ["KEY_ATTRIBUTE"],
                           int(os.environ["LOOKUP_BUDGET_MILLISECONDS"]) / 1000)
    default = {k: v for k, v in json.loads(os.environ["DEFAULT_DATA"] or "{}").items() if v}
    return store, MissingDataPolicy(os.environ["MISSING_DATA_POLICY"]), default
