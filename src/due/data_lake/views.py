"""The Athena views of the event table, created from athena/views/*.sql and waited for.

Athena runs DDL asynchronously: a query that was only started may still fail.
So every statement is started, then polled until Athena says it SUCCEEDED; a
FAILED or CANCELLED statement raises with Athena's reason, which the custom
resource passes to CloudFormation (the stack then rolls back instead of
reporting views that do not exist).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from due.logs import get_logger

logger = get_logger("data_lake_views")

FINISHED = {"SUCCEEDED", "FAILED", "CANCELLED"}


def athena_directory(folder: str) -> Path:
    """athena/<folder>: beside the package in the Lambda zip, at the repository root in a checkout."""
    here = Path(__file__).resolve()
    for root in (here.parents[2], here.parents[3]):
        candidate = root / "athena" / folder
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"athena/{folder} is neither in the code zip nor in the repository")


def sql_directory() -> Path:
    return athena_directory("views")


def view_statements(directory: Path | None = None) -> dict[str, str]:
    """View name -> its CREATE OR REPLACE VIEW statement, in name order."""
    directory = directory or sql_directory()
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.sql"))}


class AthenaStatementFailed(RuntimeError):
    pass


def run_statement(athena: Any, sql: str, *, database: str, workgroup: str, poll_seconds: float = 1.0,
                  sleep: Callable[[float], None] = time.sleep) -> str:
    """Run one statement and wait for it; returns its query execution id."""
    execution_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}, WorkGroup=workgroup,
    )["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
        if status["State"] in FINISHED:
            break
        sleep(poll_seconds)
    if status["State"] != "SUCCEEDED":
        raise AthenaStatementFailed(
            f"query {execution_id} {status['State']}: {status.get('StateChangeReason', 'no reason given')}")
    return execution_id


def create_views(athena: Any, *, database: str, workgroup: str, **polling: Any) -> list[str]:
    names = []
    for name, sql in view_statements().items():
        run_statement(athena, sql, database=database, workgroup=workgroup, **polling)
        logger.info("view created", extra={"view": name, "database": database})
        names.append(name)
    return names


def drop_views(athena: Any, names: list[str], *, database: str, workgroup: str, **polling: Any) -> None:
    for name in names:
        run_statement(athena, f"DROP VIEW IF EXISTS {name}", database=database, workgroup=workgroup, **polling)
        logger.info("view dropped", extra={"view": name, "database": database})
