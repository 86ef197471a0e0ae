"""One catalog model on EKS, whole: its load balancer and its Kubernetes service, under one parent.

Every per-model resource of an ``eks`` model (the ALB, its listener, target groups
and alarms; the namespace, Deployments, Services, HPAs, PDB and NetworkPolicy)
sits under this component, as every SageMaker model's sits under
``SageMakerModelEndpoint``, so a model is one node of the resource tree.

Both children used to hang off ``Platform`` directly. Their names are unchanged,
and each carries ``aliases=[Alias(parent=<Platform>)]``: Pulumi then matches them,
and everything under them, with the resources already deployed, so moving them
here replaces nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components.eks.k8s_model_service import CaptureBucketRef, K8sModelService, K8sModelServiceArgs
from infra.components.eks.model_load_balancer import ModelLoadBalancer, ModelLoadBalancerArgs
from infra.specs.k8s_pods import ServiceSpec


@dataclass
class EksModelServiceArgs:
    """What one EKS model needs from the platform around it."""

    service: ServiceSpec  # its pods: variants, pod templates, replica bounds (``k8s_pods.service_spec``)
    balancer: ModelLoadBalancerArgs  # its load balancer, as the platform configures it
    cluster_name: pulumi.Input[str]  # the EKS cluster its pods run on
    cluster_arn: pulumi.Input[str]  # for the Pod Identity role's trust scope
    account_id: pulumi.Input[str]  # for the Pod Identity role's trust scope
    partition: str  # aws, aws-cn or aws-us-gov: ARNs in its IAM policy
    provider: k8s.Provider  # the cluster's Kubernetes provider
    load_balancer_subnet_cidrs: Sequence[str]  # where the ALB's nodes are: the only ingress to the pods
    tags: Mapping[str, str]  # the stack's tags, on its IAM role
    depends_on: Sequence[pulumi.Resource]  # the add-ons and GPU pool it needs before its pods
    capture: CaptureBucketRef | None = None  # the stack's capture bucket, when the model captures


class EksModelService(pulumi.ComponentResource):
    """The parent of every resource of one EKS model: its load balancer and its Kubernetes objects."""

    balancer: ModelLoadBalancer
    service: K8sModelService

    def __init__(self, name: str, args: EksModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:EksModelService", name, None, opts)
        former = (
            [pulumi.Alias(parent=opts.parent)] if opts and opts.parent else []
        )  # see the module docstring
        child = pulumi.ResourceOptions(parent=self, aliases=former)
        self.balancer = ModelLoadBalancer(f"{name}-lb", args.balancer, child)
        self.service = K8sModelService(
            name,
            K8sModelServiceArgs(
                spec=args.service,
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                account_id=args.account_id,
                partition=args.partition,
                provider=args.provider,
                target_group_arns={v: g.arn for v, g in self.balancer.target_groups.items()},
                load_balancer_security_group_id=self.balancer.security_group.id,
                load_balancer_subnet_cidrs=list(args.load_balancer_subnet_cidrs),
                tags=args.tags,
                depends_on=list(args.depends_on),
                capture=args.capture,
            ),
            child,
        )
        self.register_outputs({"load_balancer_dns_name": self.balancer.load_balancer.dns_name})
