"""The only way from the offline plan engine into the Pulumi SDK's private and internal names.

Supported Pulumi SDK: ``pulumi >=3.272.0,<4`` (``SUPPORTED_VERSIONS``). The floor is
the version the tests were run with (the pin in ``requirements.txt``); the ceiling is
the next major release. A 3.x release in between may still rename an internal, which
is what the canary, ``tests/plan/test_pulumi_compat.py``, checks on every test run.

``engine.py`` runs the real program in this process under the SDK's mock engine and
records what it declares. The public testing API (``pulumi.runtime.Mocks`` and
``set_mocks``) hands each resource to the mocks with its type, name and inputs only, and
expects one program per process. The engine needs the rest of each registration and
several programs per process, so it relies on these internals (``INTERNALS`` and
``GRPC_FIELDS`` list each with its reason, and the canary checks each one):

- ``pulumi.runtime.mocks.MockMonitor``, subclassed here: its gRPC methods
  ``RegisterResource`` and ``RegisterResourceOutputs``, its ``resources`` dict of
  ``ResourceRegistration`` (the mock's id and state), and the request fields in
  ``GRPC_FIELDS`` (``pulumi.runtime.proto.resource_pb2``). They give each resource's
  parent, options, dependencies and the stack outputs, which ``Mocks.new_resource``
  never sees. ``pulumi.runtime.mocks.set_mocks`` takes the subclass as ``monitor``.
- ``pulumi.runtime.rpc.deserialize_properties``: the monitor's gRPC structs as Python values.
- ``pulumi.runtime.rpc._special_sig_key`` and ``pulumi.runtime.rpc._special_secret_sig``:
  how a secret looks once deserialized, so that the plan can mask it.
- ``pulumi.runtime.rpc.UNKNOWN`` and ``pulumi.output.Unknown``: how a value that is known
  only after a deployment looks, so that the plan can mark it as computed.
- ``pulumi.runtime.settings.SETTINGS`` (its ``Settings.rpc_manager``, cleared with
  ``pulumi.runtime.rpc_manager.RPCManager.clear``, and its ``Settings.outputs``),
  ``pulumi.runtime.settings.set_root_resource`` and ``pulumi.runtime.config.set_all_config``:
  the SDK's runtime is process-global, so each plan starts with no pending calls or
  outputs from the one before, its own config and secret keys, and no root resource.
- ``pulumi.runtime.stack.run_in_stack`` and ``pulumi.runtime.sync_await._sync_await``:
  run the program inside a stack resource and wait for all of it, as the SDK's own
  entry point does under ``pulumi up``.

The rest make a plan cheaper without changing it (docs/performance.md has the figures):

- ``MockMonitor.RegisterResource`` is done here step for step as the SDK's does it
  (``MockMonitor.make_urn``, ``pulumi.runtime.mocks._resolve_callbacks``,
  ``pulumi.runtime.sync_await._ensure_event_loop``), deserializing the inputs once and
  serializing the mocks' answer without the event loop (``pulumi.runtime.rpc.serialize_properties``
  only for what is not plain data), so that the SDK's monitor calls can run on the loop's
  own thread (``new_event_loop``) instead of a worker thread each.
- While the program runs (``run_program``), five SDK functions are swapped for cheaper
  equivalents and put back afterwards: ``pulumi.runtime.resource._get_stack_trace`` (a walk
  of the Python stack per resource, for source positions the mock monitor drops),
  ``pulumi.runtime.rpc.serialize_property`` (plain values answered at once),
  ``pulumi._types.unwrap_type`` (remembered per type hint),
  ``pulumi.runtime.rpc.contains_unknowns`` (the same walk without a reference cycle per call)
  and ``pulumi.runtime.rpc.transfer_properties`` (each of a resource's Outputs made with
  ``pulumi.output.Output._from_data`` over one future of its ``pulumi.output._OutputData``,
  instead of four futures and a task that gathers them).

Each name is looked up once, when this module is imported. A name that a release
removed or renamed does not make the import fail, so commands that never plan keep
working: ``missing_internals()`` names it, the canary fails naming it, and the next
plan stops with ``PulumiInternalsChanged`` before the program starts.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, NamedTuple

OLDEST_SUPPORTED = (3, 272, 0)  # the version the tests were run with
FIRST_UNSUPPORTED = (4,)
SUPPORTED_VERSIONS = f">={'.'.join(map(str, OLDEST_SUPPORTED))},<{FIRST_UNSUPPORTED[0]}"

STACK_TYPE = "pulumi:pulumi:Stack"  # the type of the resource every program runs inside


class Internal(NamedTuple):
    """One private or internal SDK name and what the plan engine uses it for."""

    module: str
    name: str  # an attribute of ``module``; dots go further in (``MockMonitor.RegisterResource``)
    why: str

    @property
    def path(self) -> str:
        return f"{self.module}.{self.name}"

    def resolve(self) -> Any:
        """The SDK's object; ImportError, AttributeError or LookupError when it is gone."""
        value: Any = importlib.import_module(self.module)
        for part in self.name.split("."):
            value = getattr(value, part)
        return value


