"""Settings for the EKS cluster (``modelfleet:cluster``) and its GPU pools (``modelfleet:gpu_pools``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from infra.contracts import eks_versions, instances
from infra.settings.catalog import acm_arn
from infra.settings.types import Cidr, Strict

ControlPlaneLog = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
# Who adds GPU nodes; eks_versions.CAPACITY_CHARTS has the charts each one installs.
Capacity = Literal["cluster-autoscaler", "karpenter"]


def _quoted_version(value: object) -> object:
    if isinstance(value, float | int):
        raise PydanticCustomError(
            "version",
            'write the version in quotes, e.g. "1.35" (YAML reads 1.30 as 1.3; got {got})',
            {"got": value},
        )
    return value


def validation_day(info: ValidationInfo) -> date:
    """The day support windows are judged on: the caller's (tests freeze it), else today in UTC."""
    given = (info.context or {}).get("today")
    return given if isinstance(given, date) else eks_versions.today()


def _choices(today: date) -> str:
    standard = eks_versions.in_standard_support(today)
    extended = [v for v in eks_versions.offered(today) if v not in standard]
    text = f"{', '.join(standard) or 'none'} (standard support)"
    return text + (f"; {', '.join(extended)} (extended support)" if extended else "")


def _supported_version(value: str, info: ValidationInfo) -> str:
    today = validation_day(info)
    version = eks_versions.VERSIONS.get(value)
    if version is None:
        raise PydanticCustomError(
            "version",
            "Kubernetes {got} is not one modelfleet pins add-ons for; use {allowed}",
            {"got": value, "allowed": _choices(today)},
        )
    if version.support(today) is eks_versions.Support.ENDED:
        raise PydanticCustomError(
            "version",
            "Kubernetes {got} left EKS extended support on {ended}, and EKS upgrades such clusters "
            "on its own schedule; use {allowed}",
            {"got": value, "ended": version.end_of_extended.isoformat(), "allowed": _choices(today)},
        )
    return value


def _role_arn(value: str) -> str:
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", value):
        raise PydanticCustomError("arn", "must be an IAM role ARN (got '{got}')", {"got": value})
    return value


def _gpu_instance(value: str) -> str:
    """EC2 names (g5.xlarge) share their shapes with SageMaker's (ml.g5.xlarge)."""
    shape = instances.lookup(f"ml.{value}")
    if shape is None:
        raise PydanticCustomError(
            "gpu", "'{got}' is not a known instance type; GPU families: {families}",
            {"got": value, "families": ", ".join(gpu_families())},
        )  # fmt: skip
    if not shape.gpus:
        raise PydanticCustomError(
            "gpu", "'{got}' has no GPU; GPU pools take {families} instances",
            {"got": value, "families": ", ".join(gpu_families())},
        )  # fmt: skip
    return value


def _cpu_instance(value: str) -> str:
    shape = instances.lookup(f"ml.{value}")
    if shape is None or shape.gpus:
        raise PydanticCustomError(
            "cpu", "must be a CPU instance type such as m6i.large or c6i.xlarge (got '{got}')", {"got": value}
        )
    return value


def gpu_families() -> list[str]:
    return sorted({t.family.removeprefix("ml.") for t in instances.INSTANCE_TYPES.values() if t.gpus})


class SystemNodeSettings(Strict):
    instance_type: Annotated[str, AfterValidator(_cpu_instance)] = Field(
        "m6i.large", description="CPU instance type of the system nodes (add-ons, controllers)"
    )
    min_size: int = Field(
        2,
        ge=1,
        le=20,
        description="fewest system nodes, and the count the group starts at; with capacity: karpenter, "
        "the fixed count (at least 2)",
    )
    max_size: int = Field(
        4,
        ge=1,
        le=50,
        description="most system nodes cluster-autoscaler may scale to; with capacity: karpenter nothing "
        "resizes the system group, so this is unused",
    )


