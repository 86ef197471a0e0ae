"""Typed, validated stack settings: the only module that interprets stack config.

``load_settings`` turns a stack's config map (``stacks/Pulumi.<env>.yaml``, as the
Pulumi CLI hands it to the program) into a ``PlatformSettings`` object, after
filling in the tier's defaults. Every problem is reported at once, each with its
config key path and what is allowed, before any resource is declared.

Sections still to come plug in beside ``network`` as ``modelfleet:cluster``,
``modelfleet:gpu_pools`` and ``modelfleet:models``; until they exist, those keys
are rejected as unknown rather than silently ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from infra.contracts import eks_versions
from infra.contracts.runtimes import Runtime
from infra.settings.catalog import (
    MODEL_CLASSES,
    EksModel,
    ModelBase,
    ModelSettings,
    SageMakerModel,
    catalog_problems,
)
from infra.settings.cluster import (
    ClusterSettings,
    GpuPoolSettings,
    capacity_problems,
    deployer_problems,
    support_problems,
    support_warnings,
    validation_day,
)
from infra.settings.drift import StackDriftSettings
from infra.settings.errors import Problem, SettingsError, key_path, problems_from
from infra.settings.mirrors import ImageMirrorSettings
from infra.settings.shared_endpoints import SharedEndpointSettings
from infra.settings.teams import TeamName, TeamSettings
from infra.settings.tiers import TIER_DEFAULTS, TIER_MODEL_DEFAULTS, TIER_POOL_DEFAULTS, Tier
from infra.settings.types import Cidr, Strict, TagKey, TagValue, VpcCidr
from infra.specs import component_fit, naming, subnets

__all__ = [
    "FlowLogSettings",
    "NatStrategy",
    "NetworkSettings",
    "PlatformSettings",
    "Problem",
    "SettingsError",
    "Tier",
    "load_settings",
]


class NatStrategy(StrEnum):
    NONE = "none"  # no internet egress: private subnets reach AWS through VPC endpoints only
    SINGLE = "single"  # one NAT gateway: cheap, but an AZ outage cuts egress for all
    PER_AZ = "per_az"  # one NAT gateway per AZ: no cross-AZ dependency


# Interface endpoints the serving path needs to run without NAT traffic to AWS APIs.
REQUIRED_INTERFACE_ENDPOINTS = (
    "sagemaker.api",
    "sagemaker.runtime",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "monitoring",
    "sts",
)
EndpointService = Literal[
    "sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr", "logs", "monitoring", "sts",
    "ec2", "eks", "eks-auth", "elasticloadbalancing", "autoscaling", "kms", "ssm",
    "ssmmessages", "ec2messages", "secretsmanager",
]  # fmt: skip
# The values CloudWatch Logs accepts for a log group's retention.
RetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
]  # fmt: skip


def _region(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}", value):
        raise PydanticCustomError(
            "region",
            "must be an AWS region code such as us-east-1 or eu-west-1 (got '{got}')",
            {"got": value},
        )
    return value


def stack_name_problem(value: str) -> str | None:
    """Why ``value`` cannot name a stack (an environment), or None; ``new-env`` asks the same."""
    limit = naming.STACK_NAME_MAX_LENGTH
    if re.fullmatch(rf"[a-z][a-z0-9-]{{1,{limit - 1}}}", value):
        return None
    return f"must be 2-{limit} lowercase letters, digits or '-', starting with a letter (got '{value}')"


def _stack_name(value: str) -> str:
    if problem := stack_name_problem(value):
        raise PydanticCustomError("stack", "{problem}", {"problem": problem})
    return value


class FlowLogSettings(Strict):
    retention_days: RetentionDays = Field(365, description="days CloudWatch keeps VPC flow logs")
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = Field("ALL", description="which flows to log")
    max_aggregation_interval_seconds: Literal[60, 600] = Field(
        600, description="how long flows are aggregated before a record is written"
    )


class NetworkSettings(Strict):
    cidr: VpcCidr = Field(description="the VPC's IPv4 CIDR block, RFC 1918, /16 to /24")
    az_count: int = Field(3, ge=2, le=6, description="availability zones to spread subnets over")
    availability_zones: list[str] | None = Field(
        None, description="pin the zones by name (default: the region's first az_count zones)"
    )
    nat_strategy: NatStrategy = Field(NatStrategy.PER_AZ, description="NAT gateways for egress")
    public_subnet_prefix: int = Field(24, ge=20, le=28, description="prefix length of public subnets")
    private_subnet_prefix: int = Field(
        19, ge=16, le=27, description="prefix length of private subnets (EKS pods take one IP each)"
    )
    public_subnet_cidrs: list[Cidr] | None = Field(None, description="explicit public subnets, one per AZ")
    private_subnet_cidrs: list[Cidr] | None = Field(None, description="explicit private subnets, one per AZ")
    interface_endpoints: list[EndpointService] = Field(
        default_factory=lambda: list(REQUIRED_INTERFACE_ENDPOINTS),
        description="AWS services reached through interface endpoints with private DNS",
    )
    flow_logs: FlowLogSettings = Field(default_factory=FlowLogSettings, description="VPC flow logs")

    @field_validator("interface_endpoints")
    @classmethod
    def _endpoints(cls, services: list[str], info: ValidationInfo) -> list[str]:
        repeated = sorted({s for s in services if services.count(s) > 1})
        if repeated:
            raise PydanticCustomError("endpoints", "lists '{name}' twice", {"name": repeated[0]})
        missing = [s for s in REQUIRED_INTERFACE_ENDPOINTS if s not in services]
        if info.data.get("nat_strategy") == NatStrategy.NONE and missing:
            raise PydanticCustomError(
                "endpoints",
                "without NAT the VPC needs endpoints for {missing}: add them or choose a NAT strategy",
                {"missing": ", ".join(missing)},
            )
        return services

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, zones: list[str] | None, info: ValidationInfo) -> list[str] | None:
        region = (info.context or {}).get("region") or ""
        if zones is None:
            return zones
        if len(set(zones)) != len(zones) or len(zones) != info.data.get("az_count", len(zones)):
            raise PydanticCustomError(
                "zones", "needs az_count distinct zones (got {got})", {"got": len(zones)}
            )
        strangers = [z for z in zones if not re.fullmatch(rf"{re.escape(region)}[a-z]", z)]
        if region and strangers:
            raise PydanticCustomError(
                "zones", "{zones} not in {region}", {"zones": ", ".join(strangers), "region": region}
            )
        return zones

    @model_validator(mode="after")
    def _layout(self) -> NetworkSettings:
        """Check explicit subnets, derive the others, and report every conflict."""
        errors: list[InitErrorDetails] = []

        def error(loc: tuple[str | int, ...], message: str) -> None:
            errors.append(InitErrorDetails(type=PydanticCustomError("network", message), loc=loc, input=None))

        layout: dict[str, list[IPv4Network]] = {}
        derived: list[str] = []
        for kind in ("private", "public"):
            key, prefix = f"{kind}_subnet_cidrs", getattr(self, f"{kind}_subnet_prefix")
            explicit = getattr(self, key)
            if explicit is None:
                try:
                    layout[kind] = subnets.per_az_slots(
                        self.cidr, prefix, self.az_count, from_top=kind == "public"
                    )
                    derived.append(kind)
                except subnets.SubnetsDoNotFit as exc:
                    error((f"{kind}_subnet_prefix",), f"{exc}; use a larger VPC or a longer prefix")
                continue
            if len(explicit) != self.az_count:
                error((key,), f"needs one subnet per AZ: {self.az_count} (got {len(explicit)})")
            for index, net in enumerate(explicit):
                if not net.subnet_of(self.cidr):
                    error((key, index), f"{net} is outside the VPC CIDR {self.cidr}")
                elif net.prefixlen > 28:
                    error((key, index), f"{net} is smaller than /28, the smallest AWS subnet")
            layout[kind] = list(explicit)

        everything = [(k, i, n) for k in layout for i, n in enumerate(layout[k])]
        for a, b in subnets.overlapping_pairs([n for _, _, n in everything]):
            (kind_a, index_a, net_a), (kind_b, index_b, net_b) = everything[a], everything[b]
            if kind_a in derived and kind_b in derived:
                count, private, public = self.az_count, self.private_subnet_prefix, self.public_subnet_prefix
                error(
                    ("cidr",),
                    f"{self.cidr} cannot hold {count} private /{private} and {count} public /{public} "
                    "subnets; use a larger VPC or longer private_subnet_prefix / public_subnet_prefix",
                )
                break
            where = (
                (f"{kind_b}_subnet_cidrs", index_b)
                if kind_b not in derived
                else (f"{kind_a}_subnet_cidrs", index_a)
            )
            error(where, f"{net_b} overlaps {kind_a} subnet {index_a} ({net_a})")
        if errors:
            raise ValidationError.from_exception_data("NetworkSettings", errors)
        # The resolved layout is what the Network component builds and the plan shows.
        object.__setattr__(self, "private_subnet_cidrs", layout["private"])
        object.__setattr__(self, "public_subnet_cidrs", layout["public"])
        return self

    @property
    def nat_gateway_count(self) -> int:
        return {NatStrategy.NONE: 0, NatStrategy.SINGLE: 1, NatStrategy.PER_AZ: self.az_count}[
            self.nat_strategy
        ]


class RetentionSettings(Strict):
    log_days: RetentionDays = Field(365, description="days endpoint logs are kept")
    data_capture_days: int = Field(90, ge=1, le=3650, description="days captured payloads are kept")


class AlertSettings(Strict):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(
        default_factory=list, description="addresses subscribed to the stack's alarm topic"
    )


def _fit_problems(model: EksModel, pool: GpuPoolSettings) -> list[tuple[str, str]]:
    """Whether one replica fits on the pool's smallest node, and the PDB leaves room to drain."""
    eks, scaling, node = model.eks, model.autoscaling, pool.smallest_node
    found = []
    if eks is None or node is None:
        return found
    if eks.gpus > node.gpus:
        found.append(
            ("gpus", f"pool '{pool.name}' instances have {node.gpus} GPU(s); a replica cannot use more")
        )
    # Leave a vCPU and a tenth of memory for the kubelet, the OS and daemon sets.
    if eks.cpu > node.vcpus - 1:
        found.append(
            ("cpu", f"pool '{pool.name}' nodes offer {node.vcpus - 1} vCPU(s) to pods (got {eks.cpu:g})")
        )
    if eks.memory_gib > node.memory_gib * 0.9:
        found.append(("memory_gib", f"pool '{pool.name}' nodes offer {node.memory_gib * 0.9:g} GiB to pods"))
    if scaling and eks.pdb_min_available >= scaling.min_instances and eks.pdb_min_available > 0:
        reason = (
            f"must be below autoscaling.min_instances ({scaling.min_instances}) or nodes can never be drained"
        )
        found.append(("pdb_min_available", reason))
    return found


