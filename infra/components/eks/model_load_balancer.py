"""The Application Load Balancer in front of one EKS-served model, owned by the stack.

One target group per variant and a listener that splits traffic between them by
the configured weights, so previews show the split and alarms get concrete
LoadBalancer/TargetGroup dimensions. Pods are attached by the AWS Load Balancer
Controller through TargetGroupBindings. HTTPS on every load balancer, internal
ones too, with a certificate from the stack (it creates no private CA: about
$400 a month); internal ones have no plain-HTTP listener at all, internet-facing
ones redirect port 80 and may sit behind WAF. Access logs go through CloudWatch
Logs vended delivery to the stack's KMS-encrypted log bucket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.observability.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.contracts import serving
from infra.specs.alarm_specs import AlarmSpec
from infra.specs.iam import LB_CONTROLLER_CLUSTER_TAG
from infra.specs.tags import named

# TLS 1.3 and 1.2 only (ELB's TLS13-1-2 family); the API's own default still allows TLS 1.0.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ACCESS_LOG_TYPE = "ALB_ACCESS_LOGS"  # CloudWatch Logs delivery source log type of an ALB
# The forward action's target groups and weights belong to ``modelfleet rollout`` once the
# listener exists: ``pulumi up`` during or after a rollout must not put the stack file's split back
# (docs/operations.md, "EKS models"). A Pulumi property path, as the engine compares inputs.
ROLLOUT_OWNED = ["defaultActions[0].forward.targetGroups"]


@dataclass
class ModelLoadBalancerArgs:
    """One model's front door: where it lives, how traffic splits, where logs and alarms go."""

    label: str  # e.g. modelfleet-prod-summarizer, for Name tags
    access_log_source_name: str  # the load balancer's CloudWatch Logs delivery source, unique per region
    vpc_id: pulumi.Input[str]  # the stack's VPC: the security group and the target groups live in it
    vpc_cidr: str  # the VPC's CIDR: internal clients come from it, and the pods are reached in it
    private_subnet_ids: Sequence[pulumi.Input[str]]  # where an internal load balancer is placed
    public_subnet_ids: Sequence[pulumi.Input[str]]  # where an internet-facing load balancer is placed
    weights: Mapping[str, int]  # variant -> percent
    alarm_specs: Sequence[AlarmSpec]  # alarms per variant, on its target group (load_balancer_alarms)
    topic_arn: pulumi.Input[str]  # ARN of the SNS topic the alarms notify
    tags: Mapping[str, str]  # the stack's tags plus team and model, on every taggable resource here
    certificate_arn: str  # ACM certificate for the name clients use, internal or not
    access_log_destination_arn: pulumi.Input[str]  # the stack's CloudWatch Logs delivery destination
    cluster_name: pulumi.Input[str]  # tags the target groups the cluster's controller may bind
    target_port: int = serving.PORT  # the runtime's HTTP port on the pods (infra.contracts.runtimes)
    health_check_path: str = serving.HEALTH_PATH  # the runtime's readiness path: 200 once the model loaded
    deregistration_delay_seconds: int = 30  # in-flight requests (or streams) finish before a pod is cut off
    internet_facing: bool = False  # public subnets, 443 from anywhere and 80 redirected; else VPC only
    waf_acl_arn: str | None = None  # ARN of a WAFv2 web ACL to associate with the load balancer, if any
    deletion_protection: bool = False  # protect_stateful: AWS refuses to delete the load balancer


class ModelLoadBalancer(pulumi.ComponentResource):
    """An ALB, a target group per variant, an HTTPS listener splitting by weight, logs and alarms.

    The listener's weights are the stack file's when it is created; after that the day-2 tools
    own them (``ROLLOUT_OWNED``), and ``modelfleet promote`` writes the final split back to the file.
    """

    load_balancer: aws.lb.LoadBalancer
    security_group: aws.ec2.SecurityGroup
    target_groups: dict[str, aws.lb.TargetGroup]

    def __init__(self, name: str, args: ModelLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:ModelLoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        public = args.internet_facing
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{args.label} load balancer",
            revoke_rules_on_delete=True,
            tags=named(args.tags, f"{args.label}-lb"),
            opts=child,
        )
        # Internet-facing: 443 from anywhere, 80 only to redirect. Internal: 443 from the VPC only.
        sources = (
            [(443, "0.0.0.0/0", "HTTPS from clients"), (80, "0.0.0.0/0", "HTTP, redirected to HTTPS")]
            if public
            else [(443, args.vpc_cidr, "HTTPS from inside the VPC")]
        )
        for port, cidr, description in sources:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-in-{port}",
                security_group_id=self.security_group.id,
                description=description,
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
            description="to the model pods' serving port",
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
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
                port=args.target_port,
                protocol="HTTP",
                vpc_id=args.vpc_id,
                deregistration_delay=args.deregistration_delay_seconds,
                health_check={
                    "path": args.health_check_path,
                    "matcher": "200",
                    "interval": 10,
                    "healthy_threshold": 2,
                },
                tags=named(
                    {**args.tags, "variant": variant, LB_CONTROLLER_CLUSTER_TAG: args.cluster_name},
                    f"{args.label}-{variant}",
                ),
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
        https = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=args.certificate_arn,
            default_actions=[forward],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ROLLOUT_OWNED),
        )
        # serving.VARIANT_HEADER pins a variant, as SageMaker's TargetVariant does: how
        # ``modelfleet smoke --variant`` and a rollout's smoke test reach a canary at 0 %.
        for priority, variant in enumerate(args.weights, start=1):
            aws.lb.ListenerRule(
                f"{name}-pin-{variant}",
                listener_arn=https.arn,
                priority=priority,
                actions=[{"type": "forward", "target_group_arn": self.target_groups[variant].arn}],
                conditions=[
                    {"http_header": {"http_header_name": serving.VARIANT_HEADER, "values": [variant]}}
                ],
                tags=dict(args.tags),
                opts=child,
            )
        if public:
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
        logs = aws.cloudwatch.LogDeliverySource(
            f"{name}-access-logs",
            name=args.access_log_source_name,
            log_type=ACCESS_LOG_TYPE,
            resource_arn=self.load_balancer.arn,
            tags=dict(args.tags),
            opts=child,
        )
        aws.cloudwatch.LogDelivery(
            f"{name}-access-logs",
            delivery_source_name=logs.name,
            delivery_destination_arn=args.access_log_destination_arn,
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
