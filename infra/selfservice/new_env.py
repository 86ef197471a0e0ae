"""``modelfleet new-env``: a new stack from a tier, with a VPC range no other environment uses.

The stack file names only what identifies the environment (the tier supplies the
rest), and ``policies/config/<env>.json`` starts as a copy of the same-tier
stack's, so the new stack passes the pack with that tier's levels and quotas.
Region, owner and cost center default to the same-tier stack's.

Any ``--cidr`` either works or is refused in one line that says why: a block AWS
or modelfleet cannot use (``infra.specs.subnets.vpc_cidr_problem``, which the settings
ask too), or one another environment uses. A block smaller than the tier's
subnets need gets subnet prefixes that fit, written into the stack file.
"""

from __future__ import annotations

import argparse
import json
from ipaddress import IPv4Network
from pathlib import Path

from rich.console import Console

from infra.plan.policy import config_path
from infra.plan.policy import load_settings as load_policy
from infra.selfservice import derive
from infra.selfservice.common import given, show
from infra.selfservice.entries import EnvRequest, env_text
from infra.selfservice.preview import preview
from infra.selfservice.prompts import Ask, InvalidInput, read_answers, resolve
from infra.settings.platform import TIER_DEFAULTS, NetworkSettings, Tier, stack_name_problem
from infra.specs.subnets import PRIVATE_RANGES, vpc_cidr_problem
from infra.stackfiles.edit import StackDocument, atomic_write
from infra.stackfiles.read import Project, StackFileError, find_root, read_project, read_stack_config

KEYS = ["name", "tier", "region", "cidr", "owner", "cost_center"]


def _stack_values(project: Project) -> dict[str, dict[str, str]]:
    """Each existing stack's raw config values (unreadable stacks are skipped, not fatal)."""
    found = {}
    for stack in project.stacks():
        try:
            found[stack] = read_stack_config(project, project.stack_file(stack)).values
        except StackFileError:
            continue
    return found


def _cidr_of(values: dict[str, str]) -> IPv4Network | None:
    try:
        return IPv4Network(json.loads(values.get("modelfleet:network", "{}")).get("cidr"))
    except (ValueError, TypeError, AttributeError):
        return None


def _same_tier(stacks: dict[str, dict[str, str]], tier: str) -> str | None:
    """The stack to copy defaults from: the one named like the tier, else the first of that tier."""
    of_tier = [s for s, values in stacks.items() if values.get("modelfleet:tier") == tier]
    return tier if tier in of_tier else (of_tier[0] if of_tier else None)


def _cidr(text: str | None, taken: dict[str, IPv4Network]) -> IPv4Network:
    if text in (None, "", "auto"):
        return derive.choose_cidr(taken.values())
    try:
        cidr = IPv4Network(text)
    except ValueError as error:
        raise InvalidInput(f"--cidr: not an IPv4 CIDR block ({error})") from None
    if problem := vpc_cidr_problem(cidr):
        raise InvalidInput(f"--cidr {cidr}: {problem}{_instead(cidr, taken)}")
    clash = derive.overlapping(cidr, taken)
    if clash:
        ranges = ", ".join(f"{name} {taken[name]}" for name in clash)
        free = derive.choose_cidr(taken.values(), cidr.prefixlen)
        raise InvalidInput(f"--cidr {cidr} overlaps {ranges}; {free} is free (or omit --cidr)")
    return cidr


def _instead(cidr: IPv4Network, taken: dict[str, IPv4Network]) -> str:
    """A free /16 to suggest: inside ``cidr`` if it is a private range too large, else in 10/8."""
    inside = cidr if any(cidr.subnet_of(r) for r in PRIVATE_RANGES) and cidr.prefixlen < 16 else None
    try:
        free = (
            derive.choose_cidr(taken.values(), 16, inside) if inside else derive.choose_cidr(taken.values())
        )
    except derive.CannotDerive:
        return ""
    return f"; {free} is free (or omit --cidr)"


