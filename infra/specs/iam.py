"""IAM and KMS policy documents as plain dicts (pure; tested without mocks).

Documents are built here, not inline in components, so that tests and the policy
pack can read exactly what is granted. Actions are always listed one by one:
no ``*`` or ``service:*`` action ever reaches a principal that touches data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

VERSION = "2012-10-17"

# What a service needs to use a customer-managed key for envelope encryption.
KMS_SERVICE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


def partition_for(region: str) -> str:
    """The AWS partition a region belongs to: fixed by the region's name."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def regional_service(service: str, region: str) -> str:
    """A regional service principal, e.g. ``logs.eu-west-1.amazonaws.com`` (``.com.cn`` in China)."""
    suffix = "amazonaws.com.cn" if partition_for(region) == "aws-cn" else "amazonaws.com"
    return f"{service}.{region}.{suffix}"


def log_group_arn(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"


def document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [dict(s) for s in statements]}


def allow(
    actions: Sequence[str],
    resources: Sequence[str],
    sid: str | None = None,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if sid:
        statement["Sid"] = sid
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def service_trust(service: str, account_id: str, source_arn: str | None = None) -> dict[str, Any]:
    """Trust policy for an AWS service, pinned to this account (confused-deputy guard)."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }
    )


def kms_key_policy(
    account_id: str,
    partition: str,
    service: str | None = None,
    service_condition: Mapping[str, Any] | None = None,
    service_actions: Sequence[str] = KMS_SERVICE_ACTIONS,
) -> dict[str, Any]:
    """Key policy: the account administers the key through IAM; one service may use it.

    The account-root statement is AWS's default key policy. It grants nothing by
    itself: it lets IAM policies in this account decide, and without it a key can
    become unmanageable.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if service:
        statement = allow(service_actions, ["*"], sid="ServiceUsesKey", condition=service_condition)
        statements.append({**statement, "Principal": {"Service": service}})
    return document(*statements)


def s3_object_arn(uri: str, partition: str = "aws") -> str:
    """``s3://bucket/path/model.tar.gz`` -> the ARN of everything under ``path/``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    prefix = key.rsplit("/", 1)[0] + "/" if "/" in key.rstrip("/") else key
    return f"arn:{partition}:s3:::{bucket}/{prefix}*"


def read_artifacts(object_arns: Sequence[str]) -> dict[str, Any]:
    """Read model artifacts under the given object ARNs (prefix/*), nothing else in the bucket."""
    return allow(["s3:GetObject"], sorted(set(object_arns)), sid="ReadArtifacts")


def model_execution_policy(
    *,
    artifact_arns: Sequence[str],
    repository_arns: Sequence[str],
    log_group_arn: str,
    key_arn: str,
    capture_object_arn: str | None = None,
    capture_key_arn: str | None = None,
    vpc_arn: str | None = None,
    list_prefixes: Sequence[str] = (),
    partition: str = "aws",
) -> dict[str, Any]:
    """What a SageMaker model's execution role may do, and nothing else.

    Read its artifacts, pull its images, write its own log group, use its own
    key, write its data-capture prefix, and (with ``vpc_arn``) manage the network
    interfaces SageMaker puts in the stack's VPC. ``ecr:GetAuthorizationToken``
    and EC2's Describe calls support no resource scoping in IAM, so those name no resource.
    """
    statements = [
        read_artifacts(artifact_arns),
        allow(
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            sorted(set(repository_arns)),
            sid="PullImages",
        ),
        allow(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
        allow(
            ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [log_group_arn, f"{log_group_arn}:*"],
            sid="WriteOwnLogs",
        ),
        allow(["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [key_arn], sid="UseOwnKey"),
    ]
    if capture_object_arn and capture_key_arn:
        statements += write_captures([capture_object_arn], capture_key_arn)
    statements += list_weights(list_prefixes, partition)
    if vpc_arn:
        statements += vpc_network_interface_statements(vpc_arn)
    return document(*statements)


def list_weights(prefixes: Sequence[str], partition: str) -> list[dict[str, Any]]:
    """ListBucket held to each weights directory (``s3://bucket/dir/``), one statement per bucket.

    A container that downloads a directory itself (LMI's ``HF_MODEL_ID=s3://...``) lists it
    first; ``s3:prefix`` limits the listing to that directory (S3's condition keys for ListBucket).
    """
    by_bucket: dict[str, set[str]] = {}
    for uri in prefixes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        by_bucket.setdefault(bucket, set()).update({key, f"{key}*"})
    return [
        allow(
            ["s3:ListBucket"],
            [f"arn:{partition}:s3:::{bucket}"],
            sid=f"ListWeights{index}",
            condition={"StringLike": {"s3:prefix": sorted(keys)}},
        )
        for index, (bucket, keys) in enumerate(sorted(by_bucket.items()))
    ]


def vpc_network_interface_statements(vpc_arn: str) -> list[dict[str, Any]]:
    """The EC2 calls SageMaker makes with the execution role for a model in a VPC, held to that VPC.

    The actions are SageMaker's documented list ("CreateModel API: Execution Role
    Permissions"). Per the EC2 Service Authorization Reference, CreateNetworkInterface
    checks the subnet and security group (which carry ``ec2:Vpc``) and the new
    interface (which does not), so the interface is its own statement; the
    permission and delete calls act on an interface, which carries ``ec2:Vpc``.
    Describe calls support no resource types.
    """
    prefix = vpc_arn.split(":vpc/", 1)[0]  # arn:<partition>:ec2:<region>:<account>
    in_vpc = {"ArnEquals": {"ec2:Vpc": vpc_arn}}
    return [
        allow(["ec2:CreateNetworkInterface"], [f"{prefix}:network-interface/*"], sid="NewInterfaces"),
        allow(
            ["ec2:CreateNetworkInterface"],
            [f"{prefix}:security-group/*", f"{prefix}:subnet/*"],
            sid="InTheStacksSubnetsAndGroups",
            condition=in_vpc,
        ),
        allow(
            [
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            [f"{prefix}:network-interface/*"],
            sid="ManageInterfacesInTheStacksVpc",
            condition=in_vpc,
        ),
        allow(
            [
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcEndpoints",  # SageMaker's hosting-in-a-VPC page lists it too
                "ec2:DescribeVpcs",
            ],
            ["*"],
            sid="DescribeNetwork",
        ),
    ]


def pod_identity_trust(account_id: str, cluster_arn: str) -> dict[str, Any]:
    """Trust for EKS Pod Identity roles, pinned to one cluster of this account."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnEquals": {"aws:SourceArn": cluster_arn},
            },
        }
    )


def cluster_autoscaler_policy(cluster_arn: str) -> dict[str, Any]:
    """Read node groups; resize only this cluster's, as the EKS best-practices guide scopes it.

    Resizing is held to Auto Scaling groups carrying the tags EKS managed node
    groups put on theirs; ``eks:DescribeNodegroup`` to this cluster's node groups.
    The other reads support no resource scoping.
    """
    prefix, _, cluster_name = cluster_arn.partition(":cluster/")  # arn:<partition>:eks:<region>:<account>
    owned = {
        "StringEquals": {
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
            f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
        }
    }
    return document(
        allow(
            [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            ["*"],
            sid="DiscoverNodeGroups",
        ),
        allow(["eks:DescribeNodegroup"], [f"{prefix}:nodegroup/{cluster_name}/*/*"], sid="ReadOwnNodeGroups"),
        allow(
            ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            ["*"],
            sid="ResizeOwnNodeGroups",
            condition=owned,
        ),
    )


def list_directories(uris: Sequence[str], partition: str = "aws") -> list[dict[str, Any]]:
    """List the objects under weight directories (``s3://bucket/path/``), per bucket, nothing else.

    ``aws s3 sync`` and vLLM's S3 streamer list a directory before they read it;
    ListBucket takes the bucket as its resource and the ``s3:prefix`` condition narrows it.
    """
    by_bucket: dict[str, set[str]] = {}
    for uri in uris:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        by_bucket.setdefault(bucket, set()).update({key, f"{key}*"})
    return [
        allow(["s3:ListBucket"], [f"arn:{partition}:s3:::{bucket}"], sid=f"ListWeights{index}",
              condition={"StringLike": {"s3:prefix": sorted(prefixes)}})
        for index, (bucket, prefixes) in enumerate(sorted(by_bucket.items()))
    ]  # fmt: skip


def s3_read_policy(
    object_arns: Sequence[str],
    listed: Sequence[Mapping[str, Any]] = (),
    also: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Read the artifacts' objects, list the weight directories given in ``listed``, and ``also``."""
    return document(read_artifacts(object_arns), *listed, *also)


def write_captures(object_arns: Sequence[str], key_arn: str) -> list[dict[str, Any]]:
    """Write captures (``<bucket>/<prefix>*``, PutObject only) encrypted with the capture bucket's key."""
    return [
        allow(["s3:PutObject"], sorted(set(object_arns)), sid="WriteDataCapture"),
        allow(["kms:Encrypt", "kms:GenerateDataKey"], [key_arn], sid="EncryptCapture"),
    ]


# The tag the AWS Load Balancer Controller's reference policy scopes its changes by;
# the stack puts it on every target group it lets the controller bind pods to.
LB_CONTROLLER_CLUSTER_TAG = "elbv2.k8s.aws/cluster"


def target_group_binding_policy(
    partition: str, region: str, account_id: str, vpc_arn: str, cluster_name: str
) -> dict[str, Any]:
    """What the AWS Load Balancer Controller needs when the stack owns the load balancers.

    The controller only binds pods to target groups the stack created
    (TargetGroupBinding), so it may read load-balancing state, register and
    deregister targets in target groups tagged for this cluster (the tag the
    controller's reference policy scopes its changes by), and open the pods'
    security groups to the load balancer inside this VPC: no create or delete.
    """
    return document(
        allow(
            [
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeTags",
                "ec2:DescribeVpcs",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            ["*"],
            sid="ReadLoadBalancingState",
        ),
        allow(
            ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
            [f"arn:{partition}:elasticloadbalancing:{region}:{account_id}:targetgroup/*/*"],
            sid="RegisterPods",
            condition={"StringEquals": {f"aws:ResourceTag/{LB_CONTROLLER_CLUSTER_TAG}": cluster_name}},
        ),
        allow(
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            [f"arn:{partition}:ec2:{region}:{account_id}:security-group/*"],
            sid="OpenPodsToTheLoadBalancer",
            condition={"ArnEquals": {"ec2:Vpc": vpc_arn}},
        ),
    )


def karpenter_controller_policy(
    partition: str,
    region: str,
    account_id: str,
    cluster_name: str,
    node_role_arn: str,
    queue_arn: str,
) -> dict[str, Any]:
    """What Karpenter's controller may do: its reference policy, held to this cluster and node role.

    Statement by statement the controller policies of Karpenter's getting-started
    CloudFormation (v1.14: node lifecycle, IAM integration, EKS integration,
    interruption, resource discovery): it launches, tags and terminates only
    instances, volumes, interfaces and launch templates tagged for this cluster and
    a NodePool; passes only the node role, and only to EC2; manages only instance
    profiles it tagged for this cluster and region; reads this cluster and its
    interruption queue. Left out: the zonal-shift read, as the stack does not turn
    zonal shift on. Subnets and security groups are this account's, where the
    reference allows any account's. Describe calls, ``pricing:GetProducts`` and
    ``iam:ListInstanceProfiles`` support no resource scoping.
    """
    ec2 = f"arn:{partition}:ec2:{region}"
    cluster_tag = f"kubernetes.io/cluster/{cluster_name}"
    owned = {f"aws:ResourceTag/{cluster_tag}": "owned"}
    in_a_nodepool = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    requested = {
        f"aws:RequestTag/{cluster_tag}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
    }
    launched = [
        f"{ec2}:{account_id}:{kind}/*"
        for kind in (
            "fleet",
            "instance",
            "volume",
            "network-interface",
            "launch-template",
            "spot-instances-request",
        )
    ]
    profiles = f"arn:{partition}:iam::{account_id}:instance-profile/*"
    region_tag = "topology.kubernetes.io/region"
    return document(
        allow(
            ["ec2:CreateFleet", "ec2:RunInstances"],
            [
                f"{ec2}::image/*",
                f"{ec2}::snapshot/*",
                f"{ec2}:{account_id}:security-group/*",
                f"{ec2}:{account_id}:subnet/*",
                f"{ec2}:{account_id}:capacity-reservation/*",
                f"{ec2}:{account_id}:placement-group/*",
            ],
            sid="AllowScopedEC2InstanceAccessActions",
        ),
        allow(
            ["ec2:CreateFleet", "ec2:RunInstances"],
            [f"{ec2}:{account_id}:launch-template/*"],
            sid="AllowScopedEC2LaunchTemplateAccessActions",
            condition={"StringEquals": owned, "StringLike": in_a_nodepool},
        ),
        allow(
            ["ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:RunInstances"],
            launched,
            sid="AllowScopedEC2InstanceActionsWithTags",
            condition={
                "StringEquals": requested,
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        ),
        allow(
            ["ec2:CreateTags"],
            launched,
            sid="AllowScopedResourceCreationTagging",
            condition={
                "StringEquals": {
                    **requested,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        ),
        allow(
            ["ec2:CreateTags"],
            [f"{ec2}:{account_id}:instance/*"],
            sid="AllowScopedResourceTagging",
            condition={
                "StringEquals": owned,
                "StringLike": in_a_nodepool,
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        ),
        allow(
            ["ec2:DeleteLaunchTemplate", "ec2:TerminateInstances"],
            [f"{ec2}:{account_id}:instance/*", f"{ec2}:{account_id}:launch-template/*"],
            sid="AllowScopedDeletion",
            condition={"StringEquals": owned, "StringLike": in_a_nodepool},
        ),
        allow(
            ["iam:PassRole"],
            [node_role_arn],
            sid="AllowPassingInstanceRole",
            condition={
                "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
            },
        ),
        allow(
            ["iam:CreateInstanceProfile"],
            [profiles],
            sid="AllowScopedInstanceProfileCreationActions",
            condition={
                "StringEquals": {**requested, f"aws:RequestTag/{region_tag}": region},
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        allow(
            ["iam:TagInstanceProfile"],
            [profiles],
            sid="AllowScopedInstanceProfileTagActions",
            condition={
                "StringEquals": {
                    **owned,
                    f"aws:ResourceTag/{region_tag}": region,
                    **requested,
                    f"aws:RequestTag/{region_tag}": region,
                },
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        ),
        allow(
            [
                "iam:AddRoleToInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
            ],
            [profiles],
            sid="AllowScopedInstanceProfileActions",
            condition={
                "StringEquals": {**owned, f"aws:ResourceTag/{region_tag}": region},
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        allow(
            ["eks:DescribeCluster"],
            [f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}"],
            sid="AllowAPIServerEndpointDiscovery",
        ),
        allow(
            ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            [queue_arn],
            sid="AllowInterruptionQueueActions",
        ),
        allow(
            [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeInstances",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            ["*"],
            sid="AllowRegionalReadActions",
            condition={"StringEquals": {"aws:RequestedRegion": region}},
        ),
        allow(
            ["ssm:GetParameter"],
            [f"arn:{partition}:ssm:{region}::parameter/aws/service/*"],
            sid="AllowSSMReadActions",
        ),
        allow(["pricing:GetProducts"], ["*"], sid="AllowPricingReadActions"),
        allow(["iam:ListInstanceProfiles"], ["*"], sid="AllowUnscopedInstanceProfileListAction"),
        allow(["iam:GetInstanceProfile"], [profiles], sid="AllowInstanceProfileReadActions"),
    )


def karpenter_queue_policy(queue_arn: str, rule_arns: Sequence[str]) -> dict[str, Any]:
    """Who may write to Karpenter's interruption queue: its EventBridge rules, SQS, TLS only.

    Karpenter's reference queue policy allows ``sqs:SendMessage`` to the EventBridge
    and SQS services and denies every call without TLS; here the EventBridge
    statement is held to this stack's rules (``aws:SourceArn``), as the EventBridge
    user guide does for an SQS target.
    """
    return document(
        {
            "Sid": "EventBridgeRulesOfThisStack",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}},
        },
        {
            "Sid": "SqsService",
            "Effect": "Allow",
            "Principal": {"Service": "sqs.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            "Sid": "DenyHTTP",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


# What a team's roles may do in its own model package group: publish versions, read them,
# and approve or reject them (UpdateModelPackage). The actions SageMaker evaluates against a
# group's resource policy (SageMaker's "cross-account model registry" guide).
MODEL_PACKAGE_GROUP_ACTIONS = (
    "sagemaker:CreateModelPackage",
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
    "sagemaker:UpdateModelPackage",
)


def model_package_group_policy(group_arn: str, role_arns: Sequence[str]) -> dict[str, Any]:
    """The group's resource policy: the team's roles, on the group and its versions only."""
    packages = group_arn.replace(":model-package-group/", ":model-package/", 1) + "/*"
    statement = allow(MODEL_PACKAGE_GROUP_ACTIONS, [group_arn, packages], sid="TeamPublishesAndApproves")
    statement["Principal"] = {"AWS": sorted(role_arns)}
    return document(statement)


def drift_job_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    bucket: str,
    model_name: str,
    code_key: str,
    key_arn: str,
    log_stream_prefix: str,
    repository_arns: Sequence[str],
    vpc_arn: str,
    namespace: str,
) -> dict[str, Any]:
    """What one model's drift job may do: read its captures and code, write its reports, publish its metrics.

    Reads are held to the model's capture prefix and the job's code object, listing to those
    two prefixes (``s3:prefix``), writes to ``<model>/drift/reports/``; PutMetricData
    supports no resource, so ``cloudwatch:namespace`` holds it to the drift namespace.
    Processing jobs log to the account's ``/aws/sagemaker/ProcessingJobs`` group, one stream
    per job named after it, so the streams are held to the job's name prefix.
    """
    s3 = f"arn:{partition}:s3:::{bucket}"
    code_dir = code_key.rsplit("/", 1)[0] + "/"  # SageMaker lists an S3Prefix input before it downloads it
    group = log_group_arn(partition, region, account_id, "/aws/sagemaker/ProcessingJobs")
    return document(
        allow(["s3:GetObject"], [f"{s3}/{model_name}/*", f"{s3}/{code_key}"], sid="ReadCapturesAndCode"),
        allow(
            ["s3:ListBucket"],
            [s3],
            sid="ListOwnPrefixes",
            condition={
                "StringLike": {"s3:prefix": [f"{model_name}/", f"{model_name}/*", code_dir, f"{code_dir}*"]}
            },
        ),
        allow(["s3:PutObject"], [f"{s3}/{model_name}/drift/reports/*"], sid="WriteOwnReports"),
        allow(["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], [key_arn], sid="UseCaptureKey"),
        allow(
            ["cloudwatch:PutMetricData"],
            ["*"],
            sid="PublishDriftMetrics",
            condition={"StringEquals": {"cloudwatch:namespace": namespace}},
        ),
        allow(["logs:CreateLogGroup"], [group], sid="ProcessingJobsLogGroup"),
        allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [f"{group}:log-stream:{log_stream_prefix}*"],
            sid="WriteOwnLogStreams",
        ),
        allow(["logs:DescribeLogStreams"], [f"{group}:*"], sid="FindOwnLogStreams"),
        allow(
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            sorted(set(repository_arns)),
            sid="PullImage",
        ),
        allow(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
        *vpc_network_interface_statements(vpc_arn),
    )


def drift_scheduler_policy(
    *, processing_job_arn_pattern: str, job_role_arn: str, key_arn: str
) -> dict[str, Any]:
    """What EventBridge Scheduler may do for one model's drift schedule: start its job, and nothing else.

    CreateProcessingJob (and AddTags, which SageMaker checks for a request's tags) on the
    job's own names; PassRole of exactly the job's role, to SageMaker only; the key that
    encrypts the schedule's input and the job's volume: Decrypt for the input, CreateGrant
    (AWS resources only) for SageMaker to attach the volume.
    """
    return document(
        allow(
            ["sagemaker:AddTags", "sagemaker:CreateProcessingJob"],
            [processing_job_arn_pattern],
            sid="StartOwnDriftJobs",
        ),
        allow(
            ["iam:PassRole"],
            [job_role_arn],
            sid="PassOnlyTheJobRole",
            condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
        allow(["kms:Decrypt", "kms:DescribeKey"], [key_arn], sid="ReadScheduleInput"),
        allow(
            ["kms:CreateGrant"],
            [key_arn],
            sid="EncryptJobVolume",
            condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    )
