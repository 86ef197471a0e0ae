"""One catalog model served on EKS: stable and canary Deployments behind the stack's ALB.

Each variant is a Deployment on the model's GPU pool (it tolerates the GPU taint
and selects the pool), a Service, a TargetGroupBinding to its target group, and a
KEDA ScaledObject on its runtime's own signal. The pods read the model's weights
from S3 with the model's own Pod Identity role, read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.networking.v1 as networking
import pulumi_kubernetes.policy.v1 as policy

from infra.components.eks.pod_identity import PodIdentity, PodIdentityArgs
from infra.specs import iam, model_scaling
from infra.specs.k8s_pods import (
    CAPTURE_BUCKET_KEY,
    CAPTURE_CONFIG_MAP,
    CAPTURE_KMS_KEY,
    READINESS_GATES,
    SERVICE_ACCOUNT,
    ServiceSpec,
)
from infra.specs.model_scaling import MONITORING


@dataclass
class K8sModelServiceArgs:
    """One model's Kubernetes objects (decided by ``k8s_pods.service_spec``) and the cluster they go to."""

    spec: ServiceSpec  # the model: variants with their pod templates, replica bounds, scaling triggers
    cluster_name: pulumi.Input[str]  # the cluster its Pod Identity association belongs to
    cluster_arn: pulumi.Input[str]  # scopes the pods' role trust to this cluster
    account_id: pulumi.Input[str]  # scopes the pods' role trust to this account
    partition: str  # aws, aws-cn or aws-us-gov: the artifact ARNs in the pods' policy
    provider: k8s.Provider  # the cluster's provider: never the local kubeconfig's cluster
    target_group_arns: Mapping[str, pulumi.Input[str]]  # variant -> its target group, bound to its Service
    load_balancer_security_group_id: pulumi.Input[str]  # the ALB's group, let in to the pods' port
    load_balancer_subnet_cidrs: Sequence[str]  # where the ALB's nodes are: the NetworkPolicy's only ingress
    tags: Mapping[str, str]  # the stack's tags, on the pods' IAM role
    depends_on: Sequence[pulumi.Resource]  # the add-ons whose CRDs and metrics this uses
    capture: CaptureBucketRef | None = None  # where the containers write captures (spec.capture_prefixes)


@dataclass
class CaptureBucketRef:
    """The stack's capture bucket, as a capturing model's pods write to it."""

    bucket: pulumi.Input[str]  # its name, given to the pods through the namespace's ConfigMap
    key_arn: pulumi.Input[str]  # its KMS key: the pods encrypt every object with it


