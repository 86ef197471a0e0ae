"""The Application Load Balancer in front of one EKS-served model, owned by the stack.

One target group per variant and a listener that splits traffic between them by
the configured weights, so previews show the split and alarms get concrete
LoadBalancer/TargetGroup dimensions. Pods are attached by the AWS Load Balancer
Controller through TargetGroupBindings. Internal by default; internet-facing
only with a certificate: HTTPS only, HTTP redirected, optionally behind WAF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.alarm_specs import AlarmSpec
from infra.components.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.k8s_pods import SERVING_PORT
from infra.tags import named

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass
class ModelLoadBalancerArgs:
    label: str  # e.g. modelfleet-prod-summarizer, for Name tags
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    weights: Mapping[str, int]  # variant -> percent
    alarm_specs: Sequence[AlarmSpec]
    topic_arn: pulumi.Input[str]
    tags: Mapping[str, str]
    certificate_arn: str | None = None
    waf_acl_arn: str | None = None
    deletion_protection: bool = False


class ModelLoadBalancer(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    security_group: aws.ec2.SecurityGroup
    target_groups: dict[str, aws.lb.TargetGroup]

    def __init__(self, name: str, args: ModelLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:ModelLoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        public = args.certificate_arn is not None
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{args.label} load balancer",
            revoke_rules_on_delete=True,
            tags=named(args.tags, f"{args.label}-lb"),
            opts=child,
        )
        # Internet-facing: 443 from anywhere (80 only to redirect). Internal: HTTP from the VPC.
        sources = [(443, "0.0.0.0/0"), (80, "0.0.0.0/0")] if public else [(80, args.vpc_cidr)]
        for port, cidr in sources:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-in-{port}",
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=cidr,
                tags=dict(args.tags),
                opts=child,
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-pods",
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=SERVING_PORT,
            to_port=SERVING_PORT,
            cidr_ipv4=args.vpc_cidr,
            tags=dict(args.tags),
            opts=child,
        )
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name_prefix="mf-",
            load_balancer_type="application",
            internal=not public,
            subnets=list(args.public_subnet_ids if public else args.private_subnet_ids),
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            tags=named(args.tags, f"{args.label}-lb"),
            opts=child,
        )
        self.target_groups = {
            variant: aws.lb.TargetGroup(
                f"{name}-{variant}",
                name_prefix="mf-",
                target_type="ip",  # pods, registered by TargetGroupBinding
                port=SERVING_PORT,
                protocol="HTTP",
                vpc_id=args.vpc_id,
                deregistration_delay=30,
                health_check={"path": "/ping", "matcher": "200", "interval": 10, "healthy_threshold": 2},
                tags=named({**args.tags, "variant": variant}, f"{args.label}-{variant}"),
                opts=child,
            )
            for variant in args.weights
        }
        forward = {
            "type": "forward",
            "forward": {
                "target_groups": [
                    {"arn": self.target_groups[variant].arn, "weight": weight}
                    for variant, weight in args.weights.items()
                ]
            },
        }
        if public:
            aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=self.load_balancer.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=args.certificate_arn,
                default_actions=[forward],
                tags=dict(args.tags),
                opts=child,
            )
            redirect = {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
            aws.lb.Listener(
                f"{name}-http-redirect",
                load_balancer_arn=self.load_balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[{"type": "redirect", "redirect": redirect}],
                tags=dict(args.tags),
                opts=child,
            )
        else:
            aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=self.load_balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[forward],
                tags=dict(args.tags),
                opts=child,
            )
        if args.waf_acl_arn:
            aws.wafv2.WebAclAssociation(
                f"{name}-waf", resource_arn=self.load_balancer.arn, web_acl_arn=args.waf_acl_arn, opts=child
            )
        alarms = ServingAlarms(
            f"{name}-alarms",
            ServingAlarmsArgs(
                dimensions={
                    variant: {"LoadBalancer": self.load_balancer.arn_suffix, "TargetGroup": group.arn_suffix}
                    for variant, group in self.target_groups.items()
                },
                specs=args.alarm_specs,
                topic_arn=args.topic_arn,
                tags=args.tags,
            ),
            opts=child,
        )
        self.alarm_names = [a.name for a in alarms.alarms.values()]
        self.register_outputs({"dns_name": self.load_balancer.dns_name})
