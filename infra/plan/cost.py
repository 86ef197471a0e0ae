"""Monthly cost of a Plan, per resource, component and model, from a dated price table.

Autoscaled capacity is priced at its minimum and its maximum: a managed node group
from min_size to max_size nodes, a Karpenter NodePool from none (it keeps no idle
nodes) to as many of its dearest instance type as its limits allow. A resource whose
price the table lacks is *unknown*, never zero: the total then says how many
resources it leaves out. A region with no table at all prices nothing: every
resource that costs anything is unknown and the totals are unknown too, so an
estimate never reads $0 for lack of data. Usage-priced items (NAT data, log
ingestion, LCUs) use the table's stated assumptions, which are printed with the
estimate.

A shared endpoint's instances are priced once, from managed instance scaling's
minInstanceCount to maxInstanceCount. Each inference component's line carries
its share (``copy_share`` of an instance per copy, from its minimum to its
maximum copies), so each model pays for what it reserves; the endpoint
configuration's line carries the rest (never below zero), so the lines add up
to the instances.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from infra.contracts import eks_versions, instances
from infra.plan.model import Plan, PlannedResource
from infra.plan.owners import component_groups, model_owners
from infra.plan.policy import stack_resources
from infra.specs.component_fit import Reservation, copy_share
from policies.rules.variants import provisioned_variants

PRICES_DIR = Path(__file__).parent / "prices"

# Types that cost nothing by themselves (billed through another resource, or free).
FREE = {
    # A listener rule bills nothing of its own: rule evaluations count in the load balancer's
    # LCUs (the first 10 rules per request are free), which alb:lcu-hour prices.
    "aws:lb/listenerRule:ListenerRule",
    # The model registry charges nothing for groups and their policies (SageMaker's price page:
    # artifacts are billed where they are stored, in S3).
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/flowLog:FlowLog", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policy:Policy", "aws:kms/alias:Alias",
    "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination",
    "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription",
    "aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy",
    "aws:appautoscaling/scheduledAction:ScheduledAction", "aws:eks/addon:Addon",
    "aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation", "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listener:Listener", "aws:sagemaker/model:Model", "aws-native:sagemaker:Endpoint",
    # The rule is free; the images it caches are ECR storage, billed by use like pulls.
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
    # Karpenter's interruption queue: EventBridge delivers AWS service events free, and the
    # queue bills per request (the controller's 20 s long polls, ~130k a month), like SNS above.
    "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy",
    "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget",
    # The drift job's code: a zip of a few kilobytes in the capture bucket, billed with its storage.
    "aws:s3/bucketObjectv2:BucketObjectv2",
}  # fmt: skip
NATIVE_CONFIG = "aws-native:sagemaker:EndpointConfig"
NATIVE_ENDPOINT = "aws-native:sagemaker:Endpoint"
COMPONENT = "aws-native:sagemaker:InferenceComponent"
COPY_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"


@dataclass(frozen=True)
class PriceTable:
    region: str
    retrieved: str
    source: str
    hours_per_month: float
    prices: dict[str, float]
    assumptions: dict[str, float]

    @classmethod
    def load(cls, path: Path) -> PriceTable:
        data = json.loads(path.read_text())
        prices = {key: entry["usd"] for key, entry in data["prices"].items() if entry.get("usd") is not None}
        return cls(
            data["region"],
            data["retrieved"],
            data["source"],
            data["hours_per_month"],
            prices,
            data["assumptions"],
        )

    @classmethod
    def for_region(cls, region: str) -> PriceTable | None:
        path = PRICES_DIR / f"{region}.json"
        return cls.load(path) if path.exists() else None

    def monthly(self, key: str, quantity: float = 1.0, *, hourly: bool = True) -> float | None:
        price = self.prices.get(key)
        if price is None:
            return None
        return price * quantity * (self.hours_per_month if hourly else 1.0)


@dataclass(frozen=True)
class CostLine:
    urn: str
    type: str
    name: str
    component: str
    model: str
    monthly_min: float | None  # None: unknown
    monthly_max: float | None
    basis: str

    @property
    def known(self) -> bool:
        return self.monthly_min is not None and self.monthly_max is not None


@dataclass(frozen=True)
class Unpriced:
    """Resources of one type in one region that an estimate leaves out, and why."""

    type: str
    region: str
    count: int
    reasons: tuple[str, ...]  # e.g. "no price for sagemaker:ml.c5.xlarge"


def instance_price_key(instance_type: str) -> str:
    """The price table key of an instance type: SageMaker's for ``ml.`` types, EC2's for the rest."""
    return f"sagemaker:{instance_type}" if instance_type.startswith("ml.") else f"ec2:{instance_type}"


MISSING_PRICE = "no price for "  # how a basis names a price the table lacks
_MISSING_PRICE = re.compile(re.escape(MISSING_PRICE) + r"[\w:.\-]+")


def unpriced_groups(lines: list[tuple[CostLine, str]]) -> tuple[Unpriced, ...]:
    """(line, region) pairs of unknown price, grouped by type and region, biggest group first."""
    counts: Counter[tuple[str, str]] = Counter()
    reasons: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    for line, region in lines:
        counts[(line.type, region)] += 1
        reasons[(line.type, region)].update(dict.fromkeys(_MISSING_PRICE.findall(line.basis) or [line.basis]))
    found = (Unpriced(t, r, n, tuple(reasons[(t, r)])) for (t, r), n in counts.items())
    return tuple(sorted(found, key=lambda u: (-u.count, u.type, u.region)))


@dataclass(frozen=True)
class CostReport:
    region: str
    prices_retrieved: str | None
    lines: list[CostLine] = field(default_factory=list)
    priced: bool = True  # False: the region has no price table, so no total can be given

    @property
    def unknown(self) -> list[CostLine]:
        return [line for line in self.lines if not line.known]

    @property
    def unpriced(self) -> tuple[Unpriced, ...]:
        """What the totals leave out, per resource type and region."""
        return unpriced_groups([(line, self.region) for line in self.unknown])

    @property
    def total(self) -> tuple[float, float]:
        """The sum over resources of known price; ``unknown`` says what it leaves out."""
        known = [line for line in self.lines if line.known]
        return sum(line.monthly_min for line in known), sum(line.monthly_max for line in known)

    @property
    def totals(self) -> tuple[float | None, float | None]:
        """``total``, or unknown when the region has no price table (a sum of free items is not $0)."""
        return self.total if self.priced else (None, None)

    def by(self, key: str) -> dict[str, tuple[float, float, int]]:
        """Totals per component or model: (min, max, resources of unknown price)."""
        groups: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        for line in self.lines:
            group = groups[getattr(line, key)]
            if line.known:
                group[0] += line.monthly_min
                group[1] += line.monthly_max
            else:
                group[2] += 1
        return {name: (low, high, int(unknown)) for name, (low, high, unknown) in sorted(groups.items())}

    def to_dict(self) -> dict[str, Any]:
        low, high = self.totals
        return {
            "region": self.region,
            "prices_retrieved": self.prices_retrieved,
            "priced": self.priced,
            "monthly_min": None if low is None else round(low, 2),
            "monthly_max": None if high is None else round(high, 2),
            "unknown": len(self.unknown),
            "complete": not self.unknown,
            "unpriced": [u.__dict__ for u in self.unpriced],
            "lines": [line.__dict__ for line in self.lines],
        }


def _sum(*parts: float | None) -> float | None:
    return None if any(p is None for p in parts) else sum(parts)  # type: ignore[arg-type]


Priced = tuple[float | None, float | None, str]


def _fixed(
    table: PriceTable, key: str, quantity: float = 1, *, hourly: bool = True, what: str = ""
) -> Priced:
    cost = table.monthly(key, quantity, hourly=hourly)
    if cost is None:
        return None, None, f"{MISSING_PRICE}{key}"
    return cost, cost, what or key


def _parts(table: PriceTable, parts: list[tuple[str, float, bool]], what: str) -> Priced:
    """A sum of (price key, quantity, hourly) parts; unknown, naming every missing key, if any is."""
    missing = [key for key, _, _ in parts if key not in table.prices]
    if missing:
        return None, None, "; ".join(MISSING_PRICE + key for key in missing)
    cost = sum(table.monthly(key, quantity, hourly=hourly) or 0.0 for key, quantity, hourly in parts)
    return cost, cost, what


def _endpoint_config(resource: PlannedResource, table: PriceTable, variants) -> Priced:
    low: float | None = 0.0
    high: float | None = 0.0
    basis = []
    for variant in variants.get(resource.urn, []):
        floor = (
            int(variant.target.props.get("minCapacity", variant.initial_count)) if variant.target else None
        )
        floor = variant.initial_count if floor is None else floor
        key = instance_price_key(variant.instance_type)
        per_instance = table.monthly(key)
        basis.append(f"{variant.name}: {floor}-{variant.max_count} x {variant.instance_type}")
        if per_instance is None:
            basis[-1] += f" ({MISSING_PRICE}{key})"
        low = _sum(low, None if per_instance is None else per_instance * floor)
        high = _sum(high, None if per_instance is None else per_instance * variant.max_count)
    serverless = [v for v in resource.inputs.get("productionVariants") or [] if v.get("serverlessConfig")]
    if serverless:
        basis.append("serverless: billed per request, not estimated")
        high = None
    return low, high, "; ".join(basis)


@dataclass(frozen=True)
class SharedInstances:
    """A shared endpoint's fleet: one variant with no model, under managed instance scaling."""

    instance_type: str
    low: int  # minInstanceCount (0: scales to zero)
    high: int  # maxInstanceCount


