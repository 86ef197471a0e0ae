"""A stack's AWS resources as a Terraform plan (``terraform show -json``), for IaC scanners.

Security teams already run scanners (checkov, trivy, KICS, terrascan) over Terraform
plans; none reads a Pulumi plan. pulumi-aws bridges the Terraform AWS provider, so
each resource is a Terraform resource under another name (``tfnames.py``), and the
document below is the one ``terraform plan`` would show for a first deployment: every
resource created, with the values the program gives it.

What a scanner reads, and so what this writes (checkov's ``plan_parser.py`` as the
reference reader):

- ``planned_values.root_module.resources[]``: address, type, name, values (blocks as
  lists of objects, maps as objects);
- ``resource_changes[]``: the same resources with ``change.actions: ["create"]``;
- ``configuration.root_module.resources[].expressions``: references between resources.
  A value that another resource produces (its id, ARN or name) is left unknown in
  ``planned_values``, as Terraform leaves it on a first plan, and named here as a
  reference (``aws_kms_key.platform-key.arn``). Scanners link resources through these
  references: a bucket to its encryption configuration, a VPC to its flow log. Which
  values are such references is read from the recorded dependencies, never guessed
  from the values alone.

Everything else a real plan carries (prior state, provider schemas, variables) is
absent, because nothing here has them. The document follows format version 1.0 as
Terraform documents it; ``terraform_version`` names that release, no Terraform ran.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from infra.plan.model import COMPUTED, PlannedResource
from infra.plan.tfnames import tf_attribute, tf_type, tf_values
from infra.stackfiles.read import SECRET

FORMAT_VERSION = "1.0"
TERRAFORM_VERSION = "1.1.0"  # the release that documents format_version 1.0
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_-]")
# Attributes a reference points at first: what Terraform configurations usually take.
_PREFERRED_TARGETS = ("id", "arn", "name")
# An input a dependency echoes is a reference target only when it names something.
_IDENTIFIER = re.compile(r"^(id|arn|name)$|(Id|Arn|Name)$")


def address_name(name: str) -> str:
    """A Pulumi resource name as a Terraform resource name (letters, digits, ``_``, ``-``)."""
    cleaned = _NOT_IN_NAME.sub("_", name)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"


def _addresses(resources: Iterable[PlannedResource]) -> dict[str, str]:
    """URN -> Terraform address; two resources may not share one."""
    addresses: dict[str, str] = {}
    for resource in resources:
        address = f"{tf_type(resource.type)}.{address_name(resource.name)}"
        if address in addresses.values():
            raise ValueError(f"two resources would share the Terraform address {address}")
        addresses[resource.urn] = address
    return addresses


def _produced(resource: PlannedResource, address: str, *, echoes: bool) -> dict[str, str]:
    """String values ``resource`` exposes -> the reference that names them.

    Without ``echoes``: what the resource computes itself (its id, ARN, generated name).
    With them: the identifiers it was given and passes on (an EKS cluster's name), but
    never other inputs: a target group's ``protocol: HTTP`` is not what a listener's
    ``HTTP`` refers to.
    """
    attributes = {"id": resource.id, **resource.outputs}
    produced: dict[str, str] = {}
    for attribute in dict.fromkeys([*_PREFERRED_TARGETS, *sorted(attributes)]):
        value = attributes.get(attribute)
        given = attribute in resource.inputs
        if given != echoes or (echoes and not _IDENTIFIER.search(attribute)):
            continue
        if isinstance(value, str) and value not in (COMPUTED, SECRET, "") and value not in produced:
            produced[value] = f"{address}.{tf_attribute(resource.type, attribute)}"
    return produced


def _dependency_values(
    resource: PlannedResource, by_urn: dict[str, PlannedResource], addresses: dict[str, str]
) -> dict[str, str]:
    """Every string value the resources ``resource`` depends on produce -> its reference."""
    produced: dict[str, str] = {}
    dependencies = sorted(set(resource.depends_on) & addresses.keys())
    for echoes in (False, True):  # a value computed by one dependency beats one passed on by another
        for urn in dependencies:
            for value, reference in _produced(by_urn[urn], addresses[urn], echoes=echoes).items():
                produced.setdefault(value, reference)
    return produced


def _is_blocks(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _split(values: dict[str, Any], produced: dict[str, str]) -> tuple[dict, dict, dict]:
    """One object's values as (known values, after_unknown, reference expressions).

    An attribute made only of values that dependencies produce becomes a reference,
    in nested blocks too; maps (tags, dimensions) are data and stay as they are.
    """
    known, unknown, expressions = {}, {}, {}
    for attribute, value in values.items():
        strings = value if isinstance(value, list) else [value]
        if value == COMPUTED:
            unknown[attribute] = True
        elif strings and all(isinstance(s, str) and s in produced for s in strings):
            named = [produced[s] for s in strings]
            whole = [n.rsplit(".", 1)[0] for n in named]  # Terraform lists the resource too
            unknown[attribute] = True
            expressions[attribute] = {"references": list(dict.fromkeys(named + whole))}
        elif _is_blocks(value):
            parts = [_split(block, produced) for block in value]
            known[attribute] = [part[0] for part in parts]
            if any(part[1] for part in parts):
                unknown[attribute] = [part[1] for part in parts]
            if any(part[2] for part in parts):
                expressions[attribute] = [part[2] for part in parts]
        else:
            known[attribute] = value
    return known, unknown, expressions


def terraform_plan(resources: list[PlannedResource], region: str) -> dict[str, Any]:
    """The plan JSON document for pulumi-aws ``resources`` in ``region``."""
    addresses = _addresses(resources)
    by_urn = {r.urn: r for r in resources}
    planned, changes, configured = [], [], []
    for resource in resources:
        address = addresses[resource.urn]
        kind, name = address.split(".", 1)
        produced = _dependency_values(resource, by_urn, addresses)
        values, unknown, expressions = _split(tf_values(resource.type, resource.inputs), produced)
        head = {"address": address, "mode": "managed", "type": kind, "name": name}
        planned.append({**head, "provider_name": AWS_PROVIDER, "schema_version": 0, "values": values})
        changes.append(
            {
                **head,
                "provider_name": AWS_PROVIDER,
                "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": unknown},
            }
        )
        configured.append({**head, "provider_config_key": "aws", "expressions": expressions})
    region_setting = {"region": {"constant_value": region}}
    provider = {"name": "aws", "full_name": AWS_PROVIDER, "expressions": region_setting}
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": provider},
            "root_module": {"resources": configured},
        },
    }
