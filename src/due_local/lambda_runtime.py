"""Run our handlers in this process the way Lambda would.

``LambdaRuntime.invoke`` imports a function's ``Handler`` from ``src/``, sets
its environment variables for the call, and gives it a context object. Each
function gets a cold start when the runtime switches to it from another
function (module-level caches are cleared), as separate Lambda functions would.

``install_into_moto`` makes moto run our handlers in-process wherever it would
start a Docker container: direct Invoke, S3 and SNS deliveries, Step Functions
tasks and CloudFormation custom resources.
"""

from __future__ import annotations

import contextvars
import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(REPO_ROOT, "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    timeout_seconds: int = 30
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000), 0)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str  # "due.module.function"
    environment: dict[str, str] = field(default_factory=dict)
    timeout_seconds: int = 30


# Operations whose IAM action has another name.
_ACTION_OF_OPERATION = {"s3:HeadObject": "s3:GetObject", "sqs:SendMessageBatch": "sqs:SendMessage",
                        "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
                        # SNS API reference, PublishBatch: the batch is authorised as sns:Publish.
                        "sns:PublishBatch": "sns:Publish",
                        # The Service Authorization Reference's table of Customer Profiles operations has no
                        # BatchPutProfileObject row and no such action: the batch is taken to need the action of
                        # the object it puts (an assumption a real deployment confirms; see the import's page).
                        "profile:BatchPutProfileObject": "profile:PutProfileObject",
                        # S3 User Guide, "Multipart upload and permissions": creating an upload, its parts and
                        # completing it need s3:PutObject; DeleteObjects (API reference) s3:DeleteObject per key.
                        "s3:CreateMultipartUpload": "s3:PutObject", "s3:UploadPart": "s3:PutObject",
                        "s3:CompleteMultipartUpload": "s3:PutObject", "s3:DeleteObjects": "s3:DeleteObject"}


def iam_action(model, params: dict) -> str:
    """The IAM action a call needs, e.g. s3:GetObjectVersion for a GetObject with a VersionId."""
    action = f"{model.service_model.signing_name}:{model.name}"
    action = _ACTION_OF_OPERATION.get(action, action)
    if action == "s3:GetObject" and params.get("VersionId"):
        return "s3:GetObjectVersion"
    return action


def _passes_a_role(params: Any) -> bool:
    """Whether a request hands the service a role to assume: an IAM role ARN anywhere in it (RoleArn,
    TwoWayChannelRole, WriteEventStream.RoleArn, ...)."""
    if isinstance(params, str):
        return params.startswith("arn:") and ":iam::" in params and ":role/" in params
    if isinstance(params, dict):
        return any(_passes_a_role(value) for value in params.values())
    if isinstance(params, list):
        return any(_passes_a_role(value) for value in params)
    return False


def resolve_handler(handler: str) -> Callable:
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {handler!r} is not module.function")
    return getattr(importlib.import_module(module_name), attribute)


def _clear_module_caches() -> None:
    """A cold start: drop every lru_cache in our package (clients, settings)."""
    for name, module in list(sys.modules.items()):
        if name == "due" or name.startswith("due."):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


# The function running in this context; threads started with a copy of the context (as due.send_time.lookup's
# within_budget does) see it too.
CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("due_local_function", default=None)

# The running invocation's own variables (None outside one), read through InvocationEnviron.
_INVOCATION_VARIABLES: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "due_local_environment", default=None)


class InvocationEnviron(MutableMapping):
    """``os.environ`` as each invocation sees it: its function's variables over the process's.

    moto runs Step Functions tasks and S3 deliveries in threads of its own, so two functions (or a function
    and the test creating a client) run at once. Patching the one process-wide ``os.environ`` per call let
    one thread clear it while another iterated it (botocore reads proxies that way), and let a function
    see another's variables; separate Lambda sandboxes share neither. Outside an invocation every read and
    write goes to the process's environment.
    """

    def __init__(self, process: MutableMapping):
        self.process = process

    def __getitem__(self, key: str) -> str:
        variables = _INVOCATION_VARIABLES.get()
        if variables is not None and key in variables:
            return variables[key]
        return self.process[key]

    def __setitem__(self, key: str, value: str) -> None:
        variables = _INVOCATION_VARIABLES.get()
        (variables if variables is not None else self.process)[key] = value

    def __delitem__(self, key: str) -> None:
        variables = _INVOCATION_VARIABLES.get()
        if variables is not None and key in variables:
            del variables[key]
        else:
            del self.process[key]

    def __iter__(self) -> Iterator[str]:
        variables = _INVOCATION_VARIABLES.get() or {}
        return iter(list(dict.fromkeys([*self.process.keys(), *variables])))  # a snapshot: others may write

    def __len__(self) -> int:
        return len(list(iter(self)))

    def copy(self) -> dict[str, str]:
        return dict(self)


