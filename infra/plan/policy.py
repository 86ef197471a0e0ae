"""Run the policy pack over a Plan, offline, exactly as CrossGuard would run it.

The rules are the pack's own ``ResourceValidationPolicy``/``StackValidationPolicy``
objects; this module only builds the arguments the Pulumi CLI would build (inputs
for resource rules, outputs over inputs for stack rules) and reads the same
per-stack policy config file that ``--policy-pack-config`` takes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from infra.plan.model import Plan, PlannedResource
from policies.rules import ALL, BY_NAME

LEVELS = {level.value: level for level in EnforcementLevel}


class PolicyConfigError(Exception):
    """The policy config file is unreadable or does not fit the pack's schema; lists every problem."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # "mandatory" | "advisory"
    message: str
    urn: str | None
    resource: str | None  # "type name", for people

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.policy, self.urn, self.message)


@dataclass(frozen=True)
class PolicyReport:
    violations: list[Violation] = field(default_factory=list)
    config_file: str | None = None

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == EnforcementLevel.MANDATORY.value]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == EnforcementLevel.ADVISORY.value]

    def to_dict(self) -> dict[str, Any]:
        return {"config_file": self.config_file, "violations": [v.__dict__ for v in self.violations]}


@dataclass(frozen=True)
class PolicySettings:
    """Per policy: its enforcement level and its config (schema defaults filled in)."""

    levels: dict[str, EnforcementLevel]
    properties: dict[str, dict[str, Any]]
    source: str | None = None


def config_path(root: Path, stack: str) -> Path:
    return root / "policies" / "config" / f"{stack}.json"


def load_settings(path: Path | None, *, required: bool = False) -> PolicySettings:
    """Read a ``--policy-pack-config`` file; a stack without one gets the pack's defaults.

    ``required``: the file was named by the user, so a missing one is a mistake, not a default.
    """
    if required and path is not None and not path.exists():
        raise PolicyConfigError(f"{path}: no such policy config file")
    raw: dict[str, Any] = {}
    if path is not None and path.exists():
        try:
            raw = json.loads(path.read_text())
        except ValueError as error:
            raise PolicyConfigError(f"{path}: not valid JSON ({error})") from None
    problems, levels, properties = [], {}, {}
    default_level = raw.get("all", EnforcementLevel.MANDATORY.value)
    if default_level not in LEVELS:
        problems.append(f"all: enforcement level must be one of {sorted(LEVELS)} (got {default_level!r})")
    unknown = sorted(set(raw) - set(BY_NAME) - {"all"})
    problems += [f"{name}: no such policy (policies: {', '.join(sorted(BY_NAME))})" for name in unknown]
    for rule in ALL:
        given = raw.get(rule.name, {})
        given = {"enforcementLevel": given} if isinstance(given, str) else dict(given)
        fallback = default_level if "all" in raw else rule.enforcement_level.value
        level = given.pop("enforcementLevel", fallback)
        if level not in LEVELS:
            problems.append(f"{rule.name}.enforcementLevel: must be one of {sorted(LEVELS)} (got {level!r})")
            continue
        schema = rule.config_schema.properties if rule.config_schema else {}
        validator = jsonschema.Draft7Validator(
            {"type": "object", "properties": schema, "additionalProperties": False}
        )
        for error in validator.iter_errors(given):
            where = ".".join(str(p) for p in error.absolute_path)
            problems.append(f"{rule.name}{'.' + where if where else ''}: {error.message}")
        levels[rule.name] = LEVELS[level]
        properties[rule.name] = {k: v["default"] for k, v in schema.items() if "default" in v} | given
    if problems:
        raise PolicyConfigError(f"{path}: {len(problems)} problem(s)\n  " + "\n  ".join(problems))
    return PolicySettings(levels, properties, str(path) if path and path.exists() else None)


def _options(resource: PlannedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        resource.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], resource.parent
    )


def stack_resources(plan: Plan) -> list[PolicyResource]:
    """Outputs over inputs, with the id, as a stack policy sees a deployed stack."""
    made: dict[str, PolicyResource] = {}
    for r in plan.custom_resources:
        props = {**r.inputs, **r.outputs, **({"id": r.id} if r.id else {})}
        made[r.urn] = PolicyResource(r.type, props, r.urn, r.name, _options(r), None, None, [], {})
    for r in plan.custom_resources:
        made[r.urn].parent = made.get(r.parent) if r.parent else None
        made[r.urn].dependencies = [made[d] for d in r.depends_on if d in made]
    return list(made.values())


def check_plan(plan: Plan, settings: PolicySettings) -> PolicyReport:
    found: list[Violation] = []
    resources = plan.custom_resources
    by_urn = {r.urn: r for r in plan.resources}
    whole_stack: list[PolicyResource] | None = None  # built once, for the first stack rule
    for rule in ALL:
        level = settings.levels[rule.name]
        if level == EnforcementLevel.DISABLED:
            continue
        config = settings.properties[rule.name]

        def report(message: str, urn: str | None, rule=rule, level=level, about=None) -> None:
            target = about or by_urn.get(urn or "")
            shown = f"{target.type} {target.name}" if target else None
            found.append(Violation(rule.name, level.value, message, getattr(target, "urn", urn), shown))

        if isinstance(rule, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.type, r.inputs, r.urn, r.name, _options(r), None, config)
                rule.validate(args, lambda message, _urn, r=r, report=report: report(message, None, about=r))
        else:
            whole_stack = whole_stack if whole_stack is not None else stack_resources(plan)
            rule.validate(StackValidationArgs(whole_stack, config), report)
    return PolicyReport(found, settings.source)