INTERNALS: tuple[Internal, ...] = (
    Internal("pulumi.runtime.mocks", "MockMonitor", "the mock monitor the recording monitor extends"),
    Internal("pulumi.runtime.mocks", "MockMonitor.RegisterResource", "to see each registration whole"),
    Internal("pulumi.runtime.mocks", "MockMonitor.RegisterResourceOutputs", "to see the stack outputs"),
    Internal("pulumi.runtime.mocks", "MockMonitor.ResourceRegistration", "to read the mocks' id and state"),
    Internal("pulumi.runtime.mocks", "set_mocks", "to install the recording monitor (its monitor argument)"),
    Internal("pulumi.runtime.rpc", "deserialize_properties", "to read the gRPC structs as Python values"),
    Internal("pulumi.runtime.rpc", "_special_sig_key", "the key that marks a deserialized secret"),
    Internal("pulumi.runtime.rpc", "_special_secret_sig", "the value under that key that means secret"),
    Internal("pulumi.runtime.rpc", "UNKNOWN", "the wire form of a value known only after deployment"),
    Internal("pulumi.output", "Unknown", "what such a value deserializes to during a preview"),
    Internal("pulumi.runtime.settings", "SETTINGS", "the process-global runtime, reset before each plan"),
    Internal("pulumi.runtime.settings", "Settings.rpc_manager", "an earlier plan's pending calls, dropped"),
    Internal("pulumi.runtime.rpc_manager", "RPCManager.clear", "to drop an earlier plan's pending calls"),
    Internal("pulumi.runtime.settings", "Settings.outputs", "an earlier plan's pending outputs, dropped"),
    Internal("pulumi.runtime.settings", "set_root_resource", "so that run_in_stack makes the stack resource"),
    Internal("pulumi.runtime.config", "set_all_config", "to hand the stack's config to the program"),
    Internal("pulumi.runtime.stack", "run_in_stack", "to run the program inside a stack resource"),
    Internal("pulumi.runtime.sync_await", "_sync_await", "to wait for the program and all it started"),
    Internal("pulumi.runtime.sync_await", "_ensure_event_loop", "a loop to deserialize on, as the SDK does"),
    Internal("pulumi.runtime.mocks", "MockMonitor.make_urn", "the mock's URN for each registration"),
    Internal("pulumi.runtime.mocks", "_resolve_callbacks", "a registration's transforms, for the mocks"),
    Internal("pulumi.runtime.rpc", "serialize_properties", "the mocks' answer, when not plain data"),
    Internal("pulumi.runtime.resource", "_get_stack_trace", "skipped: the source positions the mocks drop"),
    Internal("pulumi.runtime.rpc", "serialize_property", "answered at once for plain values"),
    Internal("pulumi._types", "unwrap_type", "remembered per type hint during a plan"),
    Internal("pulumi.runtime.rpc", "contains_unknowns", "the same walk, without a reference cycle per call"),
    Internal("pulumi.runtime.rpc", "transfer_properties", "a resource's Outputs, one future each, no task"),
    Internal("pulumi.output", "Output._from_data", "an Output over one future of its whole state"),
    Internal("pulumi.output", "_OutputData", "that state: value, known, secret and dependencies"),
)