def _invocation_environ() -> InvocationEnviron:
    """Put InvocationEnviron in place of os.environ (once; it passes through outside invocations)."""
    if not isinstance(os.environ, InvocationEnviron):
        os.environ = InvocationEnviron(os.environ)  # noqa: B003 (a view over the same environment, not a new one)
    return os.environ


class LambdaRuntime:
    def __init__(self, log_level: str | None = None):
        self._log_level = {"POWERTOOLS_LOG_LEVEL": log_level} if log_level else {}
        self._warm: str | None = None
        self._local = threading.local()  # which function this thread is running, if any
        self.invocations: list[tuple[str, Any]] = []  # (function name, event) in order
        # function name -> {"service:Operation"} its code called, in IAM's naming
        self.api_calls: dict[str, set[str]] = {}
        # receipt handles whose visibility a function's code set itself (a message it holds back on purpose)
        self.visibility_set: set[str] = set()

    def record_api_calls(self, session) -> None:
        """Record, per function, every AWS operation its code performs through ``session``'s clients."""
        session.events.register("before-parameter-build", self._record_call, unique_id="lambda-runtime-recorder")

    def _record_call(self, model, params, **_kwargs):
        # A thread the function's code started (a lookup with a time budget) carries the function in its
        # copied context (contextvars.copy_context), not in this thread-local.
        current = getattr(self._local, "function", None) or CURRENT_FUNCTION.get()
        if current is not None:
            calls = self.api_calls.setdefault(current, set())
            calls.add(iam_action(model, params))
            if model.name == "ChangeMessageVisibility":
                self.visibility_set.add(params.get("ReceiptHandle", ""))
            if _passes_a_role(params):  # a call that hands a service a role needs iam:PassRole on it
                calls.add("iam:PassRole")

    @contextmanager
    def _environment(self, spec: FunctionSpec):
        if self._warm != spec.name:
            _clear_module_caches()
            self._warm = spec.name
        _invocation_environ()
        variables = _INVOCATION_VARIABLES.set({**spec.environment, **self._log_level,
                                               "AWS_LAMBDA_FUNCTION_NAME": spec.name})
        self._local.function = spec.name
        token = CURRENT_FUNCTION.set(spec.name)
        try:
            yield
        finally:
            self._local.function = None
            CURRENT_FUNCTION.reset(token)
            _INVOCATION_VARIABLES.reset(variables)

    def invoke(self, spec: FunctionSpec, event: Any) -> Any:
        """Call the function; exceptions propagate, as a synchronous Invoke's FunctionError would."""
        self.invocations.append((spec.name, event))
        with self._environment(spec):
            handler = resolve_handler(spec.handler)
            return handler(event, LambdaContext(function_name=spec.name, timeout_seconds=spec.timeout_seconds))


def spec_from_moto(function) -> FunctionSpec:
    """A FunctionSpec for a moto ``LambdaFunction`` model."""
    return FunctionSpec(
        name=function.function_name,
        handler=function.handler,
        environment={k: str(v) for k, v in (function.environment_vars or {}).items()},
        timeout_seconds=int(function.timeout or 30),
    )


@contextmanager
def install_into_moto(runtime: LambdaRuntime):
    """While active, moto runs our handler code in-process instead of in Docker."""
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(function, event=None):
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        try:
            result = runtime.invoke(spec_from_moto(function), payload)
            return json.dumps(result), False, ""
        except Exception as exc:  # reported as a function error, as Lambda does
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc),
                     "stackTrace": traceback.format_tb(exc.__traceback__)}
            return json.dumps(error), True, traceback.format_exc()

    with mock.patch.object(LambdaFunction, "_invoke_lambda", _invoke_lambda):
        yield runtime
