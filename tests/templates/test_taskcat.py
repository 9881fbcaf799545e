""".taskcat.yml tests every template in two regions with parameters the template declares.

(`taskcat lint` checks the file's shape and lints the templates, but not parameter names.)
"""

from pathlib import Path

import yaml

from scripts.cfn import load_template
from tests.templates.conftest import TEMPLATE_NAMES

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[2] / ".taskcat.yml").read_text())


def test_every_template_has_a_test_in_at_least_two_regions():
    tested = {Path(test["template"]).stem: test for test in CONFIG["tests"].values()}
    assert set(tested) == set(TEMPLATE_NAMES)
    for name, test in tested.items():
        assert len(set(test.get("regions", CONFIG["project"]["regions"]))) >= 2, name


def test_parameters_are_declared_and_required_ones_given():
    project_parameters = CONFIG["project"].get("parameters", {})
    for test_name, test in CONFIG["tests"].items():
        declared = load_template(Path(test["template"]).stem)["Parameters"]
        given = {**{k: v for k, v in project_parameters.items() if k in declared}, **test.get("parameters", {})}
        assert set(test.get("parameters", {})) <= set(declared), f"{test_name} sets undeclared parameters"
        required = {k for k, spec in declared.items() if "Default" not in spec}
        assert required <= set(given), f"{test_name} misses {required - set(given)}"


def test_code_comes_from_the_taskcat_bucket():
    assert CONFIG["project"]["parameters"]["CodeBucket"] == "$[taskcat_autobucket]"
    assert CONFIG["project"]["parameters"]["CodeKey"] == f"{CONFIG['project']['name']}/dist/due-lambda.zip"
