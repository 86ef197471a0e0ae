"""The EKS driver: a model behind its own Application Load Balancer, through boto3.

The stack gives every EKS model one ALB, one target group per variant and an
HTTPS listener whose default action forwards to the target groups by weight
(``infra.components.eks.model_load_balancer``). So here:

- the split is that forward action's weights, moved with ``ModifyListener``. ELB
  weights are relative integers 0-999; a step writes ``100 - p`` and ``p``, and a
  canary at 0 % leaves the forward action altogether, so that a ``pulumi up``
  removing it can delete its target group. The stack ignores changes to those
  target groups once the listener exists, so ``pulumi up`` never puts the stack
  file's split back (docs/operations.md, "EKS models");
- the names are the stack's: the load balancer is the one tagged
  ``Name=<load_balancer_name>-lb``, the target groups ``Name=<load_balancer_name>-<variant>``
  in its VPC (``infra.specs.model_record`` gives ``load_balancer_name``);
- the rollout's record lives in the listener's tags (``infra.ops.progress``), keyed
  by the target groups and the variants' versions in the stack file, so a new
  canary (or a replaced target group) starts from no record;
- the gates are the model's alarms and ``AWS/ApplicationELB`` per target group:
  ``RequestCount`` and ``HTTPCode_Target_5XX_Count`` sums, ``TargetResponseTime`` p99;
- a smoke test is one HTTPS request to the load balancer's DNS name, with the
  certificate's name for SNI and ``Host``, and ``serving.VARIANT_HEADER`` to pin a
  variant. An internal load balancer answers only inside the VPC: run it on the
  in-VPC deploy runner (docs/deploy-runner.md).

Clients are made for the target's region on first use, unless given (the tests
give moto's). Two seams keep the tests offline: ``p99`` reads the latency
percentiles (moto serves sums, not percentiles) and ``url_for`` maps the load
balancer's DNS name to a URL (a plain-HTTP stand-in on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from infra.contracts import serving
from infra.ops import progress, promote, registry_gate, signals
from infra.ops.clients import client
from infra.ops.clock import Clock
from infra.ops.drivers.base import (
    CANARY,
    STABLE,
    EndpointState,
    GateReadings,
    ModelTarget,
    NotSupportedYet,
    PromotePhase,
    SmokeResult,
)
from infra.ops.errors import OpsError
from infra.ops.gates import VariantMetrics
from infra.ops.progress import Progress
from infra.ops.runtime_request import catalog_target, smoke
from infra.settings.catalog import Backend, ModelBase
from infra.specs.alarm_specs import ALB_NAMESPACE

NAMESPACE = ALB_NAMESPACE  # AWS/ApplicationELB: the model's alarms read the same metrics
TAG_BATCH = 20  # DescribeTags takes at most 20 ARNs
MAX_WEIGHT = 999  # ELB's limit for a target group's weight in a forward action
SMOKE_TIMEOUT_SECONDS = 60
# Commands with no code for an EKS model, and what to do instead: a load test by --endpoint is
# SageMaker's (it divides its rate by the endpoint's instances); an EKS model's goes to its URL.
REFUSED = {
    "load test": "load-test it at its URL: modelfleet loadtest --url <url> --stack <stack> --model <model>",
}
# The load balancer's state code -> the status the rollout reads (EndpointState.status).
STATUS = {
    "active": "InService",
    "provisioning": "Creating",
    "active_impaired": "Impaired",
    "failed": "Failed",
}

Dimensions = list[dict[str, str]]
# (cloudwatch, dimensions per variant, start, end) -> p99 TargetResponseTime per variant, in ms
P99Reader = Callable[[Any, Mapping[str, Dimensions], float, float], Mapping[str, float | None]]


@dataclass(frozen=True)
class Balancer:
    """One model's load balancer as the stack deployed it: found by tags, never typed in."""

    arn: str
    dns_name: str
    vpc_id: str
    listener_arn: str
    target_groups: dict[str, str]  # variant -> target group ARN

    @property
    def dimension(self) -> str:
        """``app/<name>/<id>``: the ``LoadBalancer`` dimension of its metrics."""
        return self.arn.split(":loadbalancer/", 1)[1]


def target_group_dimension(arn: str) -> str:
    """``targetgroup/<name>/<id>``: the ``TargetGroup`` dimension of a target group's metrics."""
    return arn.rsplit(":", 1)[1]


