"""The README tells the truth about the templates."""

import re
from pathlib import Path

from scripts import diagrams
from scripts.cfn import load_template
from tests.templates.conftest import TEMPLATE_NAMES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_diagrams_are_generated_from_the_templates():
    assert diagrams.render(README) == README, "run: .venv/bin/python -m scripts.diagrams --write"


def _section(name: str) -> str:
    title = name.replace("_", " ")
    match = re.search(rf"^## {title}\n(.*?)(?=^## )", README, re.M | re.S)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def test_every_template_has_a_section_with_diagram_and_every_parameter():
    for name in TEMPLATE_NAMES:
        section = _section(name)
        assert f"<!-- diagram:{name} -->" in section
        for parameter in load_template(name)["Parameters"]:
            assert f"`{parameter}`" in section, f"{name}: parameter {parameter} is not documented"
        for output in load_template(name).get("Outputs", {}):
            assert f"`{output}`" in section, f"{name}: output {output} is not documented"


def test_architecture_table_marks_exactly_the_shipped_templates_implemented():
    rows = re.findall(r"^\| \d+ \| \[?(\w[\w-]*)\]?.*\| (implemented|planned) \|$", README, re.M)
    implemented = {name for name, status in rows if status == "implemented"}
    assert len(rows) == 13
    assert implemented == set(TEMPLATE_NAMES)


def _backticked(text: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", text)


def test_data_lake_view_catalogue_lists_exactly_each_views_columns():
    from due_local.athena_local import LocalAthena, view_files

    section = _section("S3_Data_Lake")
    email = _backticked(re.search(r"\*\*Every email view has\*\* (.*?);", section, re.S).group(1))
    sms = _backticked(re.search(r"\*\*every SMS view has\*\* (.*?)\. ", section, re.S).group(1))
    catalogue = re.search(r"^\| view \| one row per \|.*?\n\n", section, re.M | re.S).group(0)
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", catalogue, re.M))
    assert set(rows) == set(view_files())
    athena = LocalAthena().create_views()
    for view, listed in rows.items():
        common = email if view.startswith("email_") else sms if view.startswith("sms_") else []
        assert set(athena.columns(view)) == set(common + _backticked(listed)), view


def test_data_lake_example_queries_are_the_athena_files():
    from due_local.athena_local import query_files

    section = _section("S3_Data_Lake")
    for path in query_files().values():
        assert f"```sql\n{path.read_text()}```" in section, path.name