class PlatformSettings(Strict):
    """The whole stack. Field aliases are the config keys as written in the stack file."""

    environment: Annotated[str, AfterValidator(_stack_name)] = Field(
        description="the stack name, used in resource names"
    )
    region: Annotated[str, AfterValidator(_region)] = Field(
        alias="aws:region", description="the AWS region the stack deploys to"
    )
    tier: Tier = Field(alias="modelfleet:tier", description="dev, staging or prod: picks the defaults")
    owner: TagValue = Field(alias="modelfleet:owner", min_length=1, description="owning team or address")
    cost_center: TagValue = Field(alias="modelfleet:cost_center", min_length=1, description="billing code")
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, alias="modelfleet:tags", description="extra tags on every resource"
    )
    protect_stateful: bool = Field(
        False,
        alias="modelfleet:protect_stateful",
        description="protect and retain stateful resources (keys, logs, buckets) on delete",
    )
    network: NetworkSettings = Field(alias="modelfleet:network", description="the VPC")
    alerts: AlertSettings = Field(
        default_factory=AlertSettings, alias="modelfleet:alerts", description="who alarms notify"
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings,
        alias="modelfleet:retention",
        description="how long logs and captures are kept",
    )
    models: list[ModelSettings] = Field(
        default_factory=list, alias="modelfleet:models", description="the model catalog"
    )
    cluster: ClusterSettings | None = Field(None, alias="modelfleet:cluster", description="the EKS cluster")
    image_mirrors: list[ImageMirrorSettings] = Field(
        default_factory=list,
        alias="modelfleet:image_mirrors",
        description="public registries mirrored into the account's ECR (pull-through cache rules)",
    )
    gpu_pools: list[GpuPoolSettings] = Field(
        default_factory=list, alias="modelfleet:gpu_pools", description="GPU node pools of the cluster"
    )
    teams: dict[TeamName, TeamSettings] = Field(
        default_factory=dict,
        alias="modelfleet:teams",
        description="teams' IAM roles: each gets a model package group it may publish to and approve",
    )
    drift: StackDriftSettings = Field(
        default_factory=StackDriftSettings,
        alias="modelfleet:drift",
        description="which engine runs the models' drift jobs",
    )
    shared_endpoints: list[SharedEndpointSettings] = Field(
        default_factory=list,
        alias="modelfleet:shared_endpoints",
        description="SageMaker endpoints whose instances several models share as inference components",
    )

    @property
    def sagemaker_models(self) -> list[SageMakerModel]:
        return [m for m in self.models if isinstance(m, SageMakerModel)]

    @property
    def eks_models(self) -> list[EksModel]:
        return [m for m in self.models if isinstance(m, EksModel)]

    @property
    def drift_models(self) -> list[ModelBase]:
        """The models the stack schedules drift runs for (each captures data and names its features)."""
        return [m for m in self.models if m.drift_on]

    @property
    def capturing_models(self) -> list[ModelBase]:
        """The models that write captures to the stack's bucket: SageMaker's own endpoints, EKS containers."""
        return [m for m in self.models if m.captures]

    def placed_on(self, shared: str) -> list[SageMakerModel]:
        """The models running as inference components of shared endpoint ``shared``."""
        return [m for m in self.sagemaker_models if m.endpoint == shared]

    @model_validator(mode="after")
    def _placements(self) -> PlatformSettings:
        """Each placed model names a shared endpoint, whose minimum instances hold every minimum copy."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        shared = {e.name: e for e in self.shared_endpoints}
        if len(shared) != len(self.shared_endpoints):
            found.append((("modelfleet:shared_endpoints",), "shared endpoint names must be unique"))
        for index, model in enumerate(self.models):
            if isinstance(model, SageMakerModel) and model.endpoint and model.endpoint not in shared:
                known = ", ".join(shared) or "none"
                reason = f"no shared endpoint named '{model.endpoint}' (modelfleet:shared_endpoints: {known})"
                found.append((("modelfleet:models", index, "endpoint"), reason))
        for index, endpoint in enumerate(self.shared_endpoints):
            placed = self.placed_on(endpoint.name)
            where = ("modelfleet:shared_endpoints", index)
            if not placed:
                found.append(((*where, "name"), "no model is placed on it (a model's endpoint: key)"))
            minimum = [(r, m.component.min_copies) for m in placed if (r := m.reservation()) and m.component]
            if why := component_fit.minimum_fit_problem(minimum, endpoint.shape, endpoint.min_instances):
                found.append(((*where, "min_instances"), why))
        if found:
            raise ValidationError.from_exception_data(
                "PlatformSettings",
                [InitErrorDetails(type=PydanticCustomError("ref", m), loc=at, input=None) for at, m in found],
            )
        return self

    @model_validator(mode="after")
    def _cluster_references(self, info: ValidationInfo) -> PlatformSettings:
        """Pools and EKS models need a cluster; each EKS model needs a pool that fits it."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        if self.cluster is None and (self.eks_models or self.gpu_pools):
            found.append((("modelfleet:cluster",), "is required when there are GPU pools or eks models"))
        if self.cluster:
            prod, today = self.tier is Tier.PROD, validation_day(info)
            for at, message in deployer_problems(self.cluster, prod) + support_problems(
                self.cluster, prod, today
            ):
                found.append((("modelfleet:cluster", *at), message))
            nat = self.network.nat_strategy is not NatStrategy.NONE
            found += capacity_problems(self.cluster, self.gpu_pools, nat)
        pools = {p.name: p for p in self.gpu_pools}
        if len(pools) != len(self.gpu_pools):
            found.append((("modelfleet:gpu_pools",), "pool names must be unique"))
        prefixes = [m.prefix for m in self.image_mirrors]
        if len(set(prefixes)) != len(prefixes):
            found.append((("modelfleet:image_mirrors",), "prefixes must be unique: one per registry"))
        for index, model in enumerate(self.models):
            if not isinstance(model, EksModel):
                continue
            pool = pools.get(model.eks.pool)
            where = ("modelfleet:models", index, "eks")
            if self.cluster and not (model.eks.certificate_arn or self.cluster.load_balancer_certificate_arn):
                reason = (
                    "load balancers serve HTTPS, internal ones too: set this or "
                    "modelfleet:cluster.load_balancer_certificate_arn to an ACM certificate for the name "
                    "clients use (the stack creates no private CA)"
                )
                found.append(((*where, "certificate_arn"), reason))
            if pool is None:
                known = ", ".join(pools) or "none"
                found.append(((*where, "pool"), f"no GPU pool named '{model.eks.pool}' (pools: {known})"))
            else:
                found += [((*where, key), reason) for key, reason in _fit_problems(model, pool)]
                if pool.smallest_node is not None:  # the runtime's memory, on the pool's least GPU
                    found += [
                        (("modelfleet:models", index, *key), reason)
                        for key, reason in model.gpu_fit_problem(pool.smallest_node, ("eks",))
                    ]
        if found:
            raise ValidationError.from_exception_data(
                "PlatformSettings",
                [InitErrorDetails(type=PydanticCustomError("ref", m), loc=at, input=None) for at, m in found],
            )
        return self


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; scalars stay strings."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _merge(defaults: Any, override: Any) -> Any:
    if isinstance(defaults, dict) and isinstance(override, dict):
        return {k: _merge(defaults[k], v) if k in defaults else v for k, v in override.items()} | {
            k: v for k, v in defaults.items() if k not in override
        }
    return override


