"""The segment's Athena query: the SQL from athena/segments/, its placeholders filled, started and watched.

A segment query is a file ``athena/segments/<name>.sql`` (in the code zip beside
the package, at the repository root in a checkout) with ``${placeholder}``
marks: ``${table}`` is the stack's Table parameter, the others come from its
QueryValues parameter (``minimum_opens=2,days=30``). The database is not a
placeholder: the query runs with the stack's Database as its context
(StartQueryExecution ``QueryExecutionContext``), so an unqualified table name
is read there, as the data lake's own views do.

Values are checked before they go into SQL text: a table is a plain name
(letters, digits, underscore), any other value letters, digits and ``_ . @ + -``
only, so no value can close a quote or add a statement. A placeholder without a
value, or a value no placeholder uses, is refused with its name, so a typo in
the stack's parameters fails the first run loudly instead of querying something
else.

Athena facts used here (Athena API reference, StartQueryExecution and
QueryExecutionStatus): a query is QUEUED, RUNNING, then SUCCEEDED, FAILED or
CANCELLED; a workgroup's ``BytesScannedCutoffPerQuery`` cancels a query that
would scan more ("If any query that runs in the workgroup exceeds the limit,
it is canceled": Athena User Guide, "Configure per-query and per-workgroup
data usage controls"); GetQueryExecution's
``ResultConfiguration.OutputLocation`` names the query's result file, a CSV
with a header row (Athena User Guide, "Find query output files in Amazon S3":
a query run through the API writes ``<QueryExecutionId>.csv`` straight to the
result location). With the workgroup's
``EnforceWorkGroupConfiguration``, the workgroup's result location and
encryption apply whatever the caller passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from due.data_lake.views import athena_directory

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TABLE_NAME = re.compile(r"[A-Za-z0-9_]{1,255}")
QUERY_NAME = re.compile(r"[a-z0-9_]{1,64}")
VALUE = re.compile(r"[A-Za-z0-9_.@+\-]{1,100}")
FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


class QueryRefused(ValueError):
    """The query or its values cannot be run as configured (the message says which and why)."""


class QueryFailed(RuntimeError):
    """Athena ended the query FAILED or CANCELLED (the message names the query, never Athena's reason)."""


def segments_directory() -> Path:
    return athena_directory("segments")


def parse_values(text: str) -> dict[str, str]:
    """``name=value,name=value`` (the QueryValues parameter) -> {name: value}; QueryRefused names a bad pair."""
    values: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        name, equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryRefused(f"query value {pair!r} is not name=value")
        if name in values or name == "table":
            raise QueryRefused(f"query value {name!r} is given twice (table comes from the Table parameter)")
        if not VALUE.fullmatch(value):
            raise QueryRefused(f"query value {name!r} may hold only letters, digits and _ . @ + - (1 to 100)")
        values[name] = value
    return values


def fill(sql: str, table: str, values: dict[str, str]) -> str:
    """The SQL with every ``${placeholder}`` replaced; QueryRefused names a missing or unused value."""
    if not TABLE_NAME.fullmatch(table):
        raise QueryRefused("the table must be a name of letters, digits and underscores")
    given = {"table": table, **values}
    wanted = set(PLACEHOLDER.findall(sql))
    if missing := sorted(wanted - set(given)):
        raise QueryRefused(f"the query needs a value for {', '.join(missing)} (QueryValues)")
    if unused := sorted(set(values) - wanted):
        raise QueryRefused(f"the query has no placeholder for {', '.join(unused)} (QueryValues)")
    return PLACEHOLDER.sub(lambda match: given[match.group(1)], sql)


def load(name: str, table: str, values: dict[str, str], directory: Path | None = None) -> str:
    """The named segment query, filled."""
    if not QUERY_NAME.fullmatch(name):
        raise QueryRefused("a segment query is named by its file in athena/segments (lower case, digits, _)")
    path = (directory or segments_directory()) / f"{name}.sql"
    if not path.is_file():
        raise QueryRefused(f"there is no segment query athena/segments/{name}.sql in the code")
    return fill(path.read_text(encoding="utf-8"), table, values)


@dataclass(frozen=True)
class QueryStatus:
    state: str
    reason: str = ""
    result_bucket: str = ""
    result_key: str = ""
    bytes_scanned: int = 0
    error_category: int | None = None  # AthenaError.ErrorCategory: 1 system, 2 user, 3 other (API reference)
    error_type: int | None = None  # AthenaError.ErrorType: a number listed in the Athena User Guide

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def category(self) -> str:
        """Athena's numbered error category and type (never its message, which can quote data), or ""."""
        if self.error_category is None:
            return ""
        return f" (error category {self.error_category}, type {self.error_type})"


def start(athena, sql: str, *, database: str, workgroup: str, output_location: str, token: str) -> str:
    """Starts the query; returns its execution id. ``token`` (the run's id) makes a retried start the same query:
    ClientRequestToken is idempotent for Athena, so a start whose answer was lost starts nothing twice."""
    return athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}, WorkGroup=workgroup,
        ClientRequestToken=token, ResultConfiguration={"OutputLocation": output_location},
    )["QueryExecutionId"]


def status(athena, execution_id: str) -> QueryStatus:
    execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    state = execution["Status"]["State"]
    location = (execution.get("ResultConfiguration") or {}).get("OutputLocation", "")
    bucket, _, key = location.removeprefix("s3://").partition("/")
    athena_error = execution["Status"].get("AthenaError") or {}
    return QueryStatus(state, execution["Status"].get("StateChangeReason", ""), bucket, key,
                       int((execution.get("Statistics") or {}).get("DataScannedInBytes", 0)),
                       athena_error.get("ErrorCategory"), athena_error.get("ErrorType"))