# The gRPC message fields the recording monitor reads (pulumi.runtime.proto.resource_pb2).
GRPC_MODULE = "pulumi.runtime.proto.resource_pb2"
GRPC_FIELDS: dict[str, tuple[str, ...]] = {
    "RegisterResourceRequest": (
        "type",
        "name",
        "parent",
        "custom",
        "object",
        "protect",
        "retainOnDelete",
        "ignoreChanges",  # property paths the engine keeps at their old value on update
        "dependencies",
        "aliases",  # Alias messages: a URN, or a spec the engine resolves (name, type, parentUrn, ...)
        "aliasURNs",  # the older form: URNs the SDK resolved itself
        "provider",  # handed to the mocks, as the SDK's monitor does
        "importId",
        "transforms",
    ),
    "RegisterResourceResponse": ("urn", "id", "object"),
    "RegisterResourceOutputsRequest": ("urn", "outputs"),
}


class PulumiInternalsChanged(RuntimeError):
    """The installed Pulumi SDK lacks an internal name the plan engine relies on."""


def pulumi_version() -> str:
    return metadata.version("pulumi")


def _grpc_fields_missing() -> list[str]:
    try:
        messages = importlib.import_module(GRPC_MODULE)
    except ImportError:
        return [GRPC_MODULE]
    missing = []
    for message, fields in GRPC_FIELDS.items():
        descriptor = getattr(getattr(messages, message, None), "DESCRIPTOR", None)
        known = descriptor.fields_by_name if descriptor is not None else {}
        missing += [f"{GRPC_MODULE}.{message}.{field}" for field in fields if field not in known]
    return missing


def missing_internals() -> list[str]:
    """Every internal name (``INTERNALS``) and gRPC field (``GRPC_FIELDS``) the installed SDK lacks."""
    missing = []
    for internal in INTERNALS:
        try:
            internal.resolve()
        except (ImportError, AttributeError, LookupError):
            missing.append(internal.path)
    return missing + _grpc_fields_missing()


def require_internals() -> None:
    """Raise ``PulumiInternalsChanged`` naming whatever the installed SDK lacks."""
    missing = missing_internals()
    if missing:
        raise PulumiInternalsChanged(
            f"the installed Pulumi SDK (pulumi {pulumi_version()}) lacks what the offline plan "
            f"engine uses: {', '.join(missing)}. infra/plan/pulumi_compat.py supports pulumi "
            f"{SUPPORTED_VERSIONS}; see docs/plan-engine.md"
        )


class _Gone:
    """Stands in for an internal the installed SDK lacks: using it raises, comparing never matches."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        require_internals()


_BY_PATH = {internal.path: internal for internal in INTERNALS}


def _load(path: str) -> Any:
    internal = _BY_PATH[path]  # a KeyError here: add the name to INTERNALS first
    try:
        return internal.resolve()
    except (ImportError, AttributeError, LookupError):
        return _Gone


_SdkMockMonitor = _load("pulumi.runtime.mocks.MockMonitor")
_set_mocks = _load("pulumi.runtime.mocks.set_mocks")
_deserialize_properties = _load("pulumi.runtime.rpc.deserialize_properties")
_SIG_KEY = _load("pulumi.runtime.rpc._special_sig_key")
_SECRET_SIG = _load("pulumi.runtime.rpc._special_secret_sig")
_UNKNOWN = _load("pulumi.runtime.rpc.UNKNOWN")
_Unknown = _load("pulumi.output.Unknown")
_SETTINGS = _load("pulumi.runtime.settings.SETTINGS")
_set_root_resource = _load("pulumi.runtime.settings.set_root_resource")
_set_all_config = _load("pulumi.runtime.config.set_all_config")
_run_in_stack = _load("pulumi.runtime.stack.run_in_stack")
_sync_await = _load("pulumi.runtime.sync_await._sync_await")
_ensure_event_loop = _load("pulumi.runtime.sync_await._ensure_event_loop")
_resolve_callbacks = _load("pulumi.runtime.mocks._resolve_callbacks")
_serialize_properties = _load("pulumi.runtime.rpc.serialize_properties")
_get_stack_trace = _load("pulumi.runtime.resource._get_stack_trace")
_sdk_serialize_property = _load("pulumi.runtime.rpc.serialize_property")
_unwrap_type = _load("pulumi._types.unwrap_type")
_output_from_data = _load("pulumi.output.Output._from_data")
_OutputData = _load("pulumi.output._OutputData")
_MockResourceArgs = importlib.import_module("pulumi.runtime").MockResourceArgs  # public testing API


def _messages(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


_resource_pb2 = _messages(GRPC_MODULE)
_Struct = importlib.import_module("google.protobuf.struct_pb2").Struct
_source_pb2 = _messages("pulumi.runtime.proto.source_pb2")


def is_secret(value: Any) -> bool:
    """Whether a deserialized property is a secret (a dict marked with the secret signature)."""
    return isinstance(value, dict) and value.get(_SIG_KEY) == _SECRET_SIG


def is_unknown(value: Any) -> bool:
    """Whether a deserialized property is known only after a deployment."""
    return isinstance(value, _Unknown) or value == _UNKNOWN


def deserialize(struct: Any) -> Any:
    """A gRPC ``Struct`` of properties as Python values; secrets stay marked (``is_secret``)."""
    return _deserialize_properties(struct)


@dataclass(frozen=True)
class AliasSpec:
    """A former identity of a resource, as the SDK sent it: a whole URN, or parts to resolve."""

    urn: str | None  # a whole URN; else the parts below, each empty for "as the resource is now"
    name: str
    type: str
    parent_urn: str  # the former parent's URN (as the monitor gave it)
    no_parent: bool  # the resource used to be a child of the stack itself


@dataclass(frozen=True)
class Registration:
    """One resource registration as the monitor saw it, with the mock's answer."""

    urn: str
    type: str
    name: str
    parent: str  # the parent's URN; empty for none
    custom: bool
    inputs: Any  # deserialized
    state: Any  # what the mocks returned as the resource's outputs
    id: str | None
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    aliases: list[AliasSpec]
    ignore_changes: list[str] = field(default_factory=list)


