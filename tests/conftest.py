"""Fixtures shared by every test.

* ``aws``: moto in-process (``mock_aws``) plus the harness's moto fixes, with
  fake credentials; yields a boto3 Session whose clients see the fakes.
* ``fakes``: the in-memory SES v2 / Pinpoint / SMS / Connect fakes on that session.
* ``emulator``: a moto server in this process with our handlers wired in, for
  whole-stack flows (one per test module, reset between tests).
"""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from due_local import moto_gaps
from due_local.fakes import Fakes
from due_local.lambda_runtime import LambdaContext, _clear_module_caches
from due_local.tables import create_table

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _isolated_from_real_aws(monkeypatch):
    """No test can reach a real account: fake credentials, no profile, one region."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    _clear_module_caches()
    yield
    _clear_module_caches()


@pytest.fixture
def no_backoff(monkeypatch):
    """botocore's retry sleeps are real seconds; tests count attempts, not wait for them."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def aws():
    with mock_aws(), moto_gaps.patched():
        boto3.setup_default_session(region_name=REGION)
        yield boto3.DEFAULT_SESSION
        boto3.DEFAULT_SESSION = None


@pytest.fixture
def fakes(aws) -> Fakes:
    return Fakes.attached_to(aws)


@pytest.fixture
def address_table(aws, monkeypatch) -> str:
    """An empty address table as the templates create it, named in ADDRESS_TABLE_NAME."""
    create_table(aws.client("dynamodb"), "addresses", "email")
    monkeypatch.setenv("ADDRESS_TABLE_NAME", "addresses")
    return "addresses"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture(scope="module")
def emulator_server():
    from due_local.emulator import Emulator

    with Emulator() as running:
        yield running


@pytest.fixture
def emulator(emulator_server, monkeypatch):
    """The module's emulator, empty: moto reset, fakes cleared, runtime records cleared."""
    emulator_server.reset()
    for fake in vars(emulator_server.fakes).values():
        fake.__init__()
    emulator_server.runtime.api_calls.clear()
    emulator_server.runtime.invocations.clear()
    for name, value in emulator_server.environment.items():
        monkeypatch.setenv(name, value)
    return emulator_server
