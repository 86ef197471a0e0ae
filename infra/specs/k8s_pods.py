"""How modelfleet's model pods look on EKS, as plain data (no Pulumi; tested without mocks).

The conventions that tie pods to nodes live together: the taint GPU pools carry
(in a node group's form and in Kubernetes' own, for Karpenter's NodePools) and the
toleration model pods use, the pool labels nodes carry and pods select (the serving
port and paths are infra.contracts.serving's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.contracts import serving
from infra.settings.catalog import EksModel, ModelSettings
from infra.specs import stack_images

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
READINESS_GATES = "elbv2.k8s.aws/pod-readiness-gate-inject"
NON_ROOT = 10001
ARCHIVE = "/opt/ml/artifact/model.tar.gz"  # downloaded by the init container, unpacked by the server
PRE_STOP_SECONDS = 10  # the ALB stops sending before the server starts draining


def pod_spec(model: ModelSettings, variant: str, model_data: str, image: str) -> dict[str, Any]:
    """The pod template of one variant (pure, so tests read it whole)."""
    eks = model.eks
    if eks is None:
        raise ValueError(f"model {model.name} has no eks settings")
    labels = {"app.kubernetes.io/name": model.name, "model": model.name, "variant": variant}
    gpu = {"nvidia.com/gpu": str(eks.gpus)}
    hardened = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": NON_ROOT,
        "capabilities": {"drop": ["ALL"]},
    }
    probe = {"httpGet": {"path": serving.HEALTH_PATH, "port": "http"}, "timeoutSeconds": 2}
    return {
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": SERVICE_ACCOUNT,
            # Long enough for the ALB to stop sending (preStop), the server to drain, and a margin.
            "terminationGracePeriodSeconds": PRE_STOP_SECONDS + eks.drain_seconds + 5,
            "securityContext": {"fsGroup": NON_ROOT, "seccompProfile": {"type": "RuntimeDefault"}},
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
            "initContainers": [
                {
                    "name": "fetch-model",
                    "image": stack_images.artifact_fetcher(),  # by digest once the table has it
                    "command": ["aws", "s3", "cp", model_data, ARCHIVE, "--only-show-errors"],
                    "env": [{"name": "HOME", "value": "/tmp"}],
                    "volumeMounts": [
                        {"name": "artifact", "mountPath": "/opt/ml/artifact"},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                    "securityContext": hardened,
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"memory": "1Gi"},
                    },
                }
            ],
            "containers": [
                {
                    "name": "server",
                    "image": image,
                    "ports": [{"name": "http", "containerPort": serving.PORT}],
                    "env": [
                        {"name": serving.PORT_ENV, "value": str(serving.PORT)},
                        {"name": serving.ENV_ARCHIVE, "value": ARCHIVE},
                        {"name": serving.ENV_DRAIN_SECONDS, "value": str(eks.drain_seconds)},
                    ]
                    + [{"name": k, "value": v} for k, v in sorted(model.environment.items())],
                    "resources": {
                        "requests": {"cpu": str(eks.cpu), "memory": f"{eks.memory_gib}Gi", **gpu},
                        "limits": {"memory": f"{eks.memory_gib}Gi", **gpu},
                    },
                    "startupProbe": {**probe, "periodSeconds": 5, "failureThreshold": 120},
                    "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 2},
                    "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                    "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SECONDS}}},
                    "volumeMounts": [
                        {"name": "artifact", "mountPath": "/opt/ml/artifact", "readOnly": True},
                        {"name": "model", "mountPath": "/opt/ml/model"},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                    "securityContext": hardened,
                }
            ],
            "volumes": [{"name": name, "emptyDir": {}} for name in ("artifact", "model", "tmp")],
        },
    }


@dataclass(frozen=True)
class VariantPods:
    """One variant's Deployment: its pods and its replica bounds."""

    name: str  # stable or canary: the suffix of its Deployment, Service, HPA and target group
    replicas: int  # at creation; the HPA owns the count afterwards
    min_replicas: int  # the HPA's floor: the model's minimum for stable, its own count for a canary
    template: Mapping[str, Any]  # the pod template (``pod_spec``)


@dataclass(frozen=True)
class ServiceSpec:
    """One EKS model as its Kubernetes component builds it: plain values, decided from the settings."""

    model_name: str  # its namespace, and the prefix of every object's name
    team: str  # the owning team's label on the namespace
    variants: tuple[VariantPods, ...]  # stable first
    max_replicas: int  # the HPA's ceiling for each variant
    cpu_target_percent: int  # the HPA's CPU utilization target
    max_inflight_per_replica: int  # the HPA's target on the server's in-flight requests gauge
    pdb_min_available: int  # replicas kept through voluntary disruptions (node drains, upgrades)
    artifact_uris: tuple[str, ...]  # s3:// objects the pods' Pod Identity role may read


def service_spec(model: EksModel) -> ServiceSpec:
    """Everything ``K8sModelService`` builds for ``model``, decided here once."""
    eks, scaling = model.eks, model.autoscaling
    variants = tuple(
        VariantPods(
            name=name,
            replicas=variant.instance_count,
            min_replicas=scaling.min_instances if name == "stable" else variant.instance_count,
            template=pod_spec(model, name, variant.model_data or "", variant.image or model.image),
        )
        for name, variant in model.variants.items()
    )
    return ServiceSpec(
        model_name=model.name,
        team=model.team,
        variants=variants,
        max_replicas=scaling.max_instances,
        cpu_target_percent=eks.cpu_target_percent,
        max_inflight_per_replica=eks.max_inflight_per_replica,
        pdb_min_available=eks.pdb_min_available,
        artifact_uris=tuple(v.model_data for _, v in model.variants.items() if v.model_data),
    )
