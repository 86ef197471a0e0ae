"""Run one rule the way the Pulumi CLI does: build its args, collect what it reports."""

from __future__ import annotations

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)


@pytest.fixture(autouse=True)
def _pinned_day(monkeypatch):
    """Rules that read EKS's support calendar judge it on a fixed day: 1.35 standard, 1.31 ended."""
    from datetime import date

    from infra.contracts import eks_versions

    monkeypatch.setattr(eks_versions, "today", lambda: date(2026, 12, 3))


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource(type_: str, props: dict, name: str = "r") -> PolicyResource:
    return PolicyResource(
        type_, props, f"urn:pulumi:test::p::{type_}::{name}", name, _options(), None, None, [], {}
    )


def run_resource(
    rule: ResourceValidationPolicy, type_: str, props: dict, config: dict | None = None
) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(
        type_, props, f"urn:pulumi:test::p::{type_}::r", "r", _options(), None, config
    )
    rule.validate(args, lambda message, _urn: found.append(message))
    return found


def run_stack(rule, resources: list[PolicyResource], config: dict | None = None) -> list[str]:
    found: list[str] = []
    rule.validate(StackValidationArgs(resources, config), lambda message, _urn: found.append(message))
    return found


@pytest.fixture
def check():
    return run_resource
