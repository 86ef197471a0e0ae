"""Run a Pulumi program under the SDK's mock engine and record what it declares.

No CLI, no provider plugins, no credentials, no network: the program runs in
this process against ``pulumi.runtime.set_mocks``, exactly as its own
``__main__.py`` would under ``pulumi up``, and a recording monitor keeps every
registration (type, name, parent, inputs, options), every invoke and the stack
outputs. Two entry points share one loop:

- ``plan_stack("prod")``: the project's real program with its real stack file;
- ``record(fn, stack=..., region=...)``: any callable, for component tests.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks, rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from infra.plan.cloud import CloudMocks
from infra.plan.model import COMPUTED, Diagnostic, Plan, PlannedResource
from infra.settings.platform import load_settings
from infra.stackfiles.read import SECRET, find_root, read_project, read_stack_config

STACK_TYPE = "pulumi:pulumi:Stack"
_ONE_AT_A_TIME = threading.Lock()


class PlanError(Exception):
    """The program stopped with a message meant for people (``pulumi.RunError``)."""


def _plain(value: Any) -> Any:
    """A deserialized property as JSON-safe data: secrets masked, unknowns marked."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return COMPUTED
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _parent(urn: str) -> str | None:
    """The parent's URN, or None when the parent is the stack itself."""
    return None if not urn or urn.split("::")[2] == STACK_TYPE else urn


class _RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, keeping what ``MockResourceArgs`` leaves out."""

    def __init__(self, cloud: CloudMocks):
        super().__init__(cloud)
        self.recorded: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            return response
        registration = self.resources[response.urn]
        inputs = rpc.deserialize_properties(request.object)
        resource = PlannedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=_parent(request.parent),
            custom=bool(request.custom),
            inputs=_plain(inputs),
            outputs=_plain(registration.state),
            id=registration.id or None,
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            depends_on=sorted(request.dependencies),
        )
        with self._lock:
            if response.urn in self._seen:
                # The real engine refuses this too: two resources with one name and type.
                raise PlanError(f"duplicate resource {request.type} named {request.name!r}")
            self._seen.add(response.urn)
            self.recorded.append(resource)
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        if f"::{STACK_TYPE}::" in request.urn:
            with self._lock:
                self.stack_outputs.update(_plain(rpc.deserialize_properties(request.outputs)))
        return super().RegisterResourceOutputs(request)


_LOOP: asyncio.AbstractEventLoop | None = None


def _engine_loop() -> asyncio.AbstractEventLoop:
    """One event loop for every plan in the process, made again only if someone closed it.

    A loop per plan would leak one each; closing it after each plan would also
    stop its executor, whose threads the SDK gave loops of their own, and those
    fail noisily when garbage-collected.
    """
    global _LOOP  # noqa: PLW0603 - process-wide, like Pulumi's runtime itself
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    return _LOOP


class _Diagnostics(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[Diagnostic] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.records.append(Diagnostic(record.levelname.lower(), record.getMessage()))


def record(
    program: Callable[[], Any],
    *,
    project: str = "modelfleet",
    stack: str = "test",
    region: str = "eu-west-1",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
) -> Plan:
    """Run ``program`` as a Pulumi program under mocks and return what it declared.

    Pulumi's runtime is process-global, so plans run one at a time: concurrent
    callers wait here (use processes to plan stacks in parallel).
    """
    with _ONE_AT_A_TIME:
        return _record(program, project, stack, region, config or {}, secret_keys or [])


def _record(
    program: Callable[[], Any],
    project: str,
    stack: str,
    region: str,
    config: Mapping[str, str],
    secret_keys: list[str],
) -> Plan:
    cloud = CloudMocks(stack, region)
    monitor = _RecordingMonitor(cloud)
    diagnostics = _Diagnostics()
    logger = logging.getLogger(f"modelfleet.plan.{stack}")
    logger.handlers = [diagnostics]
    logger.propagate = False

    # A fresh runtime each time, so several plans can run in one process, on the
    # engine's own event loop: code that ran asyncio.run() before leaves none behind.
    asyncio.set_event_loop(_engine_loop())
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    set_all_config({"aws:region": region, **config}, secret_keys)
    runtime_settings.set_root_resource(None)
    mocks.set_mocks(cloud, project=project, stack=stack, preview=True, logger=logger, monitor=monitor)
    runtime_settings.set_root_resource(None)  # run_in_stack makes the real root, as `pulumi up` does
    try:
        _sync_await(run_in_stack(program))
    except pulumi.RunError as error:
        raise PlanError(str(error)) from None
    finally:
        set_all_config({}, [])

    return Plan(
        project=project,
        stack=stack,
        region=region,
        resources=sorted(monitor.recorded, key=lambda r: r.urn),
        invokes=sorted(cloud.invokes, key=lambda i: (i.token, repr(i.args))),
        outputs=dict(sorted(monitor.stack_outputs.items())),
        diagnostics=diagnostics.records,
    )


def plan_stack(stack: str, *, root: Path | None = None, stack_file: Path | None = None) -> Plan:
    """Plan one of the project's stacks offline: its real program, its real stack file.

    The settings are validated before the program starts, so a bad stack file
    raises ``SettingsError`` with every problem and declares nothing.
    """
    project = read_project(root or find_root(Path.cwd()))
    config = read_stack_config(project, stack_file or project.stack_file(stack))
    settings = load_settings(stack, config.values)
    return record(
        lambda: runpy.run_path(str(project.main), run_name="__main__"),
        project=project.name,
        stack=stack,
        region=settings.region,
        config=config.values,
        secret_keys=config.secret_keys,
    )
