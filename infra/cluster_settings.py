"""Settings for the EKS cluster (``modelfleet:cluster``) and its GPU pools (``modelfleet:gpu_pools``)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from infra import eks_versions, instances
from infra.settings_types import Cidr, Strict

ControlPlaneLog = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


def _quoted_version(value: object) -> object:
    if isinstance(value, float | int):
        raise PydanticCustomError(
            "version",
            'write the version in quotes, e.g. "1.32" (YAML reads 1.30 as 1.3; got {got})',
            {"got": value},
        )
    return value


def _supported_version(value: str) -> str:
    if value not in eks_versions.ADDONS:
        raise PydanticCustomError(
            "version",
            "Kubernetes {got} is not supported by the pinned add-ons; use one of {allowed}",
            {"got": value, "allowed": ", ".join(eks_versions.ADDONS)},
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
    instance_type: Annotated[str, AfterValidator(_cpu_instance)] = Field("m6i.large")
    min_size: int = Field(2, ge=1, le=20)
    max_size: int = Field(4, ge=1, le=50)


class ClusterSettings(Strict):
    version: Annotated[str, BeforeValidator(_quoted_version), AfterValidator(_supported_version)] = Field(
        description="Kubernetes minor version, e.g. 1.32"
    )
    endpoint_public_access_cidrs: list[Cidr] = Field(
        default_factory=list, description="who may reach the public API endpoint; empty = private only"
    )
    private_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="networks (deploy runners, VPN) that may reach the private API endpoint on 443",
    )
    admin_role_arns: list[Annotated[str, AfterValidator(_role_arn)]] = Field(
        default_factory=list, description="IAM roles given cluster-admin through access entries"
    )
    log_types: list[ControlPlaneLog] = Field(
        default_factory=lambda: ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    system_nodes: SystemNodeSettings = Field(default_factory=SystemNodeSettings)


class GpuPoolSettings(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,20}$", description="lowercase, digits, '-'")
    instance_types: list[Annotated[str, AfterValidator(_gpu_instance)]] = Field(min_length=1)
    ami: Literal["al2023", "bottlerocket"] = Field("al2023", description="NVIDIA AMI family")
    capacity: Literal["on_demand", "spot"] = Field("on_demand")
    min_size: int = Field(0, ge=0, le=100)
    max_size: int = Field(2, ge=1, le=100)
    root_volume_gib: int = Field(100, ge=50, le=2000, description="room for large serving images")
    max_unavailable_percent: int = Field(33, ge=1, le=100, description="nodes replaced at once on update")

    @property
    def smallest_node(self) -> instances.InstanceType | None:
        """The pool's least capable instance type: what a replica must fit on."""
        shapes = [s for s in (instances.lookup(f"ml.{t}") for t in self.instance_types) if s]
        return min(shapes, key=lambda s: (s.gpus, s.vcpus, s.memory_gib), default=None)

    @property
    def gpu_model(self) -> str:
        shape = instances.lookup(f"ml.{self.instance_types[0]}")
        return (shape.gpu_model if shape else None) or "unknown"
