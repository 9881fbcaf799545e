"""Reading this project's CloudFormation templates (shared by the deploy script, diagrams and tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class TemplateError(Exception):
    pass


def available_templates() -> list[str]:
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.yaml"))


def load_template(name: str) -> dict[str, Any]:
    """The template as data, short-form tags (!Ref, !Sub ...) turned into their long forms."""
    from cfnlint.decode import decode

    template, matches = decode(str(TEMPLATES_DIR / f"{name}.yaml"))
    if matches:
        raise TemplateError(f"{name}.yaml does not parse: {matches[0]}")
    return template


def references(value: Any) -> list[str]:
    """Logical ids that ``value`` (any fragment of a template) refers to with Ref or GetAtt."""
    found: list[str] = []
    if isinstance(value, dict):
        if "Ref" in value:
            found.append(value["Ref"])
        if "Fn::GetAtt" in value:
            found.append(value["Fn::GetAtt"][0])
        for inner in value.values():
            found.extend(references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(references(inner))
    return found


def as_list(value: Any) -> list:
    """Policy fields hold one value or a list of them."""
    return value if isinstance(value, list) else [value]