def _subnets(cidr: IPv4Network, tier: Tier) -> tuple[derive.SubnetPrefixes, derive.SubnetPrefixes]:
    """The tier's subnet prefixes and those that fit ``cidr``: the same when the tier's fit."""
    defaults = TIER_DEFAULTS[tier]["modelfleet:network"]
    fields = NetworkSettings.model_fields

    def bound(name: str, kind: str) -> int:
        return next(getattr(m, kind) for m in fields[name].metadata if hasattr(m, kind))

    preferred = derive.SubnetPrefixes(
        defaults.get("private_subnet_prefix", fields["private_subnet_prefix"].default),
        defaults.get("public_subnet_prefix", fields["public_subnet_prefix"].default),
    )
    longest = derive.SubnetPrefixes(bound("private_subnet_prefix", "le"), bound("public_subnet_prefix", "le"))
    az_count = defaults.get("az_count", fields["az_count"].default)
    try:
        return preferred, derive.subnet_prefixes(cidr, az_count, preferred, longest)
    except derive.CannotDerive as error:
        raise InvalidInput(f"--cidr {cidr}: {error}") from None


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    root = find_root(Path.cwd())
    project = read_project(root)
    stacks = _stack_values(project)
    answers = read_answers(args.answers, "env") if args.answers else {}
    values = resolve(
        [Ask("name", "Environment (stack) name"), Ask("tier", "Tier", "staging", ("dev", "staging", "prod"))],
        given(args, KEYS, answers),
        out,
    )
    name, tier = values["name"], values["tier"]
    if problem := stack_name_problem(name):
        raise InvalidInput(f"--name: {problem}")
    if name in stacks or project.stack_file(name).exists():
        raise InvalidInput(f"stack '{name}' already exists ({project.stack_file(name)})")
    if tier not in ("dev", "staging", "prod"):
        raise InvalidInput(f"--tier: dev, staging or prod (got '{tier}')")
    model_stack = _same_tier(stacks, tier)
    like = stacks.get(model_stack or "", {})
    taken = {s: c for s, v in stacks.items() if (c := _cidr_of(v)) is not None}
    values = resolve(
        [
            Ask("region", "AWS region", like.get("aws:region")),
            Ask("cidr", "VPC CIDR (auto: the first free 10.x.0.0/16)", "auto"),
            Ask("owner", "Owner (tag on every resource)", like.get("modelfleet:owner")),
            Ask("cost_center", "Cost center (tag on every resource)", like.get("modelfleet:cost_center")),
        ],
        values,
        out,
    )
    cidr = _cidr(values["cidr"], taken)
    preferred, fitted = _subnets(cidr, Tier(tier))
    request = EnvRequest(
        name, tier, values["region"], cidr, values["owner"], values["cost_center"],
        private_subnet_prefix=None if fitted.private == preferred.private else fitted.private,
        public_subnet_prefix=None if fitted.public == preferred.public else fitted.public,
    )  # fmt: skip
    document = StackDocument.create(project, name, env_text(request))
    document.validate()  # SettingsError lists every problem

    policy_file = config_path(root, name)
    source = (
        policy_file if policy_file.exists() else (config_path(root, model_stack) if model_stack else None)
    )
    policy = load_policy(source)
    if request.private_subnet_prefix or request.public_subnet_prefix:
        out.print(
            f"subnets sized to fit {request.cidr}: private /{fitted.private}, public /{fitted.public} "
            f"(the {tier} tier's do not fit)",
            highlight=False,
        )
    out.print(
        f"[bold]{name}[/]: {tier} tier in {request.region}, VPC {request.cidr}; "
        f"policy config {'kept' if source == policy_file else f'copied from {source}'}",
        highlight=False,
    )
    show(preview(root, name, document.render(), policy, compare_with_current=False), f"new stack {name}", out)
    if args.dry_run:
        out.print("[dim]dry run: nothing written[/]")
        return 0
    document.save()
    if source is not None and source != policy_file:
        atomic_write(policy_file, source.read_text(encoding="utf-8"))
    out.print(f"[green]✓[/] {document.path} and {policy_file} written. Next:", soft_wrap=True)
    for step in (
        f"git add stacks/Pulumi.{name}.yaml policies/config/{name}.json && git commit, then open a PR",
        f"after review: pulumi stack init {name} && pulumi up --stack {name}",
        f"add the stack to deploy.yml's order, and models with `modelfleet new-model --stack {name}`",
    ):
        out.print(f"  {step}", highlight=False)
    return 0