def _aliases(request) -> list[AliasSpec]:
    found = [AliasSpec(urn, "", "", "", False) for urn in request.aliasURNs]
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            found.append(AliasSpec(alias.urn, "", "", "", False))
        else:
            spec = alias.spec
            found.append(AliasSpec(None, spec.name, spec.type, spec.parentUrn, bool(spec.noParent)))
    return found


class MockMonitor(_SdkMockMonitor):
    """The SDK's mock monitor, its gRPC entry points turned into two hooks.

    ``on_resource`` gets every registration but the stack's, ``on_stack_outputs`` the
    stack's outputs, deserialized. Both run wherever the SDK calls the monitor (on the
    plan's event loop, ``new_event_loop``), after the mocks have answered; whatever they
    raise fails the registration.
    """

    def on_resource(self, registration: Registration) -> None:
        """Called once per registered resource (the stack itself excepted)."""

    def on_stack_outputs(self, outputs: dict[str, Any]) -> None:
        """Called with the stack's outputs, deserialized."""

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        """The SDK's ``MockMonitor.RegisterResource``, step for step, with two costs taken out.

        The inputs are deserialized once, for the mocks and the hook alike; and the mocks'
        answer is serialized without pumping the event loop (``serialize_answer``), so that
        the call can run on the loop's own thread (``new_event_loop``).
        """
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            return _resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # deserializing a resource reference needs one
        inputs = deserialize(request.object)
        resource_id, state = self.mocks.new_resource(
            _MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
                transforms=_resolve_callbacks(request.transforms),
            )
        )
        answer = serialize_answer(state)
        self.resources[urn] = self.ResourceRegistration(urn, resource_id, state)
        self.on_resource(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=inputs,
                state=state,
                id=resource_id,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                dependencies=list(request.dependencies),
                aliases=_aliases(request),
                ignore_changes=sorted(request.ignoreChanges),
            )
        )
        return _resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=answer)

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        if f"::{STACK_TYPE}::" in request.urn:
            self.on_stack_outputs(deserialize(request.outputs))
        return super().RegisterResourceOutputs(request)


class _NotPlain(Exception):
    """A value the plain serializer leaves to the SDK's."""


