from __future__ import annotations

from unittest import mock

import pytest

from scripts.deploy import build_code, prepare_local_artifacts


@pytest.fixture(scope="session")
def built_zip():
    """The code zip, built once per test session."""
    return build_code(lambda line: None)


@pytest.fixture
def artifacts(emulator, built_zip):
    """The zip uploaded to a fresh artifact bucket in the (just reset) emulator."""
    return prepare_local_artifacts(emulator, lambda line: None, built_zip)


class _RuleSetAsCloudFormationCreatesIt:
    """AWS::SES::ReceiptRuleSet, which moto 5.2.5's CloudFormation skips: created through moto's SES backend,
    which checks SES's name rules (64 characters at most, letters, digits, _ and -)."""

    def __init__(self, ses, name: str):
        self._ses, self.physical_resource_id = ses, name

    @classmethod
    def create_from_cloudformation_json(cls, _generated_name, resource_json, account_id, region_name, **_kwargs):
        from moto.ses.models import ses_backends

        ses = ses_backends[account_id][region_name]
        name = resource_json["Properties"]["RuleSetName"]
        ses.create_receipt_rule_set(name)
        return cls(ses, name)

    def is_created(self) -> bool:
        return True

    def delete(self, _account_id, _region_name):
        self._ses.delete_receipt_rule_set(self.physical_resource_id)


@pytest.fixture
def cloudformation_creates_rule_sets():
    from moto.cloudformation.parsing import get_model_map

    with mock.patch.dict(get_model_map(), {"AWS::SES::ReceiptRuleSet": _RuleSetAsCloudFormationCreatesIt}):
        yield
