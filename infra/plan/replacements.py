"""Which input changes make Pulumi replace a resource instead of updating it (pure data).

From the providers' schemas (``forceNew`` / create-only properties) for the
types modelfleet declares. A path listed here forces replacement when it, or
anything under it, changes; ``ALL`` means every input but tags does. A type not
listed is assumed updatable in place, and the diff says so.
"""

from __future__ import annotations

ALL = "*"
NOT_FORCING = frozenset({"tags", "tagsAll"})

REPLACE_ON_CHANGE: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        # SageMaker models and endpoint configurations are immutable: any field means a new one.
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration": {ALL},
        "aws:sagemaker/model:Model": {ALL},
        "aws-native:sagemaker:Endpoint": {"endpointName"},
        "aws:eks/cluster:Cluster": {
            "name", "roleArn", "kubernetesNetworkConfig", "bootstrapSelfManagedAddons",
        },
        "aws:eks/nodeGroup:NodeGroup": {
            "amiType", "capacityType", "instanceTypes", "subnetIds", "nodeRoleArn", "clusterName",
            "diskSize", "nodeGroupName", "nodeGroupNamePrefix", "remoteAccess",
        },
        "aws:eks/addon:Addon": {"addonName", "clusterName"},
        "aws:eks/accessEntry:AccessEntry": {"clusterName", "principalArn", "type"},
        "aws:eks/podIdentityAssociation:PodIdentityAssociation": {
            "clusterName", "namespace", "serviceAccount",
        },
        "aws:ec2/vpc:Vpc": {"cidrBlock", "instanceTenancy"},
        "aws:ec2/subnet:Subnet": {"cidrBlock", "availabilityZone", "availabilityZoneId", "vpcId"},
        "aws:ec2/securityGroup:SecurityGroup": {"name", "namePrefix", "description", "vpcId"},
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"securityGroupId"},
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {"securityGroupId"},
        "aws:ec2/natGateway:NatGateway": {"subnetId", "allocationId", "connectivityType", "privateIp"},
        "aws:ec2/vpcEndpoint:VpcEndpoint": {"serviceName", "vpcId", "vpcEndpointType"},
        "aws:ec2/routeTable:RouteTable": {"vpcId"},
        "aws:ec2/route:Route": {"routeTableId", "destinationCidrBlock"},
        "aws:ec2/launchTemplate:LaunchTemplate": {"name", "namePrefix"},
        "aws:kms/key:Key": {"customerMasterKeySpec", "keyUsage", "multiRegion"},
        "aws:s3/bucket:Bucket": {"bucket", "bucketPrefix", "objectLockEnabled"},
        "aws:iam/role:Role": {"name", "namePrefix", "path"},
        "aws:iam/rolePolicy:RolePolicy": {"name", "namePrefix", "role"},
        "aws:cloudwatch/logGroup:LogGroup": {"name", "namePrefix", "logGroupClass"},
        "aws:cloudwatch/metricAlarm:MetricAlarm": {"name"},
        "aws:cloudwatch/dashboard:Dashboard": {"dashboardName"},
        "aws:sns/topic:Topic": {"name", "namePrefix", "fifoTopic"},
        "aws:lb/loadBalancer:LoadBalancer": {"name", "namePrefix", "internal", "loadBalancerType"},
        "aws:lb/targetGroup:TargetGroup": {"name", "namePrefix", "port", "protocol", "vpcId", "targetType"},
        "aws:appautoscaling/target:Target": {"resourceId", "scalableDimension", "serviceNamespace"},
        "aws:appautoscaling/policy:Policy": {"name", "resourceId", "scalableDimension", "serviceNamespace"},
        "kubernetes:core/v1:Namespace": {"metadata.name"},
        "kubernetes:core/v1:Service": {"metadata.name", "metadata.namespace"},
        "kubernetes:apps/v1:Deployment": {"metadata.name", "metadata.namespace", "spec.selector"},
        "kubernetes:helm.sh/v3:Release": {"name", "namespace"},
    }.items()
}  # fmt: skip


def forces_replacement(resource_type: str, path: str) -> bool:
    """Whether changing ``path`` (``productionVariants[1].initialVariantWeight``) replaces the resource."""
    forcing = REPLACE_ON_CHANGE.get(resource_type, frozenset())
    top = path.split(".", 1)[0].split("[", 1)[0]
    if ALL in forcing:
        return top not in NOT_FORCING
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in forcing)
