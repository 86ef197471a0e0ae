"""How a rule is declared, and readers for the shapes resources take on the wire.

Rules see properties exactly as the Pulumi engine sends them (camelCase keys,
JSON strings for IAM documents), both under ``pulumi preview --policy-pack`` and
in the offline plan, so one reader serves both. Nothing here knows a rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.contracts.instances import lookup

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

Props = Mapping[str, Any]
ResourceCheck = Callable[[Props, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[list[PolicyResource], Mapping[str, Any]], Iterable[tuple[str, str | None]]]


def _with_defaults(schema: dict[str, dict[str, Any]] | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """Schema defaults under the given config: the CLI fills them in, a unit test may not."""
    defaults = {key: spec["default"] for key, spec in (schema or {}).items() if "default" in spec}
    return {**defaults, **given}


def resource_rule(
    name: str,
    description: str,
    types: Iterable[str] | Mapping[str, ResourceCheck],
    check: ResourceCheck | None = None,
    *,
    level: EnforcementLevel = MANDATORY,
    config: dict[str, dict[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    """A rule over single resources of ``types``; a check yields one message per problem.

    ``types`` maps each type to its own check when the property differs per type.
    """
    checks = dict(types) if isinstance(types, Mapping) else dict.fromkeys(types, check)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if (run := checks.get(args.resource_type)) is not None:
            for message in run(args.props, _with_defaults(config, args.get_config())):
                report_violation(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=PolicyConfigSchema(properties=config) if config else None,
    )


def stack_rule(
    name: str,
    description: str,
    check: StackCheck,
    *,
    level: EnforcementLevel = MANDATORY,
    config: dict[str, dict[str, Any]] | None = None,
) -> StackValidationPolicy:
    """A rule over the whole stack, for facts spread across resources (a bucket and its policy)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message, urn in check(list(args.resources), _with_defaults(config, args.get_config())):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=PolicyConfigSchema(properties=config) if config else None,
    )


def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def tags_of(props: Props) -> dict[str, str]:
    """Tags as a mapping, whether the provider takes a map (aws) or a key/value list (aws-native)."""
    tags = props.get("tags") or {}
    if isinstance(tags, list):
        return {t.get("key"): t.get("value") for t in tags if isinstance(t, Mapping)}
    return dict(tags)


def document(value: Any) -> dict[str, Any]:
    """An IAM or bucket policy document, given as a JSON string or already parsed."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def statements(value: Any) -> list[dict[str, Any]]:
    found = document(value).get("Statement") or []
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def gpus_per_instance(instance_type: str) -> int | None:
    """GPUs in one instance: SageMaker's ``ml.`` types and their EC2 twins share a shape."""
    known = lookup(instance_type) or lookup(f"ml.{instance_type}")
    return known.gpus if known else None


def truthy(value: Any) -> bool:
    """Booleans as the engine may send them: real booleans or the strings Terraform uses."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
