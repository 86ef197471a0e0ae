"""The canary for Pulumi SDK upgrades, and the rule that only pulumi_compat.py reaches into the SDK.

Every private or internal SDK name the offline plan engine uses must still be there
and still behave as the engine expects. When one of these fails after an upgrade,
docs/plan-engine.md ("When the canary fails") says what to do.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import struct_pb2

from infra.plan import pulumi_compat, record
from infra.plan.cloud import CloudMocks
from infra.plan.model import COMPUTED
from infra.plan.pulumi_compat import GRPC_FIELDS, GRPC_MODULE, INTERNALS, SUPPORTED_VERSIONS, Internal
from infra.stackfiles.read import SECRET
from tests.conftest import ROOT

# Pulumi's wire protocol, the same in every language SDK and in the engine.
WIRE_SIG_KEY = "4dabf18193072939515e22adb298388d"
WIRE_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
WIRE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _broken(what: str, why: str) -> str:
    return (
        f"pulumi {pulumi_compat.pulumi_version()}: {what}. infra/plan/pulumi_compat.py relies on this {why}; "
        f"it supports pulumi {SUPPORTED_VERSIONS}. See docs/plan-engine.md, 'When the canary fails'."
    )


def _release(version: str) -> tuple[int, ...]:
    found = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    assert found, f"cannot read the pulumi version {version!r}"
    return tuple(int(part) for part in found.groups())


def test_the_installed_pulumi_is_a_supported_version():
    version = pulumi_compat.pulumi_version()
    assert pulumi_compat.OLDEST_SUPPORTED <= _release(version) < pulumi_compat.FIRST_UNSUPPORTED, (
        f"pulumi {version} is outside the range infra/plan/pulumi_compat.py supports ({SUPPORTED_VERSIONS}): "
        "run this canary and the plan tests, then widen the range (docs/plan-engine.md)"
    )


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda internal: internal.path)
def test_the_sdk_still_has(internal: Internal):
    try:
        internal.resolve()
    except (ImportError, AttributeError, LookupError) as error:
        pytest.fail(_broken(f"{internal.path} is gone ({error})", f"({internal.why})"))


@pytest.mark.parametrize(
    ("message", "field"),
    [(message, field) for message, fields in GRPC_FIELDS.items() for field in fields],
    ids=lambda value: value,
)
def test_the_grpc_messages_still_have(message: str, field: str):
    try:
        descriptor = getattr(importlib.import_module(GRPC_MODULE), message).DESCRIPTOR
    except (ImportError, AttributeError) as error:
        pytest.fail(_broken(f"{GRPC_MODULE}.{message} is gone ({error})", "to read each registration"))
    assert field in descriptor.fields_by_name, _broken(
        f"{GRPC_MODULE}.{message} has no field {field!r}", "to read each registration"
    )


def test_nothing_is_reported_missing():
    assert pulumi_compat.missing_internals() == [], _broken(
        f"missing {pulumi_compat.missing_internals()}", "(see INTERNALS and GRPC_FIELDS)"
    )


def test_the_mock_monitor_still_keeps_what_it_registered():
    from pulumi.runtime import mocks

    assert hasattr(mocks, "MockMonitor"), _broken(
        "pulumi.runtime.mocks.MockMonitor is gone", "as a base class"
    )
    monitor = mocks.MockMonitor(CloudMocks("test", "eu-west-1"))
    assert getattr(monitor, "resources", None) == {}, _broken(
        "MockMonitor has no 'resources' dict", "to read the mocks' answers"
    )
    assert {"id", "state"} <= set(mocks.MockMonitor.ResourceRegistration._fields), _broken(
        "MockMonitor.ResourceRegistration has no 'id' or 'state'", "to read the mocks' answers"
    )
    assert "monitor" in inspect.signature(mocks.set_mocks).parameters, _broken(
        "set_mocks takes no 'monitor'", "to install the recording monitor"
    )


def test_a_secret_struct_is_recognised():
    struct = struct_pb2.Struct()
    struct.update({"token": {WIRE_SIG_KEY: WIRE_SECRET_SIG, "value": "s3cret"}, "size": 3})
    properties = pulumi_compat.deserialize(struct)
    assert pulumi_compat.is_secret(properties["token"]), _broken(
        f"a secret deserializes as {properties['token']!r}", "to mask secrets"
    )
    assert not pulumi_compat.is_secret(properties["size"])
    assert not pulumi_compat.is_secret({"value": "s3cret"})


def test_an_unknown_is_recognised():
    assert pulumi_compat.is_unknown(WIRE_UNKNOWN), _broken("rpc.UNKNOWN changed", "to mark computed values")
    assert not pulumi_compat.is_unknown("known")
    assert not pulumi_compat.is_unknown(None)


def test_a_tiny_program_under_record_yields_one_resource_with_its_inputs():
    plan = record(lambda: pulumi.CustomResource("test:index:Thing", "thing", {"size": 3, "tags": {"k": "v"}}))
    (thing,) = plan.resources
    assert (thing.type, thing.name, thing.parent, thing.custom) == ("test:index:Thing", "thing", None, True)
    assert thing.inputs == {"size": 3, "tags": {"k": "v"}}
    # The mocks' answer, read from MockMonitor.resources.
    assert thing.id and thing.outputs["arn"].endswith(thing.id)


class _Thing(pulumi.CustomResource):
    later: pulumi.Output[str]  # not in the mocks' answer: known only after a deployment

    def __init__(self, name: str, props: dict, opts: pulumi.ResourceOptions | None = None):
        super().__init__("test:index:Thing", name, {"later": None, **props}, opts)


def test_secrets_unknowns_options_and_stack_outputs_come_through():
    def program():
        first = _Thing("first", {"token": pulumi.Output.secret("s3cret")})
        _Thing(
            "second", {"from_first": first.later}, pulumi.ResourceOptions(protect=True, depends_on=[first])
        )
        pulumi.export("later", first.later)
        pulumi.export("hidden", pulumi.Output.secret("x"))

    plan = record(program)
    first, second = plan.resources
    assert first.inputs == {"token": SECRET}
    assert second.inputs == {"from_first": COMPUTED}
    assert (second.protect, second.retain_on_delete, second.depends_on) == (True, False, [first.urn])
    assert plan.outputs == {"hidden": SECRET, "later": COMPUTED}


class _Holder:
    """Stands in for a resource: ``transfer_properties`` sets its Outputs as attributes."""


SDK_TRANSFER = importlib.import_module(
    "pulumi.runtime.rpc"
).transfer_properties  # read before any plan swaps it


async def _settled(output: pulumi.Output, holder: _Holder) -> tuple:
    """An Output's state once settled, the resource itself named "self" so both sides compare."""
    try:
        data = await output._data
    except Exception as error:  # the failure is what is compared
        return ("failed", type(error), str(error))
    return (
        data.value,
        data.is_known,
        data.is_secret,
        frozenset("self" if r is holder else r for r in data.resources),
    )


