"""Which resources a scanner sees, and in which file: the export's one list of decisions.

Every resource type in a plan is exported one of two ways, or is on ``NOT_SCANNED``
with the reason. A type that is none of these is *undecided*: the export leaves it
out and says so, and the shipped-stack test fails until someone decides, so a new
kind of resource never slips past the scanners unnoticed.

- ``aws:*`` -> ``<stack>.tfplan.json``, a Terraform plan (``tfplan.py``);
- ``kubernetes:*`` objects the program declares -> ``<stack>.k8s.yaml`` (``k8s_manifests.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from infra.plan import native_twins
from infra.plan.k8s_manifests import manifests_yaml
from infra.plan.model import Plan, PlannedResource
from infra.plan.tfplan import terraform_plan

TERRAFORM_PLAN = "terraform-plan"
KUBERNETES = "kubernetes"
EXPORTED = {"aws:*": TERRAFORM_PLAN, "kubernetes:*": KUBERNETES}  # after NOT_SCANNED

# Type pattern -> why it is not scanned. Checked before EXPORTED.
NOT_SCANNED = {
    "modelfleet:*": "a component only groups resources; it declares nothing, and its children are exported",
    "pulumi:providers:*": (
        "provider configuration, not infrastructure; the AWS region is in the plan's provider_config"
    ),
    "kubernetes:helm.sh/v3:Release": (
        "the chart's objects are rendered by Helm at deployment, not declared by the program; "
        "each chart is pinned to a version in infra/contracts/eks_versions.py and reviewed there"
    ),
    "aws-native:sagemaker:Endpoint": (
        "a CloudFormation-schema resource, not a Terraform one; its Terraform twin "
        "aws_sagemaker_endpoint has no checkov check (3.3.30), and what is security-relevant "
        "about an endpoint (KMS, data capture, VPC, image) is on its EndpointConfiguration and "
        "Model, which are exported"
    ),
    "aws-native:sagemaker:InferenceComponent": (
        "Terraform has no inference component yet (hashicorp/terraform-provider-aws#35226), so no "
        "scanner has checks for one; its image, reservation and rolling update are checked by the "
        "policy pack, and the endpoint configuration it runs on is exported as its Terraform twin "
        "(infra/plan/native_twins.py)"
    ),
}


def decision(type_token: str) -> str | None:
    """``TERRAFORM_PLAN``, ``KUBERNETES``, or None when ``NOT_SCANNED`` lists the type.

    Raises ``KeyError`` for a type nobody has decided about yet.
    """
    for pattern in NOT_SCANNED:
        if fnmatchcase(type_token, pattern):
            return None
    for pattern, target in EXPORTED.items():
        if fnmatchcase(type_token, pattern):
            return target
    raise KeyError(type_token)


@dataclass
class Export:
    """A plan split by where each resource goes, and the files it went to."""

    stack: str
    terraform: list[PlannedResource] = field(default_factory=list)
    kubernetes: list[PlannedResource] = field(default_factory=list)
    not_scanned: list[PlannedResource] = field(default_factory=list)
    undecided: list[PlannedResource] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.stack}: {len(self.terraform)} resources -> {self.paths.get(TERRAFORM_PLAN)}, "
            f"{len(self.kubernetes)} objects -> {self.paths.get(KUBERNETES)}, "
            f"{len(self.not_scanned)} not scanned (infra/plan/export.py says why)"
        )

    @property
    def undecided_types(self) -> list[str]:
        return sorted({r.type for r in self.undecided})


def split(plan: Plan) -> Export:
    export = Export(plan.stack)
    for resource in map(native_twins.twin, plan.resources):
        try:
            target = decision(resource.type)
        except KeyError:
            export.undecided.append(resource)
            continue
        bucket = {TERRAFORM_PLAN: export.terraform, KUBERNETES: export.kubernetes}.get(target or "")
        (bucket if bucket is not None else export.not_scanned).append(resource)
    return export


SUFFIXES = {TERRAFORM_PLAN: ".tfplan.json", KUBERNETES: ".k8s.yaml"}


def files(out_dir: Path, stack: str) -> dict[str, Path]:
    """Where the export of ``stack`` goes: one file per format."""
    return {target: out_dir / f"{stack}{suffix}" for target, suffix in SUFFIXES.items()}


def stack_of(file_name: str) -> str | None:
    """The stack an exported file belongs to, or None for a file the export did not write."""
    for suffix in SUFFIXES.values():
        if file_name.endswith(suffix):
            return file_name.removesuffix(suffix)
    return None


def write(plan: Plan, out_dir: Path) -> Export:
    """Write both files for ``plan`` into ``out_dir`` and say what went where."""
    export = split(plan)
    export.paths = files(out_dir, plan.stack)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = terraform_plan(export.terraform, plan.region)
    export.paths[TERRAFORM_PLAN].write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    export.paths[KUBERNETES].write_text(manifests_yaml(export.kubernetes), encoding="utf-8")
    return export
