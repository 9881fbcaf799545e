"""S3 Data Lake: bytes stored and bytes a one-day, three-column query reads, reference layout versus ours.

Generates 30 days of email and SMS events (SES and End User Messaging shapes),
then lays them out three ways:

* reference: raw JSON lines as the sources deliver them, uncompressed and
  unpartitioned (Athena must read every byte of every object for any query);
* ours, StorageFormat=JSON: the transformation's rows, GZIP, one partition per
  event date (Athena reads that day's objects, compressed bytes);
* ours, StorageFormat=PARQUET (the default): the rows as Parquet (Snappy), one
  partition per event date (Athena reads that day's footers and the column
  chunks the query names, as recorded in each file's metadata).

Each of ours three times: one file a day (the best case), 96 (one per
15-minute buffer, the template's default, when a day's traffic never fills
128 MB) and 288 (5-minute buffers). Every file carries its own footer and
metadata, which small Parquet files pay for dearly.

The query counts distinct opened messages per campaign on one day: it names
three columns (campaign_id, event_type, message_id) plus the dt partition. It
is run with DuckDB on both of our layouts and its answer checked against a
count made in Python from the generated events.

Target: at least 10x fewer bytes read than the reference layout.

Usage: .venv/bin/python benchmarks/data_lake.py [--per-day 5000] [--days 30]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import struct
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

import duckdb  # noqa: E402

from due.data_lake import transform_handler  # noqa: E402
from due_local import engagement_events as ev  # noqa: E402
from due_local.athena_local import LocalAthena, lines_by_partition, write_objects  # noqa: E402

QUERY_COLUMNS = ("campaign_id", "event_type", "message_id")
# One file a day (best case); one per 15-minute buffer (the template's default); one per 5-minute buffer.
FILES_PER_DAY = (1, 96, 288)


def day_query(day: str) -> str:
    return (f"SELECT campaign_id, count(DISTINCT message_id) AS opened FROM events "
            f"WHERE dt = '{day}' AND event_type = '_email.open' GROUP BY campaign_id ORDER BY campaign_id")


def parquet_bytes_read(path: Path, columns: tuple[str, ...]) -> int:
    """What a columnar reader fetches: the footer, then the named columns' chunks."""
    data = path.read_bytes()
    footer_length = struct.unpack("<I", data[-8:-4])[0]
    chunks = duckdb.connect().execute(
        f"SELECT sum(total_compressed_size) FROM parquet_metadata('{path}') "
        f"WHERE path_in_schema IN ({', '.join(repr(c) for c in columns)})").fetchone()[0]
    return footer_length + 8 + int(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-day", type=int, default=5000, help="events per day (default 5000)")
    parser.add_argument("--days", type=int, default=30, help="days of events (default 30)")
    args = parser.parse_args()

    rng = random.Random(5)
    today = int(time.time() // 86400) * 86_400_000
    raw = [json.dumps(e, ensure_ascii=False).encode() for d in range(args.days, 0, -1)
           for e in ev.day_of_traffic(today - d * ev.DAY_MS, args.per_day, rng)]
    started = time.perf_counter()
    transformed = [transform_handler.transform({"recordId": str(i), "data": base64.b64encode(r).decode()})
                   for i, r in enumerate(raw)]
    seconds = time.perf_counter() - started
    assert all(t["result"] == "Ok" for t in transformed)
    by_day = lines_by_partition(transformed)
    day = sorted(by_day)[len(by_day) // 2]
    print(f"{len(raw):,} events over {len(by_day)} days transformed in {seconds:.1f} s "
          f"({len(raw) / seconds:,.0f} records/s through the transformation)")

    expected: dict[str, set] = defaultdict(set)
    for line in by_day[day]:
        row = json.loads(line)
        if row["event_type"] == "_email.open":
            expected[row["campaign_id"]].add(row["message_id"])
    answer = [{"campaign_id": c, "opened": len(m)} for c, m in sorted(expected.items())]

    reference_stored = sum(len(r) + 1 for r in raw)  # one JSON document per line
    figures = [("reference: raw JSON, unpartitioned", reference_stored, reference_stored)]
    with tempfile.TemporaryDirectory() as scratch:
        for storage_format, files_per_day in [(f, n) for f in ("JSON", "PARQUET") for n in FILES_PER_DAY]:
            root = Path(scratch, f"{storage_format}-{files_per_day}")
            files = write_objects(root, by_day, storage_format, files_per_day)
            stored = sum(f.stat().st_size for f in files)
            day_files = [f for f in files if f.parent.name == f"dt={day}"]
            if storage_format == "JSON":
                read = sum(f.stat().st_size for f in day_files)
            else:
                read = sum(parquet_bytes_read(f, QUERY_COLUMNS) for f in day_files)
            found = LocalAthena().load(root, storage_format).query(day_query(day))
            assert found == answer, f"{storage_format} layout answered {found[:3]}..., expected {answer[:3]}..."
            figures.append((f"ours: {storage_format}, {files_per_day} file(s) a day", stored, read))

    print(f"query: opened messages per campaign on {day} (columns {', '.join(QUERY_COLUMNS)}, partition dt); "
          f"answer checked on both of our layouts ({len(answer)} campaigns)")
    print(f"{'layout':<38}{'bytes stored':>16}{'bytes read':>16}{'fewer bytes read':>20}")
    for name, stored, read in figures:
        print(f"{name:<38}{stored:>16,}{read:>16,}{reference_stored / read:>19.1f}x")
    ratio = reference_stored / next(read for name, _, read in figures if name == "ours: PARQUET, 96 file(s) a day")
    print(f"target: at least 10x fewer bytes read with the default layout (Parquet, 15-minute buffers): "
          f"{'met' if ratio >= 10 else 'NOT met'} "
          f"({ratio:,.0f}x)")


if __name__ == "__main__":
    main()