class ClusterSettings(Strict):
    version: Annotated[str, BeforeValidator(_quoted_version), AfterValidator(_supported_version)] = Field(
        description="Kubernetes minor version, e.g. 1.35; checked against EKS's support calendar"
    )
    upgrade_policy: Literal["standard", "extended"] = Field(
        "extended",
        description="at the end of standard support: 'standard' lets EKS upgrade the control plane on its "
        "own (add-ons and nodes stay behind), 'extended' keeps the version at the extended-support rate; "
        "the stack's warnings and prod's refusal make the upgrade happen first",
    )
    allow_extended_support: bool = Field(
        False,
        description="acknowledge the extended-support rate for the control plane (see `modelfleet cost`); "
        "prod refuses a version past standard support without it",
    )
    endpoint_public_access_cidrs: list[Cidr] = Field(
        default_factory=list, description="who may reach the public API endpoint; empty = private only"
    )
    private_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="deployer networks (VPN, peering, transit gateway) that may reach the private API "
        "endpoint on 443; they must route to the VPC",
    )
    deploy_runner_in_vpc: bool = Field(
        False,
        description="a CI runner inside this VPC deploys the stack: the stack makes its security group "
        "and opens the API to it (docs/deploy-runner.md)",
    )
    load_balancer_certificate_arn: Annotated[str, AfterValidator(acm_arn)] | None = Field(
        None,
        description="ACM certificate every eks model's HTTPS listener uses unless the model names its own "
        "(for example a wildcard for the stack's internal domain)",
    )
    admin_role_arns: list[Annotated[str, AfterValidator(_role_arn)]] = Field(
        default_factory=list, description="IAM roles given cluster-admin through access entries"
    )
    log_types: list[ControlPlaneLog] = Field(
        default_factory=lambda: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        description="control plane logs sent to CloudWatch",
    )
    system_nodes: SystemNodeSettings = Field(
        default_factory=SystemNodeSettings, description="the node group for add-ons and controllers"
    )
    capacity: Capacity = Field(
        "cluster-autoscaler",
        description="who adds GPU nodes: 'cluster-autoscaler' resizes one managed node group per pool "
        "between its min_size and max_size; 'karpenter' launches nodes for pending pods from one "
        "NodePool per pool, up to max_size nodes' worth of GPUs and vCPUs, and removes them once empty "
        "(docs/architecture.md compares the two)",
    )


DEPLOYER_OPTIONS = (
    "private_access_cidrs (deployer networks that reach the VPC over VPN, peering or a transit gateway)",
    "deploy_runner_in_vpc: true (a CI runner inside the VPC; docs/deploy-runner.md)",
    "endpoint_public_access_cidrs (a public endpoint limited to those ranges; dev and staging only)",
)


def deployer_problems(cluster: ClusterSettings, prod: bool) -> list[tuple[tuple[str, ...], str]]:
    """The Kubernetes and Helm half of ``pulumi up`` talks to the API server: the deployer needs a path."""
    found = []
    if prod and cluster.endpoint_public_access_cidrs:
        found.append(
            (("endpoint_public_access_cidrs",), "prod API endpoints are private only: leave this empty")
        )
    reachable = cluster.private_access_cidrs or cluster.deploy_runner_in_vpc
    if not reachable and not (cluster.endpoint_public_access_cidrs and not prod):
        options = DEPLOYER_OPTIONS[:2] if prod else DEPLOYER_OPTIONS
        found.append(
            ((), "the deployer has no path to the private Kubernetes API, so `pulumi up` cannot create the "
             "cluster's workloads; set one of: " + "; ".join(options))
        )  # fmt: skip
    return found


def support_problems(cluster: ClusterSettings, prod: bool, today: date) -> list[tuple[tuple[str, ...], str]]:
    """Extended support costs more (the price table's eks:cluster-hour-extended-support): prod must
    say it accepts that, and EKS must allow it."""
    version = eks_versions.VERSIONS[cluster.version]
    if version.support(today) is not eks_versions.Support.EXTENDED:
        return []
    found = []
    since = version.end_of_standard.isoformat()
    if prod and not cluster.allow_extended_support:
        found.append(
            (("version",), f"Kubernetes {cluster.version} left standard support on {since} and is billed at "
             f"the extended-support rate; upgrade to {_choices(today)}, or set allow_extended_support: true")
        )  # fmt: skip
    # A cluster already in extended support cannot be switched to the standard policy
    # (EKS user guide, "Disable EKS extended support").
    if cluster.upgrade_policy == "standard":
        found.append(
            (("upgrade_policy",), f"Kubernetes {cluster.version} is in extended support since {since}; "
             "EKS keeps such clusters on the extended policy: set extended, or upgrade")
        )  # fmt: skip
    return found


