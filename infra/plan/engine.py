"""Run a Pulumi program under the SDK's mock engine and record what it declares.

No CLI, no provider plugins, no credentials, no network: the program runs in
this process against ``pulumi.runtime.set_mocks``, exactly as its own
``__main__.py`` would under ``pulumi up``, and a recording monitor keeps every
registration (type, name, parent, inputs, options), every invoke and the stack
outputs. Every use of the SDK's private or internal names goes through
``pulumi_compat``, which states the SDK versions it supports. Two entry points
share one loop:

- ``plan_stack("prod")``: the project's real program with its real stack file;
- ``record(fn, stack=..., region=...)``: any callable, for component tests.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import runpy
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi

from infra.plan import pulumi_compat, urns
from infra.plan.cache import PlanCache, plan_key
from infra.plan.cloud import CloudMocks
from infra.plan.model import COMPUTED, Diagnostic, Plan, PlannedResource
from infra.settings.platform import load_settings
from infra.stackfiles.read import SECRET, Project, find_root, read_project, read_stack_config

STACK_TYPE = pulumi_compat.STACK_TYPE
_ONE_AT_A_TIME = threading.Lock()


class PlanError(Exception):
    """The program stopped with a message meant for people (``pulumi.RunError``)."""


def _plain(value: Any) -> Any:
    """A deserialized property as JSON-safe data: secrets masked, unknowns marked.

    The exact built-in types come first, by type: they are nearly all a plan holds.
    """
    kind = type(value)
    if kind is str:
        return COMPUTED if pulumi_compat.is_unknown(value) else value
    if kind is dict:
        if pulumi_compat.is_secret(value):
            return SECRET
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    if kind is float:
        return int(value) if value.is_integer() else value  # protobuf carries every number as a double
    if kind is bool or kind is int or value is None:
        return value
    if kind is list:
        return [_plain(v) for v in value]
    return _plain_other(value)


def _plain_other(value: Any) -> Any:
    if isinstance(value, dict):
        if pulumi_compat.is_secret(value):
            return SECRET
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if pulumi_compat.is_unknown(value):
        return COMPUTED
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return _asset(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _asset(value: pulumi.Asset | pulumi.Archive) -> Any:
    """An asset or archive as what it holds: paths from the checkout's root, and a digest of the bytes.

    The same files give the same plan in any checkout, and a changed file shows as a changed input.
    """
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _asset(inner) for name, inner in sorted(value.assets.items())}}
    if isinstance(value, pulumi.StringAsset):
        return f"<text sha256:{hashlib.sha256(value.text.encode()).hexdigest()[:16]}>"
    path = Path(getattr(value, "path", "") or "")
    if not path.exists():
        return f"<missing {_from_root(path)}>"
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        digest.update(file.read_bytes())
    return f"<file {_from_root(path)} sha256:{digest.hexdigest()[:16]}>"


def _from_root(path: Path) -> str:
    root = Path(__file__).resolve().parents[2]  # the checkout: infra/plan/engine.py
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.name


def _parent(urn: str) -> str | None:
    """The parent's URN, or None when the parent is the stack itself."""
    return None if not urn or urn.split("::")[2] == STACK_TYPE else urn


class _RecordingMonitor(pulumi_compat.MockMonitor):
    """The SDK's mock monitor, keeping what ``MockResourceArgs`` leaves out."""

    def __init__(self, cloud: CloudMocks, project: str, stack: str):
        super().__init__(cloud)
        self.project, self.stack = project, stack
        self._real: dict[str, str] = {}  # the mock's URN -> the engine's (infra.plan.urns)
        self.recorded: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def _engine_urn(self, mock_urn: str) -> str | None:
        if not mock_urn or mock_urn.split("::")[2] == STACK_TYPE:
            return None  # a child of the stack itself
        return self._real.get(mock_urn)

    def _former(self, registration: pulumi_compat.Registration) -> list[str]:
        """Each alias as the engine URN it names (a spec's empty parts: as the resource is now)."""
        found = []
        for alias in registration.aliases:
            if alias.urn:
                found.append(alias.urn)
                continue
            parent = None if alias.no_parent else self._engine_urn(alias.parent_urn or registration.parent)
            name, type_ = alias.name or registration.name, alias.type or registration.type
            found.append(urns.urn(self.stack, self.project, parent, type_, name))
        return sorted(found)

    def on_resource(self, registration: pulumi_compat.Registration) -> None:
        parent = self._engine_urn(registration.parent)
        with self._lock:
            self._real[registration.urn] = urns.urn(
                self.stack, self.project, parent, registration.type, registration.name
            )
        resource = PlannedResource(
            urn=registration.urn,
            type=registration.type,
            name=registration.name,
            parent=_parent(registration.parent),
            custom=registration.custom,
            inputs=_plain(registration.inputs),
            outputs=_plain(registration.state),
            id=registration.id or None,
            protect=registration.protect,
            retain_on_delete=registration.retain_on_delete,
            depends_on=sorted(registration.dependencies),
            aliases=self._former(registration),
            ignore_changes=registration.ignore_changes,
        )
        with self._lock:
            if registration.urn in self._seen:
                # The real engine refuses this too: two resources with one name and type.
                raise PlanError(f"duplicate resource {registration.type} named {registration.name!r}")
            self._seen.add(registration.urn)
            self.recorded.append(resource)

    def on_stack_outputs(self, outputs: dict[str, Any]) -> None:
        with self._lock:
            self.stack_outputs.update(_plain(outputs))


