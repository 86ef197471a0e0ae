"""How modelfleet's model pods look on EKS, as plain data (no Pulumi; tested without mocks).

The conventions that tie pods to nodes live together: the taint GPU pools carry
(in a node group's form and in Kubernetes' own, for Karpenter's NodePools) and the
toleration model pods use, the pool labels nodes carry and pods select (each runtime's
port and paths are ``infra.contracts.runtimes``'; its containers are
``runtime_containers``', its scaling ``model_scaling``').
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.contracts import drift, runtimes, serving
from infra.settings.catalog import EksModel
from infra.specs import model_scaling, runtime_containers

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}  # node group form
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}  # pod form
# The same taint in Kubernetes' own form, as a Karpenter NodePool puts it on its nodes.
GPU_NODE_TAINT = {
    "key": GPU_TOLERATION["key"],
    "value": GPU_TAINT["value"],
    "effect": GPU_TOLERATION["effect"],
}
POOL_LABEL = "modelfleet.io/pool"
SYSTEM_POOL = "system"  # the POOL_LABEL value of the system node group: add-ons and controllers
GPU_LABEL = "modelfleet.io/gpu"
AMI_LABEL = "modelfleet.io/ami"


def pool_labels(pool: str, gpu_model: str, ami: str) -> dict[str, str]:
    return {"nvidia.com/gpu.present": "true", POOL_LABEL: pool, GPU_LABEL: gpu_model, AMI_LABEL: ami}


SERVICE_ACCOUNT = "model-server"
# A capturing model's namespace holds the capture bucket's name and key in this ConfigMap: the
# bucket's name is known only once it exists, and the pod template stays plain data.
CAPTURE_CONFIG_MAP = "data-capture"
CAPTURE_BUCKET_KEY = "bucket"
CAPTURE_KMS_KEY = "kms-key-id"
READINESS_GATES = "elbv2.k8s.aws/pod-readiness-gate-inject"


def pod_spec(model: EksModel, variant: str, model_data: str, image: str, region: str) -> dict[str, Any]:
    """The pod template of one variant (pure, so tests read it whole): shared parts, then the runtime's."""
    eks = model.eks
    labels = {"app.kubernetes.io/name": model.name, "model": model.name, "variant": variant}
    runtime = runtime_containers.parts(model, model_data, image, region)
    if model.captures:
        runtime.container["env"] = [*runtime.container["env"], *capture_env(model, variant, region)]
    return {
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": SERVICE_ACCOUNT,
            # Long enough for the ALB to stop sending (preStop), the server to drain, and a margin.
            "terminationGracePeriodSeconds": runtime_containers.PRE_STOP_SECONDS + eks.drain_seconds + 5,
            "securityContext": {
                "fsGroup": runtime_containers.NON_ROOT,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "tolerations": [GPU_TOLERATION],
            "nodeSelector": {POOL_LABEL: eks.pool},
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",  # GPU capacity is not in every zone
                    "labelSelector": {"matchLabels": labels},
                }
            ],
            **({"initContainers": runtime.init_containers} if runtime.init_containers else {}),
            "containers": [runtime.container],
            "volumes": runtime.volumes,
        },
    }


def capture_env(model: EksModel, variant: str, region: str) -> list[dict[str, Any]]:
    """The server's capture settings: its share and prefix here, the bucket and key from the ConfigMap."""

    def from_config_map(key: str) -> dict[str, Any]:
        return {"configMapKeyRef": {"name": CAPTURE_CONFIG_MAP, "key": key}}

    return [
        {"name": serving.ENV_CAPTURE_PERCENT, "value": str(model.data_capture.sampling_percent)},
        {"name": serving.ENV_CAPTURE_PREFIX, "value": drift.eks_capture_prefix(model.name, variant)},
        {"name": serving.ENV_CAPTURE_BUCKET, "valueFrom": from_config_map(CAPTURE_BUCKET_KEY)},
        {"name": serving.ENV_CAPTURE_KMS_KEY_ID, "valueFrom": from_config_map(CAPTURE_KMS_KEY)},
        {"name": "AWS_REGION", "value": region},  # the capture writer's S3 client
    ]


@dataclass(frozen=True)
class VariantPods:
    """One variant's Deployment: its pods and how it scales."""

    name: str  # stable or canary: the suffix of its Deployment, Service, ScaledObject and target group
    replicas: int  # at creation; KEDA's HPA owns the count afterwards
    min_replicas: int  # the scaling floor: the model's minimum for stable, its own count for a canary
    template: Mapping[str, Any]  # the pod template (``pod_spec``)
    triggers: tuple[Mapping[str, Any], ...]  # KEDA triggers on the runtime's signals (``model_scaling``)


@dataclass(frozen=True)
class ServiceSpec:
    """One EKS model as its Kubernetes component builds it: plain values, decided from the settings."""

    model_name: str  # its namespace, and the prefix of every object's name
    team: str  # the owning team's label on the namespace
    variants: tuple[VariantPods, ...]  # stable first
    max_replicas: int  # the scaling ceiling for each variant
    pdb_min_available: int  # replicas kept through voluntary disruptions (node drains, upgrades)
    artifact_uris: tuple[str, ...]  # s3:// objects or prefixes the pods' Pod Identity role may read
    weight_directories: tuple[str, ...]  # s3://.../ directories the pods list before reading (vllm, tei)
    port: int  # the runtime's HTTP port: Service, TargetGroupBinding and NetworkPolicy
    metrics_path: str  # where the runtime serves Prometheus metrics, on that port
    capture_prefixes: tuple[str, ...] = ()  # where its containers may write captures (none: no capture)


def service_spec(model: EksModel, region: str) -> ServiceSpec:
    """Everything ``K8sModelService`` builds for ``model``, decided here once."""
    scaling, contract = model.autoscaling, runtimes.contract(model.runtime)
    variants = tuple(
        VariantPods(
            name=name,
            replicas=variant.instance_count,
            min_replicas=scaling.min_instances if name == "stable" else variant.instance_count,
            template=pod_spec(model, name, variant.model_data or "", variant.image or model.image, region),
            triggers=tuple(model_scaling.triggers(model, name)),
        )
        for name, variant in model.variants.items()
    )
    return ServiceSpec(
        model_name=model.name,
        team=model.team,
        variants=variants,
        max_replicas=scaling.max_instances,
        pdb_min_available=model.eks.pdb_min_available,
        artifact_uris=tuple(v.model_data for _, v in model.variants.items() if v.model_data),
        weight_directories=tuple(
            v.model_data for _, v in model.variants.items() if v.model_data and v.model_data.endswith("/")
        ),
        port=contract.port,
        metrics_path=contract.metrics_path,
        capture_prefixes=tuple(
            drift.eks_capture_prefix(model.name, name) for name, _ in model.variants.items() if model.captures
        ),
    )
