"""``modelfleet new-model``: a model into an existing stack, sized from its peak and SLO.

Order: values (flags, answers, prompts) -> every missing, conflicting or malformed
flag in one error -> the entry with derived autoscaling -> the stack validated
with it -> team quotas -> offline plan, pack and cost -> written (atomically,
comments and layout kept) unless ``--dry-run``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from ruamel.yaml.comments import CommentedSeq

from infra.contracts import instances
from infra.plan.policy import config_path
from infra.plan.policy import load_settings as load_policy
from infra.selfservice import derive, quota
from infra.selfservice.backends.base import ModelBackend, ModelRequest
from infra.selfservice.backends.registry import BACKENDS
from infra.selfservice.common import Refused, given, show
from infra.selfservice.entries import model_entry
from infra.selfservice.preview import preview
from infra.selfservice.prompts import Ask, InvalidInput, missing_message, number, read_answers, resolve
from infra.settings.platform import PlatformSettings
from infra.specs.capacity import pool_gpu_ceilings
from infra.stackfiles.edit import StackDocument
from infra.stackfiles.read import Project, find_root, read_project

KEYS = [
    "stack", "name", "team", "backend", "image", "framework", "py_version", "artifact", "instance_type",
    "p99_ms", "peak_rps", "error_rate_percent", "rate_per_instance", "pool", "gpus",
]  # fmt: skip
ASKS = [
    Ask("stack", "Environment (stack) to add the model to"),
    Ask("name", "Model name (lowercase, digits, '-')"),
    Ask("team", "Owning team"),
    Ask("backend", "Serving backend", "sagemaker", tuple(b.value for b in BACKENDS)),
    Ask("artifact", "Model artifact (s3://bucket/path/model.tar.gz)"),
    Ask("p99_ms", "p99 latency objective, ms"),
    Ask("peak_rps", "Expected peak requests per second"),
    Ask("error_rate_percent", "5XX objective, percent", "1"),
]
SOURCE_ASK = Ask("image", "Serving image by digest, or a Deep Learning Container as <name>:<version>")


@dataclass(frozen=True)
class FlagRule:
    """A flag that makes sense only beside some other value; given elsewhere it is refused.

    Without these, a flag the chosen backend has no use for would be dropped
    without a word (``--pool`` on SageMaker, ``--instance-type`` on EKS).
    """

    key: str
    allowed: Callable[[dict[str, Any]], bool]  # over every value, after prompts and defaults
    reason: str

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


def _backend_of(values: dict[str, Any]) -> ModelBackend | None:
    return BACKENDS.get(values.get("backend"))


def _backend_rules() -> list[FlagRule]:
    """Each backend's own flags, refused on any other, then the flags a backend refuses.

    Backends go in name order, so the order problems are listed in never follows the registry's.
    """
    backends = [BACKENDS[name] for name in sorted(BACKENDS)]

    def taken(key: str) -> Callable[[dict[str, Any]], bool]:
        return lambda v: (backend := _backend_of(v)) is not None and key in backend.own_flags

    def not_refused(key: str) -> Callable[[dict[str, Any]], bool]:
        return lambda v: (backend := _backend_of(v)) is None or key not in backend.refused_flags

    owned = [FlagRule(key, taken(key), why) for b in backends for key, why in b.own_flags.items()]
    return owned + [FlagRule(k, not_refused(k), why) for b in backends for k, why in b.refused_flags.items()]


FLAG_RULES = (
    *_backend_rules(),
    FlagRule("framework", lambda v: not v.get("image"), "pass --image or --framework, not both"),
    FlagRule(
        "framework",
        lambda v: "/" not in str(v.get("framework")),
        "takes a Deep Learning Container as <name>:<version>; an image goes in --image, pinned by digest",
    ),
    FlagRule("py_version", lambda v: bool(v.get("framework")), "applies to --framework only"),
)
# Flags every model may take, whatever its backend and other flags.
UNCONDITIONAL = {
    "stack", "name", "team", "backend", "image", "artifact", "p99_ms", "peak_rps", "error_rate_percent",
    "rate_per_instance",
}  # fmt: skip


def _values(args: argparse.Namespace, out: Console) -> tuple[dict, list[str]]:
    """Every value, and every missing or conflicting flag (prompts fill what they can first)."""
    answers = read_answers(args.answers, "model") if args.answers else {}
    missing: list[str] = []
    values = resolve(ASKS, given(args, KEYS, answers), out, missing)
    backend = _backend_of(values)
    if backend is not None:
        values = resolve(backend.asks, values, out, missing)
    if not values.get("image") and not values.get("framework"):
        values = resolve([SOURCE_ASK], values, out, missing)
        missing = [f"{flag} (or --framework)" if flag == SOURCE_ASK.flag else flag for flag in missing]
    # Rules judge what was asked for: flags, and template answers but instance_type, which the
    # template documents as ignored by eks.
    explicit = {key for key in KEYS if getattr(args, key, None) is not None}
    explicit |= {key for key in answers if key in KEYS and key != "instance_type"}
    source = str(values.get("image") or "")
    if args.image is None and source and "@" not in source and "/" not in source:
        # A template answer holds either; <name>:<version> with no registry path is a framework.
        values["image"], values["framework"] = None, source
        explicit = (explicit - {"image"}) | {"framework"}
    problems = [missing_message(missing)] if missing else []
    problems += [f"{r.flag}: {r.reason}" for r in FLAG_RULES if r.key in explicit and not r.allowed(values)]
    return values, problems


def _current(project: Project, stack: str | None, name: str | None, problems: list[str]):
    """The stack's document and settings, or None with the reason added to ``problems``."""
    if not stack:
        return None, None
    if stack not in project.stacks():
        problems.append(f"unknown stack '{stack}' (stacks: {', '.join(project.stacks()) or 'none'})")
        return None, None
    document = StackDocument.load(project, stack)
    current = document.validate(document.original)
    if any(m.name == name for m in current.models):
        problems.append(f"stack '{stack}' already has a model named '{name}'")
    return document, current


