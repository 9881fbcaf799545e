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


def parameter_values(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """Every parameter's value: the given one, else its default."""
    values = {name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec}
    values.update(given)
    return values


def evaluate_conditions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, bool]:
    """The truth of each condition for these parameter values (Equals, Not, And, Or, Condition)."""
    conditions = template.get("Conditions", {})
    results: dict[str, bool] = {}

    def value(operand: Any) -> Any:
        return parameters[operand["Ref"]] if isinstance(operand, dict) and "Ref" in operand else operand

    def truth(expression: Any) -> bool:
        (function, arguments), = expression.items()
        if function == "Condition":
            return condition(arguments)
        if function == "Fn::Equals":
            return str(value(arguments[0])) == str(value(arguments[1]))
        if function == "Fn::Not":
            return not truth(arguments[0])
        if function == "Fn::And":
            return all(truth(a) for a in arguments)
        if function == "Fn::Or":
            return any(truth(a) for a in arguments)
        raise TemplateError(f"cannot evaluate condition function {function}")

    def condition(name: str) -> bool:
        if name not in results:
            results[name] = truth(conditions[name])
        return results[name]

    for name in conditions:
        condition(name)
    return results


_NO_VALUE = object()


def resolve_conditionals(value: Any, conditions: dict[str, bool]) -> Any:
    """``value`` with every Fn::If decided and every AWS::NoValue dropped."""
    if isinstance(value, dict):
        if "Fn::If" in value:
            name, when_true, when_false = value["Fn::If"]
            return resolve_conditionals(when_true if conditions[name] else when_false, conditions)
        if value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        resolved = {k: resolve_conditionals(v, conditions) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
    if isinstance(value, list):
        return [v for v in (resolve_conditionals(item, conditions) for item in value) if v is not _NO_VALUE]
    return value
