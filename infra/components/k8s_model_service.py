"""One catalog model served on EKS: stable and canary Deployments behind the stack's ALB.

Each variant is a Deployment on the model's GPU pool (it tolerates the GPU taint
and selects the pool), a Service, a TargetGroupBinding to its target group, and
an HPA on CPU and in-flight requests. The model artifact is fetched into the pod
by an init container with the model's own Pod Identity role, read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.autoscaling.v2 as autoscaling
import pulumi_kubernetes.networking.v1 as networking
import pulumi_kubernetes.policy.v1 as policy

from infra import eks_versions, iam
from infra.catalog import ModelSettings
from infra.components.cluster_addons import GPU_TOLERATION, INFLIGHT_METRIC, MONITORING
from infra.components.gpu_node_pool import POOL_LABEL
from infra.components.model_load_balancer import SERVING_PORT
from infra.components.pod_identity import PodIdentity, PodIdentityArgs

SERVICE_ACCOUNT = "model-server"
NON_ROOT = 10001
FETCH = (
    'aws s3 cp "$MODEL_DATA" /tmp/model.tar.gz && tar -xzf /tmp/model.tar.gz -C /opt/ml/model '
    "&& rm /tmp/model.tar.gz"
)


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
    probe = {"httpGet": {"path": "/ping", "port": "http"}, "timeoutSeconds": 2}
    return {
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": SERVICE_ACCOUNT,
            # Long enough for the ALB to stop sending (preStop) and the server to drain.
            "terminationGracePeriodSeconds": eks.drain_seconds + 15,
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
                    "image": eks_versions.ARTIFACT_FETCHER_IMAGE,
                    "command": ["/bin/sh", "-c", FETCH],
                    "env": [{"name": "MODEL_DATA", "value": model_data}, {"name": "HOME", "value": "/tmp"}],
                    "volumeMounts": [
                        {"name": "model", "mountPath": "/opt/ml/model"},
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
                    "ports": [{"name": "http", "containerPort": SERVING_PORT}],
                    "env": [{"name": "SAGEMAKER_BIND_TO_PORT", "value": str(SERVING_PORT)}]
                    + [{"name": k, "value": v} for k, v in sorted(model.environment.items())],
                    "resources": {
                        "requests": {"cpu": str(eks.cpu), "memory": f"{eks.memory_gib}Gi", **gpu},
                        "limits": {"memory": f"{eks.memory_gib}Gi", **gpu},
                    },
                    "startupProbe": {**probe, "periodSeconds": 5, "failureThreshold": 120},
                    "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 2},
                    "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                    "lifecycle": {"preStop": {"sleep": {"seconds": 10}}},
                    "volumeMounts": [
                        {"name": "model", "mountPath": "/opt/ml/model", "readOnly": True},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                    "securityContext": hardened,
                }
            ],
            "volumes": [{"name": "model", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
        },
    }


@dataclass
class K8sModelServiceArgs:
    model: ModelSettings
    cluster_name: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: str
    provider: k8s.Provider
    target_group_arns: Mapping[str, pulumi.Input[str]]
    load_balancer_security_group_id: pulumi.Input[str]
    load_balancer_subnet_cidrs: Sequence[str]
    tags: Mapping[str, str]
    depends_on: Sequence[pulumi.Resource]  # the add-ons whose CRDs and metrics this uses


class K8sModelService(pulumi.ComponentResource):
    deployments: dict[str, apps.Deployment]

    def __init__(self, name: str, args: K8sModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:K8sModelService", name, None, opts)
        model, eks, scaling = args.model, args.model.eks, args.model.autoscaling
        if eks is None or scaling is None or model.image is None:
            raise ValueError(
                f"model {model.name}: backend eks needs eks, autoscaling and image (settings check this)"
            )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after_addons = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=list(args.depends_on)
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata={"name": model.name, "labels": {"team": model.team}}, opts=on_cluster
        )
        ns = namespace.metadata.name
        k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata={"name": SERVICE_ACCOUNT, "namespace": ns}, opts=on_cluster
        )
        artifacts = [
            iam.s3_object_arn(v.model_data, args.partition) for _, v in model.variants.items() if v.model_data
        ]
        PodIdentity(
            f"{name}-identity",
            PodIdentityArgs(args.cluster_name, model.name, SERVICE_ACCOUNT, iam.s3_read_policy(artifacts),
                            {**args.tags, "model": model.name}, args.account_id),
            opts=pulumi.ResourceOptions(parent=self),
        )  # fmt: skip
        self.deployments = {}
        for variant, settings in model.variants.items():
            template = pod_spec(model, variant, settings.model_data or "", settings.image or model.image)
            labels = template["metadata"]["labels"]
            self.deployments[variant] = apps.Deployment(
                f"{name}-{variant}",
                metadata={"name": f"{model.name}-{variant}", "namespace": ns, "labels": labels},
                spec={
                    "replicas": settings.instance_count,
                    "selector": {"matchLabels": labels},
                    "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                    "template": template,
                },
                # The HPA owns the replica count after creation.
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.provider, ignore_changes=["spec.replicas"]
                ),
            )
            service = k8s.core.v1.Service(
                f"{name}-{variant}",
                metadata={"name": f"{model.name}-{variant}", "namespace": ns, "labels": labels},
                spec={
                    "selector": labels,
                    "ports": [{"name": "http", "port": SERVING_PORT, "targetPort": "http"}],
                },
                opts=on_cluster,
            )
            k8s.apiextensions.CustomResource(
                f"{name}-{variant}-binding",
                api_version="elbv2.k8s.aws/v1beta1",
                kind="TargetGroupBinding",
                metadata={"name": f"{model.name}-{variant}", "namespace": ns},
                spec={
                    "serviceRef": {"name": service.metadata.name, "port": SERVING_PORT},
                    "targetGroupARN": args.target_group_arns[variant],
                    "targetType": "ip",
                    "networking": {"ingress": [{
                        "from": [{"securityGroup": {"groupID": args.load_balancer_security_group_id}}],
                        "ports": [{"protocol": "TCP", "port": SERVING_PORT}],
                    }]},
                },
                opts=after_addons,
            )  # fmt: skip
            low = scaling.min_instances if variant == "stable" else settings.instance_count
            autoscaling.HorizontalPodAutoscaler(
                f"{name}-{variant}",
                metadata={"name": f"{model.name}-{variant}", "namespace": ns},
                spec={
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": f"{model.name}-{variant}"},
                    "minReplicas": low,
                    "maxReplicas": scaling.max_instances,
                    "metrics": [
                        {"type": "Resource", "resource": {"name": "cpu", "target": {
                            "type": "Utilization", "averageUtilization": eks.cpu_target_percent}}},
                        {"type": "Pods", "pods": {"metric": {"name": INFLIGHT_METRIC}, "target": {
                            "type": "AverageValue", "averageValue": str(eks.max_inflight_per_replica)}}},
                    ],
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
                },
                opts=after_addons,
            )  # fmt: skip
        selector = {"matchLabels": {"model": model.name}}
        policy.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": model.name, "namespace": ns},
            spec={"minAvailable": eks.pdb_min_available, "selector": selector},
            opts=on_cluster,
        )
        port = [{"protocol": "TCP", "port": SERVING_PORT}]
        monitoring = {"kubernetes.io/metadata.name": MONITORING}
        load_balancer_sources = [{"ipBlock": {"cidr": cidr}} for cidr in args.load_balancer_subnet_cidrs]
        networking.NetworkPolicy(
            f"{name}-ingress",
            metadata={"name": f"{model.name}-ingress", "namespace": ns},
            spec={
                "podSelector": selector,
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": load_balancer_sources, "ports": port},
                    {"from": [{"namespaceSelector": {"matchLabels": monitoring}}], "ports": port},
                ],
            },
            opts=on_cluster,
        )  # fmt: skip
        k8s.apiextensions.CustomResource(
            f"{name}-metrics",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": model.name, "namespace": ns},
            spec={
                "selector": selector,
                "podTargetLabels": ["model", "variant"],
                "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}],
            },
            opts=after_addons,
        )
        self.register_outputs({"namespace": ns})
