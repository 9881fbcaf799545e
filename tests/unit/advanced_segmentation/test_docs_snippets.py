"""The page's conversion of the audience file into an SMS S3 drop file makes a file the drop accepts."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

from due.sms_s3_drop import requests

PAGE = Path(__file__).resolve().parents[3] / "docs" / "Advanced_Segmentation_S3.md"


def test_the_sms_drop_snippet_writes_the_drops_seven_columns_and_valid_rows():
    script = re.search(r"python3 -c '\n(.*?)\n' \|", PAGE.read_text(encoding="utf-8"), re.S).group(1)
    audience = "id,email,phone,opens\n,ana@example.com,,3\nc-7,bo@example.com,+14255550123,2\n"
    written = subprocess.run(  # noqa: S603 (this interpreter running the page's own snippet)
        [sys.executable, "-c", script], input=audience, capture_output=True, text=True, check=True).stdout
    header, *rows = list(csv.reader(io.StringIO(written)))
    requests.check_header(header)
    assert len(rows) == 1  # only the row with a phone number
    assert isinstance(requests.from_row("frequent_openers.csv", 2, rows[0]), requests.SmsRequest)