def _wire(value: Any) -> Any:
    """What the SDK's ``serialize_property`` makes of plain data with no type hint, or ``_NotPlain``."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is dict:
        return {key: _wire(value[key]) for key in value}
    if kind is list or kind is tuple:
        return [_wire(item) for item in value]
    if kind is _Unknown:
        return _UNKNOWN
    raise _NotPlain


def serialize_answer(properties: dict[str, Any]) -> Any:
    """The mocks' answer as the gRPC struct the SDK's mock monitor would send back.

    The answer is the deserialized inputs plus a few made-up outputs: plain data, which
    ``_wire`` turns into what the SDK's serializer would (dicts and lists as they are,
    tuples as lists, ``Unknown`` as the unknown marker, None left out at the top); any
    other value (an asset, a resource) sends the whole answer the SDK's way.
    """
    struct = _Struct()
    try:
        for key, value in properties.items():
            wired = _wire(value)
            if wired is not None:
                struct[key] = wired
    except _NotPlain:
        return serialize_now(properties)
    return struct


def serialize_now(properties: dict[str, Any]) -> Any:
    """``properties`` as the gRPC struct the SDK sends, without waiting on the event loop.

    The SDK's serializer is a coroutine because an input may hold an Output or a resource
    whose value is still to come; plain data (all the mocks answer with) never makes it
    wait, so it runs to its end in one step. Anything that does wait is serialized again
    the SDK's way, pumping the loop.
    """
    coroutine = _serialize_properties(properties, {})
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    return _sync_await(_serialize_properties(properties, {}))


class _InlineMonitorLoop(asyncio.SelectorEventLoop):
    """An event loop that runs the SDK's monitor calls on its own thread, as plain calls.

    The SDK hands each call to the resource monitor (register, invoke, log, ...) to
    ``run_in_executor(None, ...)`` because a real monitor is a gRPC server. The mock
    monitor is Python in this process: on a worker thread, each call only waits for the
    GIL, twice (there and back), and thousands of them cost more than the work itself.
    A call that raises gives a failed future, as the executor would.
    """

    def run_in_executor(self, executor, func, *args):
        if executor is not None:
            return super().run_in_executor(executor, func, *args)
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except Exception as error:  # handed to the awaiting task, as an executor would
            future.set_exception(error)
        return future


def new_event_loop() -> asyncio.AbstractEventLoop:
    """An event loop for plans: the SDK's monitor calls run inline (``_InlineMonitorLoop``)."""
    return _InlineMonitorLoop()


def reset_runtime() -> None:
    """Drop what an earlier program left in the process-global runtime (pending calls, outputs).

    Checks the SDK first: a plan never starts with an internal missing.
    """
    require_internals()
    _SETTINGS.rpc_manager.clear()
    _SETTINGS.outputs.clear()


def set_config(config: Mapping[str, str], secret_keys: list[str]) -> None:
    """The program's config and which keys are secret, as the CLI would pass them."""
    _set_all_config(dict(config), secret_keys)


def install_mocks(
    mocks: Any, monitor: MockMonitor, *, project: str, stack: str, logger: logging.Logger
) -> None:
    """Point the runtime at ``monitor`` (answering with ``mocks``), as a preview, with no root yet.

    ``set_mocks`` makes a stack resource of its own; it is dropped again so that
    ``run_program`` makes the real one, as ``pulumi up`` does.
    """
    _set_root_resource(None)
    _set_mocks(mocks, project=project, stack=stack, preview=True, logger=logger, monitor=monitor)
    _set_root_resource(None)


def _no_stack_trace() -> Any:
    return _source_pb2.StackTrace()


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


async def _serialize_property(value: Any, *args: Any, **kwargs: Any) -> Any:
    """The SDK's ``serialize_property``, with its answer for a plain value given at once.

    A str, int, float, bool or None (exactly those types: an enum that subclasses str goes
    the SDK's way) passes every one of the SDK's checks and comes back as it is; the
    checks (type hints unwrapped, a dozen isinstance tests) are most of the serializer's
    cost, and plain values are most of what it serializes.
    """
    if type(value) in _PLAIN_TYPES and not kwargs.get("return_protobuf_value"):
        return value
    return await _sdk_serialize_property(value, *args, **kwargs)


def _contains_unknowns(value: Any) -> bool:
    """The SDK's ``contains_unknowns``, without a new recursive closure per call.

    The SDK's version defines its walker inside each call; the walker refers to itself,
    so each call leaves a reference cycle (function, cell, annotations) for the cycle
    collector: a third of all a plan leaves behind. Same walk, same answer.
    """
    return type(value) not in _PLAIN_TYPES and _unknown_within(value, set())


