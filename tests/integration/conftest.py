from __future__ import annotations

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
