"""Templates and code agree: handlers exist, environment variables are set, code comes from the zip."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from due_local.lambda_runtime import resolve_handler
from tests.templates.conftest import resources_of

SRC = Path(__file__).resolve().parents[2] / "src"
# Set by the Lambda runtime itself, or optional Powertools settings with defaults.
RUNTIME_VARIABLES = {"AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}


def functions(template) -> dict[str, dict]:
    return resources_of(template, "AWS::Lambda::Function")


def test_templates_have_functions_or_say_why_not(template):
    assert functions(template), "every architecture so far runs code"


def test_every_handler_resolves_to_a_function_in_src(template):
    for logical_id, function in functions(template).items():
        handler = function["Properties"]["Handler"]
        assert handler.startswith("due."), f"{logical_id}: {handler} is not in the due package"
        assert callable(resolve_handler(handler)), f"{logical_id}: {handler}"


def test_code_comes_from_the_packaged_zip(template, template_text):
    assert "ZipFile" not in template_text
    assert {"CodeBucket", "CodeKey"} <= set(template["Parameters"])
    for logical_id, function in functions(template).items():
        assert function["Properties"]["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}, \
            logical_id


def _module_path(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:  # "from due.x import SomeClass": not a module
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _due_modules_reached(module: str) -> set[str]:
    """The due.* modules ``module`` imports, transitively (read from the source, not run)."""
    seen, pending = set(), [module]
    while pending:
        name = pending.pop()
        path = _module_path(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                pending.extend(a.name for a in node.names if a.name.startswith("due"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("due"):
                pending.append(node.module)
                pending.extend(f"{node.module}.{a.name}" for a in node.names)  # submodules imported by name
    return seen


def _environment_reads(module: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(_module_path(module).read_text())):
        # os.environ["X"], os.environ.get("X", ...), os.getenv("X")
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            names.add(ast.literal_eval(node.slice))
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv"):
            names.add(ast.literal_eval(node.args[0]))
    return names


def test_every_environment_variable_the_code_reads_is_set(template):
    for logical_id, function in functions(template).items():
        module = function["Properties"]["Handler"].rpartition(".")[0]
        read = set().union(*(_environment_reads(m) for m in _due_modules_reached(module)))
        set_by_template = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        assert read - RUNTIME_VARIABLES <= set_by_template, f"{logical_id} reads variables the template never sets"
        assert set_by_template - RUNTIME_VARIABLES <= read, f"{logical_id} sets variables the code never reads"