def shared_instances(resource: PlannedResource) -> SharedInstances | None:
    """The fleet of an aws-native configuration that hosts inference components, else None."""
    for variant in resource.inputs.get("productionVariants") or []:
        if not variant.get("instanceType") or variant.get("modelName"):
            continue
        initial = int(variant.get("initialInstanceCount") or 1)
        managed = variant.get("managedInstanceScaling") or {}
        if managed.get("status") == "ENABLED":
            low = int(managed.get("minInstanceCount", initial))
            return SharedInstances(
                variant["instanceType"], low, int(managed.get("maxInstanceCount", initial))
            )
        return SharedInstances(variant["instanceType"], initial, initial)
    return None


@dataclass(frozen=True)
class ComponentCopies:
    """One inference component: its reservation per copy, its copies, and the fleet it runs on."""

    config_urn: str | None  # the shared endpoint's configuration, when the plan holds it
    reservation: Reservation
    low: int  # the copy target's minCapacity
    high: int  # its maxCapacity


def component_copies(plan: Plan) -> dict[str, ComponentCopies]:
    """Inference component URN -> its copies, linked to its endpoint's configuration by name."""
    configs = {r.inputs.get("endpointConfigName"): r.urn for r in plan.of_type(NATIVE_CONFIG)}
    endpoints = {
        r.inputs.get("endpointName"): configs.get(r.inputs.get("endpointConfigName"))
        for r in plan.of_type(NATIVE_ENDPOINT)
    }
    targets = {
        str(t.inputs.get("resourceId")).removeprefix("inference-component/"): t
        for t in plan.of_type("aws:appautoscaling/target:Target")
        if t.inputs.get("scalableDimension") == COPY_DIMENSION
    }
    found = {}
    for component in plan.of_type(COMPONENT):
        name = component.inputs.get("inferenceComponentName") or component.name
        needs = (component.inputs.get("specification") or {}).get("computeResourceRequirements") or {}
        reservation = Reservation(
            name,
            int(needs.get("numberOfAcceleratorDevicesRequired") or 0),
            float(needs.get("numberOfCpuCoresRequired") or 0),
            int(needs.get("minMemoryRequiredInMb") or 0),
        )
        copies = int((component.inputs.get("runtimeConfig") or {}).get("copyCount") or 1)
        target = targets.get(name)
        low = int(target.inputs.get("minCapacity", copies)) if target else copies
        high = int(target.inputs.get("maxCapacity", copies)) if target else copies
        found[component.urn] = ComponentCopies(
            endpoints.get(component.inputs.get("endpointName")), reservation, low, high
        )
    return found