class K8sModelService(pulumi.ComponentResource):
    """One model's pods on the cluster, bound to its load balancer's target groups and scaled by KEDA."""

    deployments: dict[str, apps.Deployment]

    def __init__(self, name: str, args: K8sModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:K8sModelService", name, None, opts)
        spec = args.spec
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after_addons = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=list(args.depends_on)
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            # The controller holds old pods until new ones are healthy in the ALB.
            metadata={"name": spec.model_name, "labels": {"team": spec.team, READINESS_GATES: "enabled"}},
            opts=on_cluster,
        )
        ns = namespace.metadata.name
        k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata={"name": SERVICE_ACCOUNT, "namespace": ns}, opts=on_cluster
        )
        artifacts = [iam.s3_object_arn(uri, args.partition) for uri in spec.artifact_uris]
        listed = iam.list_directories(spec.weight_directories, args.partition)
        pod_policy: pulumi.Input[Mapping[str, object]] = iam.s3_read_policy(artifacts, listed)
        before_pods: list[pulumi.Resource] = []
        if args.capture is not None and spec.capture_prefixes:
            capture = args.capture
            config_map = k8s.core.v1.ConfigMap(
                f"{name}-capture",
                metadata={"name": CAPTURE_CONFIG_MAP, "namespace": ns},
                data={CAPTURE_BUCKET_KEY: capture.bucket, CAPTURE_KMS_KEY: capture.key_arn},
                opts=on_cluster,
            )
            before_pods.append(config_map)  # the pods read the bucket's name from it at start
            pod_policy = pulumi.Output.all(capture.bucket, capture.key_arn).apply(
                lambda v: iam.s3_read_policy(
                    artifacts,
                    listed,
                    iam.write_captures(
                        [f"arn:{args.partition}:s3:::{v[0]}/{prefix}*" for prefix in spec.capture_prefixes],
                        v[1],
                    ),
                )
            )
        identity = PodIdentity(
            f"{name}-identity",
            PodIdentityArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=spec.model_name,
                service_account=SERVICE_ACCOUNT,
                policy=pod_policy,
                tags={**args.tags, "model": spec.model_name},
                account_id=args.account_id,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )  # fmt: skip
        self.deployments = {}
        for pods in spec.variants:
            variant, template = pods.name, pods.template
            labels = template["metadata"]["labels"]
            self.deployments[variant] = apps.Deployment(
                f"{name}-{variant}",
                metadata={"name": f"{spec.model_name}-{variant}", "namespace": ns, "labels": labels},
                spec={
                    "replicas": pods.replicas,
                    "selector": {"matchLabels": labels},
                    "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                    "template": template,
                },
                # KEDA's HPA owns the replica count after creation. Pods get AWS credentials only
                # if their Pod Identity association exists when they start, and need GPU nodes.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=args.provider,
                    ignore_changes=["spec.replicas"],
                    depends_on=[identity, *before_pods, *args.depends_on],
                ),
            )
            service = k8s.core.v1.Service(
                f"{name}-{variant}",
                metadata={"name": f"{spec.model_name}-{variant}", "namespace": ns, "labels": labels},
                spec={
                    "selector": labels,
                    "ports": [{"name": "http", "port": spec.port, "targetPort": "http"}],
                },
                opts=on_cluster,
            )
            k8s.apiextensions.CustomResource(
                f"{name}-{variant}-binding",
                api_version="elbv2.k8s.aws/v1beta1",
                kind="TargetGroupBinding",
                metadata={"name": f"{spec.model_name}-{variant}", "namespace": ns},
                spec={
                    "serviceRef": {"name": service.metadata.name, "port": spec.port},
                    "targetGroupARN": args.target_group_arns[variant],
                    "targetType": "ip",
                    "networking": {"ingress": [{
                        "from": [{"securityGroup": {"groupID": args.load_balancer_security_group_id}}],
                        "ports": [{"protocol": "TCP", "port": spec.port}],
                    }]},
                },
                # The controller refuses edits to targetGroupARN: a new target group means a new binding.
                opts=pulumi.ResourceOptions.merge(
                    after_addons,
                    pulumi.ResourceOptions(
                        replace_on_changes=["spec.targetGroupARN"], delete_before_replace=True
                    ),
                ),
            )  # fmt: skip
            k8s.apiextensions.CustomResource(
                f"{name}-{variant}-scaler",
                api_version="keda.sh/v1alpha1",
                kind="ScaledObject",
                metadata={"name": f"{spec.model_name}-{variant}", "namespace": ns},
                spec=model_scaling.scaled_object_spec(
                    f"{spec.model_name}-{variant}",
                    pods.min_replicas,
                    spec.max_replicas,
                    [dict(trigger) for trigger in pods.triggers],
                ),
                opts=after_addons,
            )
        selector = {"matchLabels": {"model": spec.model_name}}
        policy.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": spec.model_name, "namespace": ns},
            spec={"minAvailable": spec.pdb_min_available, "selector": selector},
            opts=on_cluster,
        )
        port = [{"protocol": "TCP", "port": spec.port}]
        monitoring = {"kubernetes.io/metadata.name": MONITORING}
        load_balancer_sources = [{"ipBlock": {"cidr": cidr}} for cidr in args.load_balancer_subnet_cidrs]
        networking.NetworkPolicy(
            f"{name}-ingress",
            metadata={"name": f"{spec.model_name}-ingress", "namespace": ns},
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
            metadata={"name": spec.model_name, "namespace": ns},
            spec={
                "selector": selector,
                "podTargetLabels": ["model", "variant"],
                "podMetricsEndpoints": [{"port": "http", "path": spec.metrics_path, "interval": "15s"}],
            },
            opts=after_addons,
        )
        self.register_outputs({"namespace": ns})