def support_warnings(cluster: ClusterSettings, today: date) -> list[str]:
    """What a stack should hear before support runs out: printed by validate, plan and `pulumi up`."""
    version = eks_versions.VERSIONS[cluster.version]
    support, left = version.support(today), version.days_of_standard_left(today)
    if support is eks_versions.Support.EXTENDED:
        return [
            f"modelfleet:cluster.version: Kubernetes {cluster.version} is in extended support since "
            f"{version.end_of_standard.isoformat()} (billed at the extended-support rate) until "
            f"{version.end_of_extended.isoformat()}; upgrade to {_choices(today)}"
        ]
    if support is eks_versions.Support.STANDARD and left <= eks_versions.UPGRADE_WARNING_DAYS:
        return [
            f"modelfleet:cluster.version: Kubernetes {cluster.version} leaves standard support in "
            f"{left} days ({version.end_of_standard.isoformat()}); plan the upgrade"
        ]
    return []


def capacity_problems(
    cluster: ClusterSettings, pools: list[GpuPoolSettings], nat: bool
) -> list[tuple[tuple[str | int, ...], str]]:
    """What ``capacity: karpenter`` cannot do, at root key paths; nothing for cluster-autoscaler.

    ``nat``: whether the private subnets have a NAT gateway to reach AWS APIs that have no
    VPC endpoint here (SQS, pricing).
    """
    if cluster.capacity != "karpenter":
        return []
    found: list[tuple[tuple[str | int, ...], str]] = []
    switch = "or set modelfleet:cluster.capacity: cluster-autoscaler"
    if not nat:
        reason = (
            "karpenter reads its interruption queue (SQS) and EC2 prices from the private subnets, and "
            f"without NAT they have no path to either: choose a modelfleet:network.nat_strategy, {switch}"
        )
        found.append((("modelfleet:cluster", "capacity"), reason))
    if cluster.system_nodes.min_size < 2:
        reason = (
            "karpenter's controller runs two replicas on separate system nodes, and nothing resizes the "
            f"system node group under karpenter: at least 2 (got {cluster.system_nodes.min_size})"
        )
        found.append((("modelfleet:cluster", "system_nodes", "min_size"), reason))
    for index, pool in enumerate(pools):
        if pool.min_size:
            reason = (
                "karpenter keeps no idle nodes: it launches them for pending pods and removes them once "
                f"empty, so min_size must be 0 (got {pool.min_size}); a model's autoscaling.min_instances "
                f"keeps its replicas, and their nodes, running; {switch}"
            )
            found.append((("modelfleet:gpu_pools", index, "min_size"), reason))
        if pool.ami != "al2023":
            alias = f"al2023@{eks_versions.KARPENTER_AMI_RELEASE}"
            reason = (
                f"karpenter pools boot al2023 (the EC2NodeClass alias {alias}); {pool.ami} needs "
                "modelfleet:cluster.capacity: cluster-autoscaler"
            )
            found.append((("modelfleet:gpu_pools", index, "ami"), reason))
    return found


class GpuPoolSettings(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,20}$", description="lowercase, digits, '-'")
    instance_types: list[Annotated[str, AfterValidator(_gpu_instance)]] = Field(
        min_length=1, description="GPU instance types the pool may launch"
    )
    ami: Literal["al2023", "bottlerocket"] = Field(
        "al2023", description="NVIDIA AMI family; with capacity: karpenter, al2023 only"
    )
    capacity: Literal["on_demand", "spot"] = Field("on_demand", description="on-demand or spot instances")
    min_size: int = Field(
        0,
        ge=0,
        le=100,
        description="fewest nodes in the pool; with capacity: karpenter, 0 only (it keeps no idle nodes)",
    )
    max_size: int = Field(
        2,
        ge=1,
        le=100,
        description="most nodes in the pool; with capacity: karpenter, the NodePool's limits: this many "
        "nodes' worth of the largest instance type's GPUs and vCPUs",
    )
    root_volume_gib: int = Field(100, ge=50, le=2000, description="room for large serving images")
    max_unavailable_percent: int = Field(
        33,
        ge=1,
        le=100,
        description="nodes replaced at once on update; with capacity: karpenter, the NodePool's disruption "
        "budget (nodes drifted or emptied at once)",
    )

    @property
    def smallest_node(self) -> instances.InstanceType | None:
        """The pool's least capable instance type: what a replica must fit on."""
        shapes = [s for s in (instances.lookup(f"ml.{t}") for t in self.instance_types) if s]
        return min(shapes, key=lambda s: (s.gpus, s.vcpus, s.memory_gib), default=None)

    @property
    def gpu_model(self) -> str:
        shape = instances.lookup(f"ml.{self.instance_types[0]}")
        return (shape.gpu_model if shape else None) or "unknown"