def _shares(copies: ComponentCopies, fleet: SharedInstances) -> tuple[float, float, float] | None:
    """(share of an instance per copy, instances at min copies, at max copies); None for an unknown type."""
    shape = instances.lookup(fleet.instance_type)
    if shape is None:
        return None
    share = copy_share(copies.reservation, shape)
    return share, share * copies.low, share * copies.high


def _component(copies: ComponentCopies, fleets: dict[str, SharedInstances], table: PriceTable) -> Priced:
    fleet = fleets.get(copies.config_urn or "")
    if fleet is None:
        return None, None, "its shared endpoint's configuration is not in the plan"
    key = instance_price_key(fleet.instance_type)
    shares = _shares(copies, fleet)
    if shares is None:
        return None, None, f"{fleet.instance_type}: no instance facts to share it by"
    share, low, high = shares
    basis = f"{copies.low}-{copies.high} copies x {share:.1%} of a {fleet.instance_type}"
    if copies.low == 0:
        basis += " (scales to zero: costs nothing while idle)"
    per_instance = table.monthly(key)
    if per_instance is None:
        return None, None, f"{basis} ({MISSING_PRICE}{key})"
    return per_instance * low, per_instance * high, basis


def _shared_config(
    resource: PlannedResource, fleet: SharedInstances, components: list[ComponentCopies], table: PriceTable
) -> Priced:
    """The instances less the components' shares: what no component reserves (never below zero)."""
    key = instance_price_key(fleet.instance_type)
    basis = f"{fleet.low}-{fleet.high} x {fleet.instance_type} (managed instance scaling)"
    per_instance = table.monthly(key)
    if per_instance is None:
        return None, None, f"{basis} ({MISSING_PRICE}{key})"
    shares = [_shares(c, fleet) for c in components]
    taken_low = sum(s[1] for s in shares if s)
    taken_high = sum(s[2] for s in shares if s)
    if components:
        basis += f", less the {len(components)} component(s)' shares: the unreserved capacity"
    return (
        per_instance * max(0.0, fleet.low - taken_low),
        per_instance * max(0.0, fleet.high - taken_high),
        basis,
    )