def _on_a_loop(work, exceptions: list[BaseException]) -> Any:
    """``work()`` run to its end on a new loop, the runtime reset afterwards.

    The SDK's failed resolver leaves futures whose exception nobody reads, kept alive by
    that exception's traceback; freed here, they log here and not during a later test
    (where a log inside ``ast.parse`` trips a CPython 3.11 check).
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work())
    finally:
        loop.close()
        pulumi_compat.reset_runtime()
        for error in exceptions:
            error.__traceback__ = None
        gc.collect()


def _transferred(transfer, resolutions: dict, *, custom: bool) -> dict:
    """Each property's settled state after ``transfer``'s resolvers got ``resolutions``.

    Besides the state: whether the Output was tracked for the end of the program
    (``SETTINGS.outputs``) before and after it settled, and whether it was made with a task.
    """
    props = {"urn": None, **dict.fromkeys(resolutions)}
    tracked = pulumi_compat._SETTINGS.outputs

    async def run() -> dict:
        holder = _Holder()
        resolvers = transfer(holder, props, custom)
        assert set(resolvers) == set(resolutions)  # urn, and a custom resource's id, are the SDK's
        before = {name: getattr(holder, name)._data in tracked for name in resolutions}
        for name, arguments in resolutions.items():
            resolvers[name](*arguments)
        for _ in range(3):  # the SDK's tasks finish, and every done callback runs
            await asyncio.sleep(0)
        states = {}
        for name in resolutions:
            output = getattr(holder, name)
            state = await _settled(output, holder)
            states[name] = (
                state,
                before[name],
                output._data in tracked,
                isinstance(output._data, asyncio.Task),
            )
        return states

    return _on_a_loop(run, [a[4] for a in resolutions.values() if a[4] is not None])


@pytest.mark.parametrize("custom", [True, False])
def test_outputs_made_without_a_task_settle_as_the_sdks_do(custom: bool):
    """The plan's ``transfer_properties`` against the SDK's own, one resolution of each kind."""
    other = _Holder()
    resolutions = {
        "plain": ("v", True, False, {other}, None),
        "listed_deps": (3, True, False, [other, other], None),
        "unknown": (None, False, False, None, None),
        "secret": ("s3cret", True, True, set(), None),
        "holds_an_unknown": ({"a": pulumi.output.Unknown()}, True, False, None, None),
        "failed": (None, False, False, None, ValueError("the engine refused it")),
    }
    if not custom:  # a component's id is an ordinary property
        resolutions["id"] = ("component-id", True, False, None, None)
    ours = _transferred(pulumi_compat._transfer_properties, resolutions, custom=custom)
    theirs = _transferred(SDK_TRANSFER, resolutions, custom=custom)
    holds = ours.pop("holds_an_unknown"), theirs.pop("holds_an_unknown")
    assert [(type(s[0][0]["a"]), s[0][1]) for s in holds] == [(pulumi.output.Unknown, False)] * 2
    assert {k: v[:3] for k, v in ours.items()} == {k: v[:3] for k, v in theirs.items()}
    assert ours["plain"][:3] == (("v", True, False, frozenset({"self", other})), True, False)
    # A failed Output stays tracked, so that the end of the program raises its error.
    assert ours["failed"][:3] == (("failed", ValueError, "the engine refused it"), True, True)
    assert not any(v[3] for v in ours.values()) and all(v[3] for v in theirs.values()), "no task per Output"


@pytest.mark.parametrize("first_fails", [False, True])
def test_a_second_resolution_is_refused_as_by_the_sdk(first_fails: bool):
    error = ValueError("failed")
    first, again = [("v", True, False, None, None), (None, False, False, None, error)][
        :: -1 if first_fails else 1
    ]

    def second_call(transfer) -> str:
        async def run() -> str:
            holder = _Holder()
            resolve = transfer(holder, {"size": None}, True)["size"]
            resolve(*first)
            try:
                resolve(*again)
            except asyncio.InvalidStateError as refused:
                return type(refused).__name__ + ": " + repr((await _settled(holder.size, holder))[0])
            return "accepted twice"

        return _on_a_loop(run, [error])

    assert second_call(pulumi_compat._transfer_properties) == second_call(SDK_TRANSFER)
    assert second_call(pulumi_compat._transfer_properties).startswith("InvalidStateError")


def test_a_plan_makes_resource_outputs_without_tasks():
    """The swap is in place while a program runs, and only then."""
    made = []
    record(lambda: made.append(pulumi.CustomResource("test:index:Thing", "thing", {"size": 3})))
    assert not isinstance(made[0].size._data, asyncio.Task)
    assert importlib.import_module("pulumi.runtime.rpc").transfer_properties is SDK_TRANSFER


def test_the_program_logs_warnings_only_from_its_entry_point():
    """Warnings are the one thing a plan records in the order callbacks run (see
    ``_transfer_properties``): the program logs them from ``infra/__main__.py`` before it
    declares anything, never from a component, where they could come from an ``apply``."""
    program = [
        ROOT / "infra/components",
        ROOT / "infra/specs",
        ROOT / "infra/settings",
        ROOT / "infra/contracts",
    ]
    logging_modules = sorted(
        str(path.relative_to(ROOT))
        for folder in program
        for path in folder.rglob("*.py")
        if re.search(r"\bpulumi\.log\b|from pulumi import .*\blog\b", path.read_text())
    )
    assert logging_modules == []


def test_a_missing_internal_is_named_and_no_plan_starts(monkeypatch):
    from pulumi.runtime import rpc

    monkeypatch.delattr(rpc, "_special_secret_sig")
    assert "pulumi.runtime.rpc._special_secret_sig" in pulumi_compat.missing_internals()
    started = []
    with pytest.raises(
        pulumi_compat.PulumiInternalsChanged, match=re.escape("pulumi.runtime.rpc._special_secret_sig")
    ):
        record(lambda: started.append(True))
    assert started == []


def test_the_docstring_and_the_doc_state_the_range_and_every_internal():
    doc = pulumi_compat.__doc__
    assert SUPPORTED_VERSIONS in doc
    assert SUPPORTED_VERSIONS in (ROOT / "docs/plan-engine.md").read_text()
    assert [i.path for i in INTERNALS if i.name.rsplit(".", 1)[-1] not in doc] == []


# Uses of Pulumi internals outside pulumi_compat.py that stay, and why.
ALLOWED = {
    "infra/__main__.py": {
        # The program itself, which `pulumi up` runs: it reads config as the CLI passes it,
        # and the program may not import the tooling (tests/test_layers.py).
        "pulumi.runtime.config",
    },
    "infra/plan/cloud.py": {
        # The SDK's documented unit-testing API (in pulumi.runtime.__all__).
        "pulumi.runtime.Mocks",
        "pulumi.runtime.MockResourceArgs",
        "pulumi.runtime.MockCallArgs",
    },
    "infra/plan/tfnames.py": {
        # Reads the property types of pulumi-aws's generated classes (not the plan engine);
        # private, and a candidate for moving into pulumi_compat.py.
        "pulumi._types",
    },
}


def _internal(name: str) -> bool:
    """Whether a dotted name reaches into pulumi.runtime, pulumi.output or a private SDK name."""
    parts = name.split(".")
    if parts[0] != "pulumi" or len(parts) == 1:
        return False
    private = any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts[1:])
    return parts[1] in ("runtime", "output") or private


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)):
        return f"{base}.{node.attr}"
    return None


def _uses(source: str) -> set[str]:
    """The internal names a module imports or reaches by attribute (``pulumi.runtime.rpc.UNKNOWN``)."""
    tree = ast.parse(source)
    found, aliases = set(), {"pulumi": "pulumi"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "pulumi":
                    continue
                if alias.asname:  # import pulumi.runtime as rt: rt.x is pulumi.runtime.x
                    aliases[alias.asname] = alias.name
                if _internal(alias.name):
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _internal(node.module):
                found.add(node.module)
            else:
                found |= {
                    f"{node.module}.{a.name}" for a in node.names if _internal(f"{node.module}.{a.name}")
                }
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner and (name := _dotted(node)):
            root, _, rest = name.partition(".")
            if root in aliases and _internal(full := f"{aliases[root]}.{rest}"):
                found.add(full)
    return found


def test_the_scan_sees_imports_and_attribute_reach_ins():
    source = (
        "import pulumi\nimport pulumi.runtime.settings\nimport pulumi as p\n"
        "from pulumi.runtime import rpc\nfrom pulumi.output import Unknown\nfrom pulumi import _types, Output\n"
        "pulumi.runtime.rpc.UNKNOWN\np.output.Unknown\npulumi.Output.secret('x')\npulumi.__name__\n"
    )
    assert _uses(source) == {
        "pulumi.runtime.settings",
        "pulumi.runtime",
        "pulumi.output",
        "pulumi._types",
        "pulumi.runtime.rpc.UNKNOWN",
        "pulumi.output.Unknown",
    }


def test_the_engine_reaches_the_sdk_only_through_the_compat_module():
    assert _uses((ROOT / "infra/plan/engine.py").read_text()) == set()


def test_no_other_module_under_infra_reaches_pulumi_internals():
    compat = Path("infra/plan/pulumi_compat.py")
    unexpected = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "infra").rglob("*.py"))
        if path.relative_to(ROOT) != compat
        for name in _uses(path.read_text())
        if name not in ALLOWED.get(str(path.relative_to(ROOT)), set())
    )
    assert unexpected == [], f"reach these through infra/plan/pulumi_compat.py: {unexpected}"