_LOOP: asyncio.AbstractEventLoop | None = None


def engine_loop() -> asyncio.AbstractEventLoop:
    """One event loop for every plan in the process, made again only if someone closed it.

    A loop per plan would leak one each. The loop runs the SDK's calls to the mock
    monitor on its own thread (``pulumi_compat.new_event_loop``).
    """
    global _LOOP  # noqa: PLW0603 - process-wide, like Pulumi's runtime itself
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = pulumi_compat.new_event_loop()
    return _LOOP


_INHERITED_LOOPS: list[asyncio.AbstractEventLoop] = []


def after_fork() -> None:
    """In a process forked from one that planned: the next plan makes a loop of its own.

    The inherited loop shares its selector with the parent's; it is kept, never closed,
    since closing it would unregister the parent's file descriptors too.
    """
    global _LOOP  # noqa: PLW0603 - process-wide, like Pulumi's runtime itself
    if _LOOP is not None:
        _INHERITED_LOOPS.append(_LOOP)
    _LOOP = None


@contextmanager
def _collected_once() -> Iterator[None]:
    """The cycle collector held off while the program runs, then run once over what it made.

    The SDK makes dozens of futures, tasks and Outputs per resource, all tied to each
    other through the resources, and keeps them until the program ends: a collection
    during the program walks all of them again each time, which doubled a plan's time.
    Afterwards one collection frees them; the objects the process held before the plan
    (imported modules, mostly) are frozen for it, so it walks only the plan's own.
    Someone else's frozen objects, or a collector they turned off, are left as they are.
    """
    enabled = gc.isenabled()
    freeze = enabled and gc.get_freeze_count() == 0
    gc.disable()
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if enabled:
            gc.collect()
            gc.enable()
        if freeze:
            gc.unfreeze()


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
    callers wait here (``infra.plan.parallel`` plans stacks in worker processes).
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
    monitor = _RecordingMonitor(cloud, project, stack)
    diagnostics = _Diagnostics()
    logger = logging.getLogger(f"modelfleet.plan.{stack}")
    logger.handlers = [diagnostics]
    logger.propagate = False

    # A fresh runtime each time, so several plans can run in one process, on the
    # engine's own event loop: code that ran asyncio.run() before leaves none behind.
    asyncio.set_event_loop(engine_loop())
    pulumi_compat.reset_runtime()
    pulumi_compat.set_config({"aws:region": region, **config}, secret_keys)
    pulumi_compat.install_mocks(cloud, monitor, project=project, stack=stack, logger=logger)
    try:
        with _collected_once():
            pulumi_compat.run_program(program)
    except pulumi.RunError as error:
        raise PlanError(str(error)) from None
    finally:
        pulumi_compat.set_config({}, [])

    return Plan(
        project=project,
        stack=stack,
        region=region,
        resources=sorted(monitor.recorded, key=lambda r: r.urn),
        invokes=sorted(cloud.invokes, key=lambda i: (i.token, repr(i.args))),
        outputs=dict(sorted(monitor.stack_outputs.items())),
        diagnostics=diagnostics.records,
    )


class _Default:
    """``plan_stack``'s cache when none is named: ``PlanCache.default()``."""


DEFAULT_CACHE = _Default()


def plan_stack(
    stack: str,
    *,
    root: Path | None = None,
    stack_file: Path | None = None,
    cache: PlanCache | _Default | None = DEFAULT_CACHE,
) -> Plan:
    """Plan one of the project's stacks offline: its real program, its real stack file.

    The settings are validated before the program starts, so a bad stack file
    raises ``SettingsError`` with every problem and declares nothing.

    A plan of the same inputs made before is read back from ``cache`` (by default the
    user's plan cache, ``infra.plan.cache``; None plans every time).
    """
    project = read_project(root or find_root(Path.cwd()))
    path = stack_file or project.stack_file(stack)
    if isinstance(cache, _Default):
        cache = PlanCache.default()
    key = _cache_key(cache, stack, path, project)
    if key is not None and (kept := cache.load(key)) is not None:
        return kept
    config = read_stack_config(project, path)
    settings = load_settings(stack, config.values)
    plan = record(
        lambda: runpy.run_path(str(project.main), run_name="__main__"),
        project=project.name,
        stack=stack,
        region=settings.region,
        config=config.values,
        secret_keys=config.secret_keys,
    )
    if key is not None:
        cache.save(key, plan)
    return plan


def _cache_key(cache: PlanCache | None, stack: str, stack_file: Path, project: Project) -> str | None:
    if cache is None:
        return None
    try:
        return plan_key(stack, stack_file.read_bytes(), project.root / "Pulumi.yaml", project.main.parent)
    except OSError:  # a missing stack file: planning says so
        return None