def forward_weights(actions: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Target group ARN -> weight in a listener's forward default action (pure)."""
    forward = next((a for a in actions if a.get("Type") == "forward"), None)
    if forward is None:
        raise OpsError("the listener's default action is not a forward: was it changed outside the stack?")
    groups = forward.get("ForwardConfig", {}).get("TargetGroups")
    if groups:
        return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
    return {forward["TargetGroupArn"]: 1}


def alb_weights(canary_percent: float) -> dict[str, int]:
    """Integer weights for a canary share, ELB's 0-999, summing to 100; a canary at 0 is left out."""
    if not 0 <= canary_percent <= 100:
        raise ValueError(f"a canary share is 0-100 % (got {canary_percent})")
    canary = round(canary_percent)
    weights = {STABLE: 100 - canary, CANARY: canary}
    return {variant: weight for variant, weight in weights.items() if weight > 0 or variant == STABLE}


def check_alb_weights(weights: Mapping[str, int]) -> None:
    """ELB's rule: integers 0-999 and at least one above 0 (a forward to nothing is refused)."""
    valid = all(isinstance(w, int) and 0 <= w <= MAX_WEIGHT for w in weights.values())
    if not valid or not any(w > 0 for w in weights.values()):
        raise ValueError(f"invalid target group weights {dict(weights)}: integers 0-{MAX_WEIGHT}, not all 0")


def deployment_key(model: ModelBase, balancer: Balancer) -> str:
    """What a rollout's record belongs to: the target groups and the versions the stack file names.

    pulumi up leaves the listener's weights alone, so unlike on SageMaker nothing resets them; a new
    canary version or a replaced target group changes this key, and an older record is ignored.
    """
    versions = [getattr(model, "image", None)] + [
        (name, key, getattr(variant, key, None))
        for name, variant in sorted(model.variants.items())
        for key in promote.SOURCE_KEYS
    ]
    digest = hashlib.sha256(repr(versions).encode()).hexdigest()[:12]
    groups = ".".join(arn.rsplit("/", 1)[1] for _, arn in sorted(balancer.target_groups.items()))
    return f"{groups}:{digest}"


def cloudwatch_p99(
    cloudwatch: Any, scopes: Mapping[str, Dimensions], start: float, end: float
) -> dict[str, float | None]:
    """p99 ``TargetResponseTime`` per variant over one period spanning the window, in ms."""
    first, last, period = signals.window(start, end)
    ids = {variant: f"lat{index}" for index, variant in enumerate(scopes)}
    queries = [
        signals.query(ids[v], dims, "TargetResponseTime", "p99", period, NAMESPACE)
        for v, dims in scopes.items()
    ]
    values = signals.metric_values(cloudwatch, queries, first, last)
    # TargetResponseTime is in seconds; the worst period counts if the window spans several.
    return {v: max(values[ids[v]]) * 1000 if values.get(ids[v]) else None for v in scopes}


def sni_hook(name: str) -> Callable[[Any], Any]:
    """An httpx request hook sending ``name`` as the TLS server name, so the certificate is checked
    against the name it was issued for rather than the load balancer's generated DNS name."""

    async def hook(request: Any) -> None:
        request.extensions["sni_hostname"] = name

    return hook


@dataclass
class EksDriver:
    clients: dict[str, Any] = field(default_factory=dict)  # boto3 clients by service name
    p99: P99Reader = cloudwatch_p99  # moto cannot serve percentiles: the tests give their own
    url_for: Callable[[str], str] = "https://{}".format  # the load balancer's DNS name -> base URL
    found: dict[str, Balancer] = field(default_factory=dict)  # by load balancer name, once found

    backend: ClassVar[Backend] = Backend.EKS
    gate_source: ClassVar[str] = "CloudWatch"
    copies_packages: ClassVar[bool] = True  # pods load the artifact and image registry pin copied

    def _aws(self, service: str, target: ModelTarget) -> Any:
        if service not in self.clients:
            self.clients[service] = client(service, target.region)
        return self.clients[service]

    def resolve(
        self,
        stack: str,
        region: str,
        model: ModelBase,
        record: Mapping[str, Any],
        stack_file: Path,
        capability: str,
    ) -> ModelTarget:
        """The load balancer's name, the variants and the model's alarms, as the stack names them;
        a command this driver has no code for is refused under its own name."""
        if capability in REFUSED:
            raise NotSupportedYet(model.name, Backend.EKS, capability, REFUSED[capability])
        return ModelTarget(
            stack=stack,
            region=region,
            model=model,
            endpoint_name=record["load_balancer_name"],
            variants=tuple(record["variants"]),
            alarm_names=tuple(record["alarm_names"]),
            stack_file=stack_file,
        )

    # ------------------------------------------------------------------ finding the stack's resources

    def _balancer(self, target: ModelTarget) -> Balancer:
        if target.endpoint_name not in self.found:
            self.found[target.endpoint_name] = find_balancer(
                self._aws("elbv2", target), target.endpoint_name, target.variants
            )
        return self.found[target.endpoint_name]

    def _listener(self, target: ModelTarget) -> dict[str, Any]:
        elbv2 = self._aws("elbv2", target)
        return elbv2.describe_listeners(ListenerArns=[self._balancer(target).listener_arn])["Listeners"][0]

    # ------------------------------------------------------------------ the split

    def wait_in_service(
        self, target: ModelTarget, timeout_seconds: float, clock: Clock, poll_seconds: float
    ) -> EndpointState:
        """The load balancer ``active``; a target group without healthy targets is the alarms' to judge,
        so an abort still works when the canary's pods are broken."""
        deadline = clock.now() + timeout_seconds
        while True:
            state = self.read_weights(target)
            if state.status == "InService":
                return state
            if state.status != "Creating":
                raise OpsError(f"load balancer {state.name} is {state.status}")
            remaining = deadline - clock.now()
            if remaining <= 0:
                raise OpsError(
                    f"timed out: load balancer {state.name} is still {state.status} after "
                    f"{timeout_seconds:.0f} s (rollout.in_service_timeout_seconds)"
                )
            clock.sleep(min(poll_seconds, remaining))

    def read_weights(self, target: ModelTarget) -> EndpointState:
        """The listener's forward weights per variant (0 for a target group it does not forward to),
        the load balancer's state and each variant's healthy targets."""
        elbv2 = self._aws("elbv2", target)
        balancer = self._balancer(target)
        forward = forward_weights(self._listener(target)["DefaultActions"])
        strangers = set(forward) - set(balancer.target_groups.values())
        if strangers:
            raise OpsError(
                f"the listener of {target.endpoint_name} forwards to target groups that are not the "
                f"model's ({', '.join(sorted(strangers))}): fix the listener before a rollout moves it"
            )
        found = elbv2.describe_load_balancers(LoadBalancerArns=[balancer.arn])["LoadBalancers"][0]
        code = found.get("State", {}).get("Code", "")
        return EndpointState(
            name=target.endpoint_name,
            status=STATUS.get(code, code),
            weights={v: float(forward.get(arn, 0)) for v, arn in balancer.target_groups.items()},
            instances={v: healthy_targets(elbv2, arn) for v, arn in balancer.target_groups.items()},
            guardrail_in_progress=False,  # pulumi up does not touch the split here (ROLLOUT_OWNED)
            failure_reason=found.get("State", {}).get("Reason"),
            arn=balancer.listener_arn,
            config_name=deployment_key(target.model, balancer),
        )

    def set_weights(self, target: ModelTarget, canary_percent: float) -> dict[str, float]:
        """``ModifyListener``: the forward action's target groups and weights, the rest kept as it is."""
        weights = alb_weights(canary_percent)
        check_alb_weights(weights)
        balancer = self._balancer(target)
        actions = self._listener(target)["DefaultActions"]
        forward = next(a for a in actions if a.get("Type") == "forward")
        config = {k: v for k, v in forward.get("ForwardConfig", {}).items() if k != "TargetGroups"}
        config["TargetGroups"] = [
            {"TargetGroupArn": balancer.target_groups[v], "Weight": w} for v, w in weights.items()
        ]
        action = {"Type": "forward", "ForwardConfig": config}
        if "Order" in forward:
            action["Order"] = forward["Order"]
        self._aws("elbv2", target).modify_listener(ListenerArn=balancer.listener_arn, DefaultActions=[action])
        return {STABLE: float(weights[STABLE]), CANARY: float(weights.get(CANARY, 0))}

    # ------------------------------------------------------------------ the rollout's record

    def read_progress(self, target: ModelTarget, state: EndpointState) -> Progress | None:
        """The record in the listener's tags, if it is the deployed target groups' and versions'."""
        tags = resource_tags(self._aws("elbv2", target), state.arn)
        found = progress.from_tags(tags)
        return found if found is not None and found.endpoint_config == state.config_name else None

    def write_progress(self, target: ModelTarget, state: EndpointState, record: Progress) -> None:
        """The record into the listener's tags (``AddTags``, then ``RemoveTags`` for keys it lacks)."""
        elbv2 = self._aws("elbv2", target)
        tags = progress.to_tags(record)
        elbv2.add_tags(ResourceArns=[state.arn], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        if progress.FORCED_REASON not in tags:
            elbv2.remove_tags(ResourceArns=[state.arn], TagKeys=[progress.FORCED_REASON])

    # ------------------------------------------------------------------ gates

    def read_alarms(self, target: ModelTarget, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """``DescribeAlarms`` in batches: the names in ALARM and the names not found."""
        return signals.alarm_states(self._aws("cloudwatch", target), names)

    def read_gates(
        self, target: ModelTarget, names: Sequence[str], since: float, until: float
    ) -> GateReadings:
        """The alarms, then both target groups' request and target 5XX sums and p99 response time."""
        cloudwatch = self._aws("cloudwatch", target)
        firing, missing = signals.alarm_states(cloudwatch, names)
        balancer = self._balancer(target)
        scopes = {
            variant: [
                {"Name": "LoadBalancer", "Value": balancer.dimension},
                {"Name": "TargetGroup", "Value": target_group_dimension(balancer.target_groups[variant])},
            ]
            for variant in (STABLE, CANARY)
            if variant in balancer.target_groups
        }
        first, last, period = signals.window(since, until)
        queries = []
        for index, dimensions in enumerate(scopes.values()):
            queries += [
                signals.query(f"req{index}", dimensions, "RequestCount", "Sum", period, NAMESPACE),
                signals.query(
                    f"err{index}", dimensions, "HTTPCode_Target_5XX_Count", "Sum", period, NAMESPACE
                ),
            ]
        values = signals.metric_values(cloudwatch, queries, first, last)
        latencies = self.p99(cloudwatch, scopes, since, until)
        metrics = {
            variant: VariantMetrics(
                invocations=sum(values.get(f"req{index}", [])),
                errors_5xx=sum(values.get(f"err{index}", [])),
                p99_latency_ms=latencies.get(variant),
            )
            for index, variant in enumerate(scopes)
        }
        return GateReadings(firing, missing, metrics)

    # ------------------------------------------------------------------ smoke and promote

    def smoke(self, target: ModelTarget, variant: str | None) -> SmokeResult:
        """One HTTPS request to the load balancer with the catalog's sample; ``variant`` pins it with
        ``serving.VARIANT_HEADER``. Internal load balancers answer inside the VPC only (deploy runner)."""
        if variant is not None:
            target.require_variant(variant)
        balancer = self._balancer(target)
        base_url = self.url_for(balancer.dns_name)
        request = catalog_target(target.model, base_url, origin=f"load balancer {target.endpoint_name}")
        headers = {serving.VARIANT_HEADER: variant} if variant else {}
        options: dict[str, Any] = {"headers": headers}
        if base_url.startswith("https://"):
            name = self._server_name(target)
            options["headers"] = {**headers, "Host": name}
            options["event_hooks"] = {"request": [sni_hook(name)]}
        answer, _ = asyncio.run(smoke(request, SMOKE_TIMEOUT_SECONDS, client_options=options))
        return SmokeResult(
            variant, answer.status, answer.latency_seconds * 1000, variant, list(answer.problems)
        )

    def _server_name(self, target: ModelTarget) -> str:
        """The name the listener's certificate is for: a wildcard's ``*`` becomes the model's name;
        without a readable certificate, the load balancer's DNS name (TLS then says what is wrong)."""
        balancer = self._balancer(target)
        certificates = self._listener(target).get("Certificates") or [{}]
        arn = certificates[0].get("CertificateArn")
        try:
            found = self._aws("acm", target).describe_certificate(CertificateArn=arn) if arn else None
        except ClientError:
            found = None
        domain = (found or {}).get("Certificate", {}).get("DomainName")
        if not domain:
            return balancer.dns_name
        return domain.replace("*", target.model.name, 1) if domain.startswith("*.") else domain

    def registry_refusal(self, target: ModelTarget) -> str | None:
        """The model registry's word on the packages the stack file deploys (``DescribeModelPackage``)."""
        sagemaker = self._aws("sagemaker", target)
        return registry_gate.refusal(sagemaker, target.model) or registry_gate.copies_refusal(
            sagemaker, target.model
        )

    def promotion_problem(self, target: ModelTarget, phase: PromotePhase) -> str | None:
        """Shift: a finished rollout, as on SageMaker. Remove: the canary out of the listener, since
        pulumi up cannot delete a target group the listener still forwards to, and never moves it."""
        state = self.read_weights(target)
        if phase == "shift":
            return promote.endpoint_problem(
                phase, state.canary_percent(), False, self.read_progress(target, state)
            )
        balancer = self._balancer(target)
        forward = forward_weights(self._listener(target)["DefaultActions"])
        if balancer.target_groups.get(CANARY) in forward:
            return (
                f"the listener of {target.endpoint_name} still forwards to the canary "
                f"({state.canary_percent():.1f} % of traffic) and pulumi up leaves the split to the day-2 "
                "tools: once the first promote edit is deployed (stable runs the canary's version), move the "
                "traffic with modelfleet rollout abort, then promote again; or pass --force"
            )
        return None


def find_balancer(elbv2: Any, label: str, variants: Sequence[str]) -> Balancer:
    """The model's load balancer, its HTTPS listener and its variants' target groups, by their tags."""
    balancers = [lb for page in elbv2.get_paginator("describe_load_balancers").paginate()
                 for lb in page["LoadBalancers"]]  # fmt: skip
    names = _named(elbv2, [lb["LoadBalancerArn"] for lb in balancers])
    mine = [lb for lb in balancers if names.get(lb["LoadBalancerArn"]) == f"{label}-lb"]
    if len(mine) != 1:
        found = "none" if not mine else ", ".join(lb["LoadBalancerName"] for lb in mine)
        raise OpsError(
            f"expected one load balancer tagged Name={label}-lb, found {found}: is the stack deployed?"
        )
    balancer = mine[0]
    listeners = [
        listener
        for page in elbv2.get_paginator("describe_listeners").paginate(
            LoadBalancerArn=balancer["LoadBalancerArn"]
        )
        for listener in page["Listeners"]
        if listener["Port"] == 443 and listener["Protocol"] == "HTTPS"
    ]
    if not listeners:
        raise OpsError(f"load balancer {label}-lb has no HTTPS listener on 443: is the stack deployed?")
    groups = [
        group
        for page in elbv2.get_paginator("describe_target_groups").paginate()
        for group in page["TargetGroups"]
        if group.get("VpcId") == balancer["VpcId"]
    ]
    names = _named(elbv2, [g["TargetGroupArn"] for g in groups])
    by_name = {name: arn for arn, name in names.items()}
    missing = [v for v in variants if f"{label}-{v}" not in by_name]
    if missing:
        raise OpsError(
            f"no target group tagged Name={label}-{missing[0]} in the load balancer's VPC: has the stack's "
            f"{missing[0]} been deployed (pulumi up)?"
        )
    return Balancer(
        arn=balancer["LoadBalancerArn"],
        dns_name=balancer["DNSName"],
        vpc_id=balancer["VpcId"],
        listener_arn=listeners[0]["ListenerArn"],
        target_groups={v: by_name[f"{label}-{v}"] for v in variants},
    )


def _named(elbv2: Any, arns: Sequence[str]) -> dict[str, str]:
    """ARN -> its ``Name`` tag, for the ARNs that have one (``DescribeTags``, 20 at a time)."""
    names: dict[str, str] = {}
    for first in range(0, len(arns), TAG_BATCH):
        found = elbv2.describe_tags(ResourceArns=list(arns[first : first + TAG_BATCH]))
        for description in found["TagDescriptions"]:
            tags = {t["Key"]: t["Value"] for t in description.get("Tags", [])}
            if "Name" in tags:
                names[description["ResourceArn"]] = tags["Name"]
    return names


def resource_tags(elbv2: Any, arn: str) -> dict[str, str]:
    found = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return {t["Key"]: t["Value"] for t in (found[0].get("Tags", []) if found else [])}


def healthy_targets(elbv2: Any, target_group_arn: str) -> int:
    found = elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
    return sum(1 for t in found if t.get("TargetHealth", {}).get("State") == "healthy")
