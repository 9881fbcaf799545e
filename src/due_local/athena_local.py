"""Athena on this machine: the athena/ SQL run by DuckDB over files laid out as Firehose writes them.

Firehose writes one object per buffer under ``events/<format>/dt=<yyyy-MM-dd>/``:
GZIP JSON lines (``json``), or Parquet converted against the Glue schema (``parquet``). ``write_objects``
does the same on disk. ``LocalAthena`` declares the ``events`` table over them
with the column types of ``athena/events_table.sql`` (so a JSON value of the
wrong type fails here as it would in Athena), creates every view from
``athena/views/`` and runs queries, all transpiled by sqlglot from the Athena
dialect to DuckDB's.
"""

from __future__ import annotations

import base64
import gzip
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from due.data_lake import views

ATHENA_DIR = Path(__file__).resolve().parents[2] / "athena"
TABLE_DDL = ATHENA_DIR / "events_table.sql"


def events_prefix(storage_format: str) -> str:
    """Where the stack's table and stream keep events of one storage format (a test holds the template to it)."""
    if storage_format not in ("JSON", "PARQUET"):
        raise ValueError(f"unknown storage format {storage_format!r}")
    return f"events/{storage_format.lower()}/"


def table_ddl() -> exp.Create:
    return sqlglot.parse_one(TABLE_DDL.read_text(), read="athena")


def table_columns() -> list[tuple[str, exp.DataType]]:
    """The data columns of the events table, in order (the partition column is not among them)."""
    return [(column.name, column.args["kind"]) for column in table_ddl().this.expressions]


def partition_columns() -> list[str]:
    partitioned = table_ddl().find(exp.PartitionedByProperty)
    return [column.name for column in partitioned.this.expressions]


def glue_type(glue_type_name: str) -> exp.DataType:
    """A Glue column type (Hive syntax, as a template writes it) as a comparable sqlglot type."""
    return exp.DataType.build(glue_type_name, dialect="hive")


def view_files() -> dict[str, Path]:
    """The view SQL, found where the views custom resource finds it."""
    return {path.stem: path for path in sorted(views.sql_directory().glob("*.sql"))}


def query_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted((ATHENA_DIR / "queries").glob("*.sql"))}


def to_duckdb(athena_sql: str) -> str:
    statements = sqlglot.transpile(athena_sql, read="athena", write="duckdb")
    assert len(statements) == 1, "one statement per file"
    return statements[0]


def _duckdb_columns() -> str:
    """DuckDB's ``columns=`` struct for read_json: every column, typed as the table declares it."""
    entries = ", ".join(f"'{name}': '{kind.sql('duckdb')}'" for name, kind in table_columns())
    return "{" + entries + "}"


def encode_object(lines: list[bytes], storage_format: str) -> bytes:
    """One Firehose output object holding ``lines``: GZIP JSON lines, or Parquet against the table's schema."""
    body = b"".join(lines)
    if storage_format == "JSON":
        return gzip.compress(body, mtime=0)
    if storage_format != "PARQUET":
        raise ValueError(f"unknown storage format {storage_format!r}")
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch, "in.json"), Path(scratch, "out.parquet")
        source.write_bytes(body)
        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_json('{source}', format='newline_delimited', columns={_duckdb_columns()})) "
            f"TO '{target}' (FORMAT parquet, COMPRESSION snappy)"
        )
        return target.read_bytes()


def write_objects(root: Path, lines_by_partition: dict[str, list[bytes]], storage_format: str,
                  objects_per_partition: int = 1) -> list[Path]:
    """Write transformed records under ``root`` as Firehose would: per dt partition, one object per buffer."""
    written = []
    for partition, lines in sorted(lines_by_partition.items()):
        folder = root / events_prefix(storage_format) / f"dt={partition}"
        folder.mkdir(parents=True, exist_ok=True)
        size = -(-len(lines) // objects_per_partition)  # ceiling: every line in some object
        for number, start in enumerate(range(0, len(lines), size)):
            target = folder / f"part-{number}"
            target.write_bytes(encode_object(lines[start:start + size], storage_format))
            written.append(target)
    return written


class LocalAthena:
    """The events table and its views in DuckDB, queried in the Athena dialect.

    The table starts empty (as a new stack's does); ``load`` points it at files
    written by ``write_objects``. Views are late-bound, so views created before
    ``load`` read the files afterwards, as Athena's do.
    """

    def __init__(self):
        self.connection = duckdb.connect()
        empty = ", ".join(f"CAST(NULL AS {kind.sql('duckdb')}) AS {name}" for name, kind in table_columns())
        self.connection.execute(f"CREATE VIEW events AS SELECT {empty}, CAST(NULL AS VARCHAR) AS dt WHERE false")

    def load(self, root: Path, storage_format: str) -> LocalAthena:
        files = (root / events_prefix(storage_format)).as_posix() + "/*/*"
        if storage_format == "JSON":
            reader = (f"read_json('{files}', format='newline_delimited', compression='gzip', "
                      f"columns={_duckdb_columns()}, hive_partitioning=true, hive_types={{'dt': 'VARCHAR'}})")
        else:
            reader = f"read_parquet('{files}', hive_partitioning=true, hive_types={{'dt': 'VARCHAR'}})"
        self.connection.execute(f"CREATE OR REPLACE VIEW events AS SELECT * FROM {reader}")
        return self

    def create_views(self) -> LocalAthena:
        for statement in views.view_statements().values():
            self.execute(statement)
        return self

    def execute(self, athena_sql: str) -> None:
        self.connection.execute(to_duckdb(athena_sql))

    def query(self, athena_sql: str) -> list[dict[str, Any]]:
        cursor = self.connection.execute(to_duckdb(athena_sql))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def columns(self, relation: str) -> list[str]:
        return [d[0] for d in self.connection.execute(f"SELECT * FROM {relation} LIMIT 0").description]


def lines_by_partition(transformed: Iterable[dict[str, Any]]) -> dict[str, list[bytes]]:
    """Group a transformation's Ok records by their dt partition key, as dynamic partitioning does."""
    grouped: dict[str, list[bytes]] = {}
    for record in transformed:
        if record["result"] == "Ok":
            dt = record["metadata"]["partitionKeys"]["dt"]
            grouped.setdefault(dt, []).append(base64.b64decode(record["data"]))
    return grouped
