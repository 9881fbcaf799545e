"""The README and the architecture pages (docs/<template>.md) tell the truth about the templates."""

import re
from pathlib import Path

import pytest

from scripts import diagrams
from scripts.cfn import load_template
from tests.templates.conftest import TEMPLATE_NAMES

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MARKDOWN_FILES = [README, *sorted((REPO / "docs").glob("*.md"))]
# What a page holds, in this order, after its diagram.
PAGE_SECTIONS = ["What it needs in the account", "Launch it", "Parameters and outputs", "Behaviour", "Limits"]


def _page(name: str) -> str:
    path = diagrams.page_path(name)
    assert path.is_file(), f"templates/{name}.yaml has no page {path.relative_to(REPO)}"
    return path.read_text()


def test_every_template_has_its_page(template_name):
    _page(template_name)


def test_diagrams_are_generated_from_the_templates():
    assert diagrams.problems(write=False) == [], "run: .venv/bin/python -m scripts.diagrams --write"


def test_page_documents_every_parameter_and_output(template_name):
    page, template = _page(template_name), load_template(template_name)
    for parameter in template["Parameters"]:
        assert f"`{parameter}`" in page, f"{template_name}: parameter {parameter} is not documented"
    for output in template.get("Outputs", {}):
        assert f"`{output}`" in page, f"{template_name}: output {output} is not documented"


def test_page_opens_with_its_diagram_then_the_sections_in_order(template_name):
    page = _page(template_name)
    headings = re.findall(r"^## (.+)$", page, re.M)
    assert page.index(f"<!-- diagram:{template_name} -->") < page.index("\n## "), "the diagram comes first"
    positions = []
    for section in PAGE_SECTIONS:
        found = [i for i, heading in enumerate(headings) if heading.startswith(section)]
        assert found, f"docs/{template_name}.md has no '## {section}' section"
        positions.append(found[0])
    assert positions == sorted(positions), f"docs/{template_name}.md: sections not in the order {PAGE_SECTIONS}"


def test_architecture_table_links_exactly_the_shipped_templates_to_their_pages():
    rows = re.findall(r"^\| \d+ \| (\[?[\w-]+\]?(?:\([^)]*\))?) \|.*\| (implemented|planned) \|$",
                      README.read_text(), re.M)
    assert len(rows) == 13
    implemented = {cell: status for cell, status in rows if status == "implemented"}
    assert set(implemented) == {f"[{name}](docs/{name}.md)" for name in TEMPLATE_NAMES}


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(heading) for heading in re.findall(r"^#+ (.+)$", path.read_text(), re.M)}


def _relative_links(path: Path) -> list[str]:
    prose = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", prose)
    return [link for link in links if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_points_to_a_file_that_exists(path):
    for link in _relative_links(path):
        target, _, anchor = link.partition("#")
        resolved = (path.parent / target).resolve() if target else path
        assert resolved.exists(), f"{path.relative_to(REPO)}: link {link} points to nothing"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{path.relative_to(REPO)}: link {link}: no such heading"


def _backticked(text: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", text)


def test_data_lake_view_catalogue_lists_exactly_each_views_columns():
    from due_local.athena_local import LocalAthena, view_files

    page = _page("S3_Data_Lake")
    email = _backticked(re.search(r"\*\*Every email view has\*\* (.*?);", page, re.S).group(1))
    sms = _backticked(re.search(r"\*\*every SMS view has\*\* (.*?)\. ", page, re.S).group(1))
    catalogue = re.search(r"^\| view \| one row per \|.*?\n\n", page, re.M | re.S).group(0)
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", catalogue, re.M))
    assert set(rows) == set(view_files())
    athena = LocalAthena().create_views()
    for view, listed in rows.items():
        common = email if view.startswith("email_") else sms if view.startswith("sms_") else []
        assert set(athena.columns(view)) == set(common + _backticked(listed)), view


def test_data_lake_example_queries_are_the_athena_files():
    from due_local.athena_local import query_files

    page = _page("S3_Data_Lake")
    for path in query_files().values():
        assert f"```sql\n{path.read_text()}```" in page, path.name


def test_diagram_follows_a_sub_in_its_list_form():
    """``!Sub ["events/${Format}/...", {Format: ...}]`` names the same bucket and prefix as a plain ``!Sub``."""
    fmt = {"Format": {"Fn::If": ["StoreParquet", "parquet", "json"]}}
    template = {"Conditions": {"StoreParquet": {"Fn::Equals": ["a", "a"]}}, "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Stream": {"Type": "AWS::KinesisFirehose::DeliveryStream", "Properties": {
            "ExtendedS3DestinationConfiguration": {"BucketARN": {"Fn::GetAtt": ["Bucket", "Arn"]},
                                                   "Prefix": {"Fn::Sub": ["events/${Format}/dt=x/", fmt]}}}},
        "Table": {"Type": "AWS::Glue::Table", "Properties": {"TableInput": {"StorageDescriptor": {
            "Location": {"Fn::Sub": ["s3://${Bucket}/events/${Format}/", fmt]}}}}},
    }}
    drawn = diagrams.mermaid(template)
    assert "Stream -->|writes events/ by event date| Bucket" in drawn
    assert "Table -->|reads, partitions projected| Bucket" in drawn


def test_diagram_draws_what_a_state_machine_runs_and_who_starts_it():
    """A state machine's task states are drawn on the edge to the function they invoke."""
    template = {"Resources": {
        "Steps": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "due.x.handler", "Role": {"Ref": "Role"}}},
        "Starter": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "due.y.handler", "Role": {"Ref": "Role"},
            "Environment": {"Variables": {"STATE_MACHINE_ARN": {"Ref": "Machine"}}}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionSubstitutions": {"StepsArn": {"Fn::GetAtt": ["Steps", "Arn"]}},
            "Definition": {"StartAt": "Begin", "States": {
                "Begin": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                          "Parameters": {"FunctionName": "${StepsArn}"}, "Next": "Wait"},
                "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Finish"},
                "Finish": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                           "Parameters": {"FunctionName": "${StepsArn}"}, "End": True}}}}},
    }}
    drawn = diagrams.mermaid(template)
    assert "Machine -->|Begin, Finish| Steps" in drawn
    assert "Starter -->|starts executions| Machine" in drawn