def with_tier_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """The stack's own keys on top of its tier's defaults (unknown tiers add none)."""
    tier = config.get("modelfleet:tier")
    known = isinstance(tier, str) and tier in TIER_DEFAULTS
    merged = _merge(json.loads(json.dumps(TIER_DEFAULTS[tier])) if known else {}, dict(config))
    for key, defaults in (
        ("modelfleet:models", TIER_MODEL_DEFAULTS),
        ("modelfleet:gpu_pools", TIER_POOL_DEFAULTS),
    ):
        entries = merged.get(key)
        if known and isinstance(entries, list):
            merged[key] = [
                _merge(_entry_defaults(defaults[tier], entry, key), entry)
                if isinstance(entry, dict)
                else entry
                for entry in entries
            ]
    return merged


MODELS_KEY = "modelfleet:models"
# Blocks of a model entry a tier fills in only when the entry writes them: a tier says how
# often drift runs, never that a model's drift is compared (that needs captures and features).
OPT_IN_MODEL_BLOCKS = ("drift",)


def _entry_defaults(defaults: dict[str, Any], entry: dict[str, Any], key: str) -> dict[str, Any]:
    """A tier's defaults for one entry of ``key``, minus those that cannot apply to it."""
    chosen = json.loads(json.dumps(defaults))
    kind = MODEL_CLASSES.get(str(entry.get("backend"))) if key == "modelfleet:models" else None
    if kind is not None:  # only the keys the entry's backend has
        chosen = {k: v for k, v in chosen.items() if k in kind.model_fields}
    if kind is EksModel and entry.get("runtime", Runtime.MODELFLEET.value) != Runtime.MODELFLEET.value:
        chosen.pop("data_capture", None)  # on EKS only our own container captures
    if entry.get("serverless") is not None:
        chosen.pop("data_capture", None)  # serverless endpoints cannot capture data
    if entry.get("endpoint") is not None:  # a component: the shared endpoint captures and deploys
        chosen.pop("data_capture", None)
        chosen.pop("deployment", None)
    if key == MODELS_KEY:
        for block in OPT_IN_MODEL_BLOCKS:
            if not isinstance(entry.get(block), dict):
                chosen.pop(block, None)
    return chosen


