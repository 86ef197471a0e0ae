"""``modelfleet new-model``: a model into an existing stack, sized from its peak and SLO.

Order: values (flags, answers, prompts) -> the entry with derived autoscaling ->
the stack validated with it -> team quotas -> offline plan, pack and cost ->
written (atomically, comments and layout kept) unless ``--dry-run``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from ruamel.yaml.comments import CommentedSeq

from infra import instances
from infra.plan.policy import config_path
from infra.plan.policy import load_settings as load_policy
from infra.plan.stackfile import find_root, read_project
from infra.selfservice import derive, quota
from infra.selfservice.common import Refused, given, show
from infra.selfservice.entries import ModelRequest, model_entry
from infra.selfservice.preview import preview
from infra.selfservice.prompts import Ask, InvalidInput, number, read_answers, resolve
from infra.settings import PlatformSettings
from infra.stackedit import StackDocument

KEYS = [
    "stack", "name", "team", "backend", "image", "framework", "py_version", "artifact", "instance_type",
    "p99_ms", "peak_rps", "error_rate_percent", "rate_per_instance", "pool", "gpus",
]  # fmt: skip
ASKS = [
    Ask("stack", "Environment (stack) to add the model to"),
    Ask("name", "Model name (lowercase, digits, '-')"),
    Ask("team", "Owning team"),
    Ask("backend", "Serving backend", "sagemaker", ("sagemaker", "eks")),
    Ask("artifact", "Model artifact (s3://bucket/path/model.tar.gz)"),
    Ask("p99_ms", "p99 latency objective, ms"),
    Ask("peak_rps", "Expected peak requests per second"),
    Ask("error_rate_percent", "5XX objective, percent", "1"),
]
SAGEMAKER_ASKS = [Ask("instance_type", "SageMaker instance type", "ml.m5.large")]
SOURCE_ASK = Ask("image", "Serving image by digest, or a Deep Learning Container as <name>:<version>")


def _values(args: argparse.Namespace, out: Console) -> dict:
    answers = read_answers(args.answers, "model") if args.answers else {}
    values = resolve(ASKS, given(args, KEYS, answers), out)
    if values["backend"] == "sagemaker":
        values = resolve(SAGEMAKER_ASKS, values, out)
    if not values.get("image") and not values.get("framework"):
        values = resolve([SOURCE_ASK], values, out)
    source = str(values.get("image") or "")
    if source and "@sha256:" not in source and ":" in source:  # a template answer may hold either
        values["image"], values["framework"] = None, source
    return values


def _request(values: dict, settings: PlatformSettings) -> ModelRequest:
    """The request, or every problem with the values at once (the settings check the entry later)."""
    problems: list[str] = []

    def num(key: str, kind: type[int] | type[float]) -> Any:
        try:
            return number(values, key, kind)
        except InvalidInput as error:
            problems.append(str(error))
            return None

    backend, pool = values["backend"], values.get("pool")
    if backend not in ("sagemaker", "eks"):
        problems.append(f"--backend: sagemaker or eks (got '{backend}')")
    pools = [p.name for p in settings.gpu_pools]
    if backend == "eks" and not pools:
        problems.append(f"stack '{settings.environment}' has no GPU pool: backend eks needs one")
    if backend == "eks" and values.get("framework"):
        problems.append("backend eks serves an image by digest: pass --image, not --framework")
    request = ModelRequest(
        name=values["name"], team=values["team"], backend=backend, artifact=values["artifact"],
        p99_ms=num("p99_ms", int), peak_rps=num("peak_rps", float),
        image=values.get("image"), framework=values.get("framework"), py_version=values.get("py_version"),
        instance_type=values.get("instance_type") if backend == "sagemaker" else None,
        error_rate_percent=num("error_rate_percent", float), pool=pool or (pools[0] if pools else None),
        gpus=num("gpus", int) or 1,
    )  # fmt: skip
    num("rate_per_instance", float)
    if problems:
        raise InvalidInput("\n".join(problems))
    return request


def _sizing(request: ModelRequest, values: dict, tier: str) -> derive.Sizing:
    """An unknown instance type sizes as one worker; the settings then report the type itself."""
    shape = instances.lookup(request.instance_type or "") if request.backend == "sagemaker" else None
    measured = number(values, "rate_per_instance", float)
    return derive.size(request.peak_rps, request.p99_ms, derive.workers(shape, request.gpus), tier, measured)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    values = _values(args, out)
    root = find_root(Path.cwd())
    project = read_project(root)
    stack = values["stack"]
    if stack not in project.stacks():
        raise InvalidInput(f"unknown stack '{stack}' (stacks: {', '.join(project.stacks()) or 'none'})")
    document = StackDocument.load(project, stack)
    current = document.validate(document.original)
    if any(m.name == values["name"] for m in current.models):
        raise InvalidInput(f"stack '{stack}' already has a model named '{values['name']}'")
    request = _request(values, current)
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
        current.models, new, policy.properties, enforced, str(policy_file.relative_to(root))
    )
    if problems:
        raise Refused("\n  ".join(["a team quota would be exceeded:", *problems]))

    out.print(f"[bold]{request.name}[/] for team {request.team} in {stack}: {sizing.basis}", highlight=False)
    target = (
        f", target {sizing.target_per_minute} invocations/instance/min"
        if request.backend == "sagemaker"
        else ""
    )
    unit = "instances" if request.backend == "sagemaker" else "replicas"
    out.print(
        f"  autoscaling {sizing.min_instances}-{sizing.max_instances} {unit} "
        f"({sizing.needed_at_peak} carry the peak){target}",
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
