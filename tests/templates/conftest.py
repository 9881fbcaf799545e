from __future__ import annotations

from pathlib import Path

import pytest

from scripts.cfn import TEMPLATES_DIR, available_templates, load_template

TEMPLATE_NAMES = available_templates()


def resources_of(template: dict, *types: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] in types}


@pytest.fixture(params=TEMPLATE_NAMES)
def template_name(request) -> str:
    return request.param


@pytest.fixture
def template(template_name) -> dict:
    return load_template(template_name)


@pytest.fixture
def template_text(template_name) -> str:
    return Path(TEMPLATES_DIR, f"{template_name}.yaml").read_text()
