from __future__ import annotations

import csv
import io

import pytest

BUCKET = "segments"


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def result_file(s3, key: str, rows: list[list[str]], header: tuple[str, ...] = ("email", "opens")) -> str:
    """A query result as Athena writes it: a header, every value quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    s3.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue().encode("utf-8"))
    return key