def _node_group(resource: PlannedResource, table: PriceTable, templates) -> Priced:
    scaling = resource.inputs.get("scalingConfig") or {}
    instance_type = (resource.inputs.get("instanceTypes") or ["?"])[0]
    per_node = table.monthly(instance_price_key(instance_type))
    template = templates.get((resource.inputs.get("launchTemplate") or {}).get("id"))
    disk_gib = sum(
        int((m.get("ebs") or {}).get("volumeSize") or 0)
        for m in (template.inputs.get("blockDeviceMappings") or [] if template else [])
    )
    disk = table.monthly("ebs:gp3-gb-month", disk_gib, hourly=False) if disk_gib else 0.0
    per_node = _sum(per_node, disk)
    low, high = int(scaling.get("minSize") or 0), int(scaling.get("maxSize") or 0)
    basis = f"{low}-{high} x {instance_type}" + (f" + {disk_gib} GiB gp3" if disk_gib else "")
    if resource.inputs.get("capacityType") == "SPOT":
        basis += " (spot: on-demand price shown as the ceiling)"
    if per_node is None:
        return None, None, basis + f" ({MISSING_PRICE}{instance_price_key(instance_type)})"
    return per_node * low, per_node * high, basis


def _gib(quantity: object) -> int:
    """A Kubernetes quantity of disk (``100Gi``) in GiB; 0 when it is not one."""
    text = str(quantity or "")
    return int(text.removesuffix("Gi")) if text.endswith("Gi") and text[:-2].isdigit() else 0


def _requirement(template: dict[str, Any], key: str) -> list[str]:
    """The values a NodePool's template requires of ``key`` with ``In``."""
    return [
        value
        for requirement in template.get("requirements") or []
        if requirement.get("key") == key and requirement.get("operator") == "In"
        for value in requirement.get("values") or []
    ]


