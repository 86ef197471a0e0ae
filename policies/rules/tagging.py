"""Ownership and cost tags: every taggable resource says who owns and pays for it."""

from __future__ import annotations

from policies.rules._support import resource_rule, tags_of

# Types modelfleet declares that take tags; listing them beats guessing from props,
# because a resource that omits ``tags`` entirely is exactly the one to catch.
TAGGABLE = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/instance:Instance",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:sns/topic:Topic",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon",
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listener:Listener",
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint",
    "aws-native:sagemaker:Endpoint",
    "aws:appautoscaling/target:Target",
    "aws:sqs/queue:Queue",
    "aws:cloudwatch/eventRule:EventRule",
)


def _missing_tags(props, config):
    tags = tags_of(props)
    missing = [key for key in config["tags"] if not str(tags.get(key) or "").strip()]
    if missing:
        yield f"missing required tags: {', '.join(missing)} (every resource names its owner and cost center)"


REQUIRED_TAGS = resource_rule(
    "required-tags",
    "Taggable resources carry the ownership and cost tags",
    TAGGABLE,
    _missing_tags,
    config={
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["environment", "project", "owner", "cost-center", "managed-by"],
            "description": "tag keys every taggable resource must have, with a non-empty value",
        }
    },
)

RULES = [REQUIRED_TAGS]