def settings_warnings(settings: PlatformSettings, today: date | None = None) -> list[str]:
    """What is valid today but needs attention soon; never a reason to refuse."""
    if settings.cluster is None:
        return []
    return support_warnings(settings.cluster, today or eks_versions.today())


def _shared_instance_types(data: Mapping[str, Any]) -> dict[str, str]:
    """Shared endpoint name -> instance type, from the raw config: placed models are sized against it."""
    entries = data.get("modelfleet:shared_endpoints")
    if not isinstance(entries, list):
        return {}
    return {
        e["name"]: e["instance_type"]
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("instance_type"), str)
    }


def load_settings(stack: str, config: Mapping[str, Any], *, today: date | None = None) -> PlatformSettings:
    """Validate a stack's config map; raise ``SettingsError`` listing every problem.

    ``today`` is the day support windows (EKS versions) are judged on; tests pin it.

    Only ``aws:region`` and the ``modelfleet:`` namespace are read; other
    namespaces (``aws:profile``, ``kubernetes:...``) belong to providers.
    """
    ours = {
        key: _decode(value)
        for key, value in config.items()
        if key.startswith("modelfleet:") or key == "aws:region"
    }
    data = {"environment": stack, **with_tier_defaults(ours)}
    found = [
        Problem(key_path(("modelfleet:models", *loc)), message)
        for loc, message in catalog_problems(data.get("modelfleet:models"), data.get("modelfleet:tier"))
    ]
    region = data.get("aws:region")
    context = {"region": region, "today": today, "shared_instance_types": _shared_instance_types(data)}
    try:
        settings = PlatformSettings.model_validate(data, context=context)
    except ValidationError as exc:
        found += problems_from(exc, PlatformSettings)
    if found:
        raise SettingsError(stack, sorted(set(found)))
    return settings