def _node_pool(resource: PlannedResource, table: PriceTable, node_classes) -> Priced:
    """A Karpenter NodePool: no idle nodes at least; at most what its limits allow, of its dearest type.

    Its limits bound the sum over its nodes, so the most nodes are the GPU limit over the
    fewest GPUs a type has (and likewise for vCPUs); each is priced as the dearest type
    the pool may launch, plus its node class's volumes: a ceiling, as a node group's is.
    """
    spec = resource.inputs.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    types = _requirement(template, INSTANCE_TYPE_LABEL)
    shapes = [instances.lookup(f"ml.{t}") for t in types]
    if not types or None in shapes:
        return None, None, f"instance types {types or 'not listed'}: no instance facts to bound the pool by"
    limits = spec.get("limits") or {}
    fewest = {"nvidia.com/gpu": min(s.gpus for s in shapes), "cpu": min(s.vcpus for s in shapes)}
    bounds = [int(limits[k]) // n for k, n in fewest.items() if str(limits.get(k)).isdigit() and n]
    if not bounds:
        return None, None, "no nvidia.com/gpu or cpu limit: the pool is unbounded"
    nodes, dearest = min(bounds), max(types, key=lambda t: table.prices.get(f"ec2:{t}", 0.0))
    node_class = node_classes.get((template.get("nodeClassRef") or {}).get("name"))
    mappings = (node_class.inputs.get("spec") or {}).get("blockDeviceMappings") or [] if node_class else []
    disk_gib = sum(_gib((m.get("ebs") or {}).get("volumeSize")) for m in mappings)
    limited = ", ".join(f"{key} {value}" for key, value in sorted(limits.items()))
    basis = f"0-{nodes} x {dearest}" + (f" + {disk_gib} GiB gp3" if disk_gib else "")
    basis += f" (limits {limited}; the dearest of {', '.join(types)}; no idle nodes)"
    if "spot" in _requirement(template, "karpenter.sh/capacity-type"):
        basis += " (spot: on-demand price shown as the ceiling)"
    per_node = _sum(
        table.monthly(f"ec2:{dearest}"),
        table.monthly("ebs:gp3-gb-month", disk_gib, hourly=False) if disk_gib else 0.0,
    )
    missing = [key for key in (f"ec2:{t}" for t in types) if key not in table.prices]
    missing += ["ebs:gp3-gb-month"] if disk_gib and "ebs:gp3-gb-month" not in table.prices else []
    if missing or per_node is None:
        return None, None, basis + " (" + "; ".join(MISSING_PRICE + key for key in missing) + ")"
    return 0.0, per_node * nodes, basis


def _alarm(resource: PlannedResource, table: PriceTable) -> Priced:
    queries = [q for q in resource.inputs.get("metricQueries") or [] if q.get("metric")]
    metrics = max(1, len(queries))
    high_res = int(resource.inputs.get("period") or 60) < 60
    key = "cloudwatch:high-res-alarm-month" if high_res else "cloudwatch:alarm-month"
    return _fixed(table, key, metrics, hourly=False, what=f"{metrics} metric(s)")


def _log_group(resource: PlannedResource, table: PriceTable) -> Priced:
    gib = table.assumptions["log_ingest_gb_per_month"]
    months = table.assumptions["log_storage_months"]
    parts = [("logs:ingest-gb", gib, False), ("logs:storage-gb-month", gib * months, False)]
    return _parts(table, parts, f"assumes {gib} GB/month ingested")


def _eks_control_plane(resource: PlannedResource, table: PriceTable, today: date | None = None) -> Priced:
    """A version past standard support is billed at the extended-support rate from that day on."""
    version = eks_versions.VERSIONS.get(str(resource.inputs.get("version")))
    today = today or eks_versions.today()
    if version and version.support(today) is eks_versions.Support.EXTENDED:
        what = f"control plane, Kubernetes {version.minor} in extended support"
        return _fixed(table, "eks:cluster-hour-extended-support", what=what)
    return _fixed(table, "eks:cluster-hour", what="control plane")


def _per_type(resource: PlannedResource, table: PriceTable) -> Priced | None:
    a, inputs = table.assumptions, resource.inputs
    match resource.type:
        case "aws:eks/cluster:Cluster":
            return _eks_control_plane(resource, table)
        case "aws:ec2/natGateway:NatGateway":
            gib = a["nat_gateway_gb_per_month"]
            parts = [("nat-gateway:hour", 1, True), ("nat-gateway:gb", gib, False)]
            return _parts(table, parts, f"assumes {gib} GB/month processed")
        case "aws:ec2/eip:Eip":
            return _fixed(table, "public-ipv4:hour", what="public IPv4 address")
        case "aws:lb/loadBalancer:LoadBalancer":
            parts = [("alb:hour", 1, True), ("alb:lcu-hour", a["alb_lcus"], True)]
            return _parts(table, parts, f"assumes {a['alb_lcus']} LCU")
        case "aws:ec2/vpcEndpoint:VpcEndpoint":
            if inputs.get("vpcEndpointType") != "Interface":
                return 0.0, 0.0, "gateway endpoint: free"
            zones = len(inputs.get("subnetIds") or [])
            gib = a["vpc_endpoint_gb_per_month"]
            parts = [("vpc-endpoint:az-hour", zones, True), ("vpc-endpoint:gb", gib, False)]
            return _parts(table, parts, f"{zones} AZ(s), assumes {gib} GB/month")
        case "aws:kms/key:Key":
            return _fixed(table, "kms:key-month", hourly=False, what="key")
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return _alarm(resource, table)
        case "aws:scheduler/schedule:Schedule":
            # The invocations are within Scheduler's free tier; what each one starts is not.
            return (
                None,
                None,
                "starts SageMaker processing jobs, billed per run: no processing price in the table",
            )
        case "aws:cloudwatch/dashboard:Dashboard":
            return _fixed(table, "cloudwatch:dashboard-month", hourly=False, what="dashboard")
        case "aws:cloudwatch/logGroup:LogGroup":
            return _log_group(resource, table)
        case "aws:s3/bucket:Bucket" | "aws:s3/bucketV2:BucketV2":
            gib = a["s3_gb_per_month"]
            return _fixed(table, "s3:standard-gb-month", gib, hourly=False, what=f"assumes {gib} GB stored")
    return None


def unpriced_region(region: str) -> str:
    """What a cost reads in a region without a price table, and how to get one."""
    return (
        f"unknown for region {region}: no price table (infra/plan/prices/{region}.json; "
        f"`modelfleet prices refresh --region {region}` writes one)"
    )


def estimate(plan: Plan, table: PriceTable | None) -> CostReport:
    """Price every resource of ``plan``; without a table only what is free is known."""
    owners, groups = model_owners(plan.resources), component_groups(plan.resources)
    variants = defaultdict(list)
    for variant in provisioned_variants(stack_resources(plan)):
        variants[variant.config.urn].append(variant)
    templates = {r.id: r for r in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    node_classes = {(r.inputs.get("metadata") or {}).get("name"): r for r in plan.of_type(NODE_CLASS)}
    fleets = {r.urn: fleet for r in plan.of_type(NATIVE_CONFIG) if (fleet := shared_instances(r))}
    components = component_copies(plan)
    placed: dict[str, list[ComponentCopies]] = defaultdict(list)
    for copies in components.values():
        placed[copies.config_urn or ""].append(copies)
    lines = []
    for resource in plan.custom_resources:
        if resource.type.startswith("pulumi:providers:"):
            continue
        if resource.type == NODE_POOL:  # the instances Karpenter launches for it
            priced: Priced = (
                _node_pool(resource, table, node_classes)
                if table
                else (None, None, unpriced_region(plan.region))
            )
        elif resource.type.startswith("kubernetes:") or resource.type in FREE:
            priced = (0.0, 0.0, "no charge of its own")
        elif table is None:
            priced = (None, None, unpriced_region(plan.region))
        elif resource.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
            priced = _endpoint_config(resource, table, variants)
        elif resource.urn in fleets:
            priced = _shared_config(resource, fleets[resource.urn], placed[resource.urn], table)
        elif resource.urn in components:
            priced = _component(components[resource.urn], fleets, table)
        elif resource.type == "aws:eks/nodeGroup:NodeGroup":
            priced = _node_group(resource, table, templates)
        else:
            priced = _per_type(resource, table) or (None, None, "no pricing rule for this type")
        lines.append(
            CostLine(
                resource.urn,
                resource.type,
                resource.name,
                groups[resource.urn],
                owners[resource.urn],
                *priced,
            )
        )
    retrieved = (table.retrieved or None) if table else None
    return CostReport(plan.region, retrieved, lines, priced=table is not None)