def _unknown_within(value: Any, seen_ids: set[int]) -> bool:
    if isinstance(value, _Unknown):
        return True
    if id(value) in seen_ids:
        return False
    seen_ids.add(id(value))
    if isinstance(value, dict):
        return any(_unknown_within(value[key], seen_ids) for key in value)
    if isinstance(value, list):
        return any(_unknown_within(item, seen_ids) for item in value)
    return False


def _memoized(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``function`` remembered per argument: for pure functions of a type hint."""
    known: dict[Any, Any] = {}

    def remembered(argument: Any) -> Any:
        try:
            return known[argument]
        except KeyError:
            known[argument] = answer = function(argument)
            return answer
        except TypeError:  # an unhashable hint
            return function(argument)

    return remembered


def _transfer_properties(res: Any, props: Any, custom: bool) -> dict[str, Callable[..., None]]:
    """The SDK's ``transfer_properties``: an Output per property of ``res``, and its resolver.

    The SDK makes four futures per property (value, known, secret, dependencies) and an
    Output whose task awaits them and gathers them into one ``_OutputData``. Here the
    Output is made over that one future (``Output._from_data``, the SDK's own factory),
    and the resolver sets it whole: one future instead of four and a task, for every
    property of every resource (about fourteen per resource in a plan). The resolver takes
    the same arguments, and the Output ends with the same state or the same exception.

    What differs is timing: the Output settles when its resolver runs, as the SDK's own
    ``urn`` and ``id`` Outputs do, not a loop pass later. Callbacks on it may therefore
    run in another order relative to other callbacks. Nothing a plan records depends on
    that order (resources, invokes and outputs are sorted) except warnings logged inside
    an ``apply``, which this program does not do; and a program in which several
    callbacks fail may report a different one as the first cause.
    """
    resolvers: dict[str, Callable[..., None]] = {}
    for name in props:
        if name == "urn" or (name == "id" and custom):
            continue  # the SDK resolves these elsewhere, as its own version skips them
        data: asyncio.Future = asyncio.Future()
        resolvers[name] = functools.partial(_resolve_output, res, data)
        res.__dict__[name] = _output_from_data(data)
    return resolvers


def _resolve_output(
    res: Any, data: asyncio.Future, value: Any, is_known: bool, is_secret: bool, deps: Any, failed: Any
) -> None:
    """Resolve one property's Output as the SDK's resolver does: its dependencies always include ``res``."""
    if failed is not None:
        data.set_exception(failed)
        return
    resources = set(deps) if deps else set()
    resources.add(res)
    data.set_result(_OutputData(resources=resources, value=value, is_known=is_known, is_secret=is_secret))


@contextmanager
def _lighter_registration() -> Iterator[None]:
    """The SDK's registration path with work the mock monitor cannot use left out.

    - ``_get_stack_trace``: the SDK walks the Python stack on every registration to tell
      the engine where the resource was declared; the mock monitor drops it.
    - ``serialize_property``: plain values answered at once (``_serialize_property``).
    - ``unwrap_type``: a pure function of a type hint, asked again for every value of a
      property; remembered for the length of the program.
    - ``contains_unknowns``: the same walk without garbage (``_contains_unknowns``).
    - ``transfer_properties``: one future per Output, no task (``_transfer_properties``).
    """
    patches = [
        (importlib.import_module("pulumi.runtime.resource"), "_get_stack_trace", _no_stack_trace),
        (importlib.import_module("pulumi.runtime.rpc"), "serialize_property", _serialize_property),
        (importlib.import_module("pulumi._types"), "unwrap_type", _memoized(_unwrap_type)),
        (importlib.import_module("pulumi.runtime.rpc"), "contains_unknowns", _contains_unknowns),
        (importlib.import_module("pulumi.runtime.rpc"), "transfer_properties", _transfer_properties),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, replacement in patches:
        setattr(module, name, replacement)
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def run_program(program: Callable[[], Any]) -> None:
    """Run ``program`` inside a new stack resource and wait until all it started is done."""
    with _lighter_registration():
        _sync_await(_run_in_stack(program))