def _request(values: dict, settings: PlatformSettings | None, problems: list[str]) -> ModelRequest:
    """The request, or every problem with the values at once (the settings check the entry later)."""

    def num(key: str, kind: type[int] | type[float]) -> Any:
        try:
            return number(values, key, kind)
        except InvalidInput as error:
            problems.append(str(error))
            return None

    name, pool, backend = values.get("backend"), values.get("pool"), _backend_of(values)
    if backend is None:
        problems.append(f"--backend: {' or '.join(BACKENDS)} (got '{name}')")
    pools = [p.name for p in settings.gpu_pools] if settings else []
    if backend is not None and settings:
        problems += backend.stack_problems(settings)
    numbers = {
        key: num(key, kind)
        for key, kind in (("p99_ms", int), ("peak_rps", float), ("error_rate_percent", float), ("gpus", int))
    }
    num("rate_per_instance", float)
    if problems or backend is None:
        raise InvalidInput("\n".join(problems))
    return ModelRequest(
        name=values["name"], team=values["team"], backend=name, artifact=values["artifact"],
        p99_ms=numbers["p99_ms"], peak_rps=numbers["peak_rps"],
        image=values.get("image"), framework=values.get("framework"), py_version=values.get("py_version"),
        error_rate_percent=numbers["error_rate_percent"], pool=pool or (pools[0] if pools else None),
        gpus=numbers["gpus"] or 1, **backend.request_fields(values),
    )  # fmt: skip


def _sizing(request: ModelRequest, values: dict, tier: str) -> derive.Sizing:
    """An unknown instance type sizes as one worker; the settings then report the type itself."""
    shape = instances.lookup(request.instance_type) if request.instance_type else None
    measured = number(values, "rate_per_instance", float)
    return derive.size(request.peak_rps, request.p99_ms, derive.workers(shape, request.gpus), tier, measured)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    values, problems = _values(args, out)
    root = find_root(Path.cwd())
    project = read_project(root)
    stack = values.get("stack")
    document, current = _current(project, stack, values.get("name"), problems)
    request = _request(values, current, problems)
    assert document is not None and current is not None  # else _request raised: the stack was a problem
    sizing = _sizing(request, values, current.tier.value)
    models = document.get("modelfleet:models", None)
    if models is None:
        document.set(("modelfleet:models",), CommentedSeq())
        models = document.get("modelfleet:models")
    models.append(model_entry(request, sizing))
    settings = document.validate()  # SettingsError lists every problem, with its key path

    policy_file = config_path(root, stack)
    policy = load_policy(policy_file)
    enforced = [rule for rule, level in policy.levels.items() if level.value == "mandatory"]
    new = next(m for m in settings.models if m.name == request.name)
    problems = quota.quota_problems(
        current.models,
        new,
        policy.properties,
        enforced,
        str(policy_file.relative_to(root)),
        pool_gpu_ceilings(settings.gpu_pools),
    )
    if problems:
        raise Refused("\n  ".join(["a team quota would be exceeded:", *problems]))

    out.print(f"[bold]{request.name}[/] for team {request.team} in {stack}: {sizing.basis}", highlight=False)
    backend = BACKENDS[request.backend]
    out.print(
        f"  autoscaling {sizing.min_instances}-{sizing.max_instances} {backend.scaling_unit} "
        f"({sizing.needed_at_peak} carry the peak){backend.sizing_note(sizing)}",
        highlight=False,
    )
    show(preview(root, stack, document.render(), policy, compare_with_current=True), f"+ {request.name}", out)
    if args.dry_run:
        out.print("[dim]dry run: nothing written[/]")
        return 0
    document.save()
    out.print(f"[green]✓[/] {document.path}: model {request.name} added. Next:", soft_wrap=True)
    for step in (
        f"git checkout -b add-{request.name} && git add {document.path.relative_to(root)} && git commit",
        "open a pull request: CI plans every stack offline, runs the pack and comments the diff",
        f"after merge, deploy.yml runs `pulumi up --stack {stack}` (or run it yourself)",
    ):
        out.print(f"  {step}", highlight=False)
    return 0
