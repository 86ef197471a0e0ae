"""The Plan: what a stack declares, as recorded by the offline engine.

A Plan is the contract between the engine and everything built on it (tests,
policy checks, cost estimates, PR diffs, users' scripts). Its JSON form is
versioned; fields are only ever added within a version.

JSON shape (``schema_version`` 1)::

    {"schema_version": 1, "project": "modelfleet", "stack": "dev", "region": "eu-west-1",
     "resources": [{"urn", "type", "name", "parent", "custom", "id", "inputs", "outputs",
                    "protect", "retain_on_delete", "depends_on", "aliases",
                    "ignore_changes" (only when set)}, ...],
     "invokes": [{"token", "args"}, ...],
     "outputs": {...}, "diagnostics": [{"severity", "message"}, ...]}

``type`` is the Pulumi type token (``aws:ec2/natGateway:NatGateway``); ``parent`` is
the parent's URN, or null for resources directly under the stack.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
COMPUTED = "<computed>"  # a value only known after a real deployment


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Fields ``cls`` knows: a newer plan of the same version only adds fields."""
    names = _field_names(cls)
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool  # False for component resources
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    depends_on: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # former engine URNs (infra.plan.urns)
    ignore_changes: list[str] = field(default_factory=list)  # properties an update leaves as they are

    @property
    def tags(self) -> dict[str, str]:
        """Tags as a mapping, whether the provider takes a map (aws) or a key/value list (aws-native)."""
        tags = self.inputs.get("tags") or {}
        if isinstance(tags, list):
            return {t["key"]: t["value"] for t in tags if isinstance(t, dict) and "key" in t}
        return dict(tags)


@dataclass(frozen=True)
class PlannedInvoke:
    token: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    message: str


@dataclass
class Plan:
    project: str
    stack: str
    region: str
    resources: list[PlannedResource]
    invokes: list[PlannedInvoke] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    # Queries -----------------------------------------------------------------
    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]

    def get(self, type_token: str, name: str) -> PlannedResource:
        for resource in self.resources:
            if resource.type == type_token and resource.name == name:
                return resource
        raise KeyError(f"no {type_token} named {name!r} in the plan for stack {self.stack!r}")

    def by_urn(self, urn: str) -> PlannedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def children(self, parent_urn: str | None) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == parent_urn]

    def descendants(self, urn: str) -> list[PlannedResource]:
        found, frontier = [], [urn]
        while frontier:
            kids = self.children(frontier.pop())
            found.extend(kids)
            frontier.extend(k.urn for k in kids)
        return found

    @property
    def custom_resources(self) -> list[PlannedResource]:
        """Resources a provider manages (components excluded): what costs money."""
        return [r for r in self.resources if r.custom]

    def counts(self) -> Counter[str]:
        return Counter(r.type for r in self.custom_resources)

    # Serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for resource in data["resources"]:  # written only where set, so older plans read the same
            if not resource["ignore_changes"]:
                del resource["ignore_changes"]
        return {"schema_version": data.pop("schema_version"), **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"plan schema_version {version!r} is not {SCHEMA_VERSION}")
        return cls(
            project=data["project"],
            stack=data["stack"],
            region=data["region"],
            resources=[PlannedResource(**_known(PlannedResource, r)) for r in data["resources"]],
            invokes=[PlannedInvoke(**i) for i in data.get("invokes", [])],
            outputs=data.get("outputs", {}),
            diagnostics=[Diagnostic(**d) for d in data.get("diagnostics", [])],
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))
