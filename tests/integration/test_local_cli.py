"""``python -m due_local``: one template deployed locally, the user's own input pushed through it."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from due_local import local_run
from due_local.flows import EXAMPLES, FEEDS

pytestmark = pytest.mark.integration


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example() -> tuple[str, list[str], list[str]]:
    """The README's worked example: the input file, the command's arguments, the output it promises."""
    section = README.read_text().split("## Trying one architecture locally", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash)?\n(.*?)```", section, re.S)
    script, printed = blocks[0], blocks[1]
    document = re.search(r"<<'JSON'\n(.*?)\nJSON\n", script, re.S).group(1)
    command = next(line for line in script.splitlines() if "-m due_local" in line)
    return document, shlex.split(command)[1:], printed.strip().splitlines()


def test_the_readmes_worked_example_runs_from_any_directory_and_prints_what_it_says(tmp_path):
    document, argv, promised = _readme_example()
    (tmp_path / "my_stop.json").write_text(document)

    run = subprocess.run([sys.executable, *argv], cwd=tmp_path, capture_output=True,  # noqa: S603
                         text=True, timeout=300, check=False)

    assert run.returncode == 0, run.stderr
    printed = iter(run.stdout.splitlines())
    for line in promised:  # in order; "..." stands for what changes from run to run
        fragments = line.split("...")
        assert any(all(f in actual for f in fragments) for actual in printed), f"not printed: {line}"


def test_the_readme_lists_what_each_template_takes():
    section = README.read_text().split("## Trying one architecture locally", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| ([A-Za-z0-9_-]+) \| ", section, re.M)) - {"template"}
    assert listed == set(FEEDS)


def test_an_input_topics_own_echo_is_not_reported_as_output(tmp_path):
    bounce = json.loads((EXAMPLES / "ses_event_processing" / "permanent_bounce.json").read_text())
    bounce["bounce"]["bouncedRecipients"][0]["emailAddress"] = "moved.away@example.com"
    mine = tmp_path / "my_bounce.json"
    mine.write_text(json.dumps(bounce))
    lines: list[str] = []

    code = local_run.main(["--template", "SES_Event_Processing", "--input", str(mine)], say=lines.append)

    assert code == 0, lines
    assert f"== {mine}: 1 message(s) published on FeedbackTopicArn" in lines
    assert "   suppressed in SES: moved.away@example.com (BOUNCE)" in lines
    assert any(line.startswith("   table item written: AddressTable/moved.away@example.com") for line in lines)
    assert not any(line.startswith("   published on FeedbackTopicArn:") for line in lines)


def test_a_csv_of_ones_own_goes_through_the_s3_drop_and_its_bad_rows_are_reported(tmp_path):
    mine = tmp_path / "campaign.csv"
    mine.write_text("sms_number,message,external_campaign_id,short_code,message_type,id_1,id_2\n"
                    "+14255550111,Your code is 1234,codes,+18445550100,TRANSACTIONAL,,\n"
                    "not-a-number,Hello,codes,+18445550100,TRANSACTIONAL,,\n")
    lines: list[str] = []

    code = local_run.main(["--template", "SMS_S3_drop", "--input", str(mine)], say=lines.append)

    output = "\n".join(lines)
    assert code == 0, output
    assert "SMS sent to +14255550111 from +18445550100: 'Your code is 1234'" in output
    assert output.count("SMS sent to") == 1
    (report,) = [line for line in lines if "object written: DropBucket/incoming/campaign.csv.report.json" in line]
    assert '"row": 2' in report and '"enqueued": 1' in report


def test_a_file_the_architecture_cannot_take_is_reported_and_the_run_fails(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json\n")
    lines: list[str] = []

    code = local_run.main(["--template", "Self-managed_Opt_Outs", "--input", str(garbage)], say=lines.append)

    assert code == 1
    assert any(line.startswith(f"== {garbage}: not delivered: {garbage}: neither a JSON document nor JSON lines")
               for line in lines), lines


@pytest.mark.parametrize(("argv", "message"), [
    (["--template", "No_Such_Template"], "unknown template No_Such_Template"),
    (["--template", "SMS_S3_drop", "--input", "/no/such/file.csv"], "no such file: /no/such/file.csv"),
])
def test_usage_errors_name_the_problem(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        local_run.parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_every_template_with_a_sample_flow_takes_input_of_its_own():
    from due_local.flows import FLOWS
    from scripts.cfn import available_templates

    assert set(FEEDS) == set(FLOWS) <= set(available_templates())


def test_the_readme_shows_a_local_run_of_every_flow():
    from due_local.flows import FLOWS

    assert f"local run: {len(FLOWS)} of {len(FLOWS)} flows passed" in README.read_text()
