"""Every resource rule: a compliant case passes, the same resource with one field changed fails."""

from __future__ import annotations

import copy

import pytest

from infra.components.eks.karpenter_node_pool import node_class_spec, node_pool_spec
from policies.rules import BY_NAME
from tests.policies.conftest import run_resource

TAGS = {
    "environment": "prod",
    "project": "modelfleet",
    "owner": "ml",
    "cost-center": "CC-1",
    "managed-by": "pulumi",
}
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
VARIANT = {
    "variantName": "stable",
    "instanceType": "ml.c5.xlarge",
    "initialInstanceCount": 2,
    "initialVariantWeight": 100,
}
ENDPOINT_CONFIG = {
    "tags": TAGS,
    "kmsKeyArn": "arn:aws:kms:eu-west-1:1:key/a",
    "productionVariants": [VARIANT],
    "dataCaptureConfig": {"enableCapture": True, "initialSamplingPercentage": 20, "kmsKeyId": "arn:k"},
}
CLUSTER = {
    "tags": TAGS,
    "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:k"}},
    "deletionProtection": True,
}
GPU_GROUP = {
    "amiType": "AL2023_x86_64_NVIDIA",
    "instanceTypes": ["g5.xlarge"],
    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
    "launchTemplate": {"id": "lt-1", "version": "1"},
    "scalingConfig": {"minSize": 1, "maxSize": 2, "desiredSize": 1},
    "tags": TAGS,
}
LAUNCH_TEMPLATE = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}, "tags": TAGS}
# Karpenter's objects as the component declares them (the same builders), in the plan's shape.
NODE_POOL_TYPE = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS_TYPE = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NODE_POOL = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "gpu-g5"},
    "spec": node_pool_spec(
        pool="g5", gpu_model="A10G", node_class="gpu-g5", instance_types=["g5.xlarge"], capacity="spot",
        gpu_limit=4, cpu_limit=16, disruption_budget_percent=25,
    ),
}  # fmt: skip
NODE_CLASS = {
    "apiVersion": "karpenter.k8s.aws/v1",
    "kind": "EC2NodeClass",
    "metadata": {"name": "gpu-g5"},
    "spec": node_class_spec(
        ami_alias="al2023@v20260714", node_role_name="node-role", subnet_ids=["subnet-a"],
        security_group_ids=["sg-1"], root_volume_gib=100, tags=TAGS,
    ),
}  # fmt: skip
GUARDED_ENDPOINT = {
    "endpointName": "e",
    "deploymentConfig": {
        "blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type": "CANARY"}},
        "autoRollbackConfiguration": {"alarms": [{"alarmName": "a"}]},
    },
}
ALLOW_LIST = '{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}'


def _with(props: dict, path: str, value) -> dict:
    """``props`` with the value at a dotted path replaced (``None`` deletes it); ``[0]`` indexes lists."""
    changed = copy.deepcopy(props)
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return changed


# (rule, type, compliant props, dotted path to break, broken value, expected message fragment)
CASES = [
    (
        "lb-listener-https",
        "aws:lb/listener:Listener",
        {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
        "sslPolicy",
        "ELBSecurityPolicy-2016-08",
        "allows TLS below 1.2",
    ),
    (
        "lb-listener-https",
        "aws:lb/listener:Listener",
        {"protocol": "HTTP", "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS"}}]},
        "defaultActions",
        [{"type": "forward"}],
        "plain HTTP may only redirect",
    ),
    (
        "eks-version-supported",
        "aws:eks/cluster:Cluster",
        {"version": "1.35"},
        "version",
        "1.31",
        "left EKS extended support on 2026-11-26",
    ),
    (
        "security-group-rule-description",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {"description": "HTTPS from the VPC", "fromPort": 443, "toPort": 443},
        "description",
        "",
        "security group rule has no description",
    ),
    (
        "security-group-rule-description",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        {"description": "to pods"},
        "description",
        None,
        "security group rule has no description",
    ),
    (
        "security-group-rule-description",
        "aws:ec2/securityGroup:SecurityGroup",
        {"description": "endpoints", "ingress": [{"fromPort": 443, "toPort": 443, "description": "HTTPS"}]},
        "ingress.[0].description",
        None,
        "inline ingress rule for ports 443-443 has no description",
    ),
    ("required-tags", "aws:ec2/vpc:Vpc", {"tags": TAGS}, "tags.cost-center", "", "cost-center"),
    (
        "required-tags",
        "aws-native:sagemaker:Endpoint",
        {"tags": [{"key": k, "value": v} for k, v in TAGS.items()]},
        "tags",
        [],
        "owner",
    ),
    ("sagemaker-endpoint-config-kms", CONFIG, ENDPOINT_CONFIG, "kmsKeyArn", None, "no kmsKeyArn"),
    (
        "sagemaker-data-capture-kms",
        CONFIG,
        ENDPOINT_CONFIG,
        "dataCaptureConfig.kmsKeyId",
        None,
        "without a kmsKeyId",
    ),
    (
        "log-group-kms",
        "aws:cloudwatch/logGroup:LogGroup",
        {"kmsKeyId": "arn:k"},
        "kmsKeyId",
        None,
        "not encrypted",
    ),
    (
        "sns-topic-kms",
        "aws:sns/topic:Topic",
        {"kmsMasterKeyId": "arn:k"},
        "kmsMasterKeyId",
        None,
        "no kmsMasterKeyId",
    ),
    ("eks-secrets-kms", "aws:eks/cluster:Cluster", CLUSTER, "encryptionConfig", None, "secrets"),
    (
        "kms-key-rotation",
        "aws:kms/key:Key",
        {"enableKeyRotation": True},
        "enableKeyRotation",
        False,
        "does not rotate",
    ),
    (
        "sagemaker-data-capture-enabled",
        CONFIG,
        ENDPOINT_CONFIG,
        "dataCaptureConfig.enableCapture",
        False,
        "capture is off",
    ),
    (
        "sagemaker-data-capture-enabled",
        CONFIG,
        ENDPOINT_CONFIG,
        "dataCaptureConfig.initialSamplingPercentage",
        0,
        "samples 0 %",
    ),
    (
        "sagemaker-endpoint-config-kms",
        "aws-native:sagemaker:EndpointConfig",
        {
            "kmsKeyId": "arn:k",
            "productionVariants": [{"variantName": "AllTraffic", "instanceType": "ml.m5.xlarge"}],
        },
        "kmsKeyId",
        None,
        "no kmsKeyId",
    ),
    (
        "sagemaker-variant-min-instances",
        "aws-native:sagemaker:EndpointConfig",
        {
            "productionVariants": [
                {
                    "variantName": "AllTraffic",
                    "instanceType": "ml.g5.12xlarge",
                    "initialInstanceCount": 2,
                    "managedInstanceScaling": {
                        "status": "ENABLED",
                        "minInstanceCount": 2,
                        "maxInstanceCount": 4,
                    },
                }
            ]
        },
        "productionVariants.[0].managedInstanceScaling.minInstanceCount",
        1,
        "scale in to 1 instance(s) (minInstanceCount)",
    ),
    (
        "sagemaker-variant-min-instances",
        CONFIG,
        ENDPOINT_CONFIG,
        "productionVariants.[0].initialInstanceCount",
        1,
        "starts with 1",
    ),
    (
        "sagemaker-variant-min-instances",
        "aws:appautoscaling/target:Target",
        {"serviceNamespace": "sagemaker", "minCapacity": 2, "resourceId": "endpoint/e/variant/v"},
        "minCapacity",
        1,
        "scale endpoint/e/variant/v in to 1",
    ),
    (
        "eks-gpu-node-group-tainted",
        "aws:eks/nodeGroup:NodeGroup",
        GPU_GROUP,
        "taints",
        [],
        "nvidia.com/gpu:NoSchedule",
    ),
    (
        "imdsv2-required",
        "aws:ec2/launchTemplate:LaunchTemplate",
        LAUNCH_TEMPLATE,
        "metadataOptions.httpTokens",
        "optional",
        "IMDSv1",
    ),
    (
        "imdsv2-required",
        "aws:ec2/launchTemplate:LaunchTemplate",
        LAUNCH_TEMPLATE,
        "metadataOptions.httpPutResponseHopLimit",
        2,
        "hop limit is 2",
    ),
    (
        "imdsv2-required",
        "aws:eks/nodeGroup:NodeGroup",
        GPU_GROUP,
        "launchTemplate",
        None,
        "no launch template",
    ),
    (
        "eks-gpu-node-group-tainted",
        NODE_POOL_TYPE,
        NODE_POOL,
        "spec.template.spec.taints",
        [],
        "GPU NodePool lacks",
    ),
    ("imdsv2-required", NODE_CLASS_TYPE, NODE_CLASS, "spec.metadataOptions.httpTokens", "optional", "IMDSv1"),
    ("imdsv2-required", NODE_CLASS_TYPE, NODE_CLASS, "spec.metadataOptions", None, "hop limit is None"),
    (
        "allowed-instance-types",
        NODE_POOL_TYPE,
        NODE_POOL,
        "spec.template.spec.requirements.[0].values",
        ["g5.xlarge", "p5.48xlarge"],
        "instance type p5.48xlarge is not on this stack's approved list",
    ),
    (
        "eks-endpoint-private",
        "aws:eks/cluster:Cluster",
        CLUSTER,
        "vpcConfig.endpointPublicAccess",
        True,
        "reachable from the internet",
    ),
    (
        "eks-control-plane-logs",
        "aws:eks/cluster:Cluster",
        CLUSTER,
        "enabledClusterLogTypes",
        ["api"],
        "audit, authenticator",
    ),
    (
        "iam-no-wildcard-actions",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": ALLOW_LIST},
        "policy",
        ALLOW_LIST.replace("s3:GetObject", "s3:*"),
        "'s3:*'",
    ),
    (
        "iam-no-wildcard-actions",
        "aws:iam/role:Role",
        {"inlinePolicies": [{"policy": ALLOW_LIST}]},
        "inlinePolicies",
        [{"policy": ALLOW_LIST.replace('["s3:GetObject"]', '"*"')}],
        "'*'",
    ),
    (
        "alarm-has-action",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {"alarmActions": ["arn:sns"]},
        "alarmActions",
        [],
        "nobody is notified",
    ),
    (
        "alarm-has-action",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {"alarmActions": ["arn:sns"]},
        "actionsEnabled",
        False,
        "disabled",
    ),
    (
        "allowed-instance-types",
        CONFIG,
        ENDPOINT_CONFIG,
        "productionVariants.[0].instanceType",
        "ml.p5.48xlarge",
        "ml.p5.48xlarge",
    ),
    (
        "allowed-instance-types",
        "aws:eks/nodeGroup:NodeGroup",
        GPU_GROUP,
        "instanceTypes",
        ["p4d.24xlarge"],
        "p4d.24xlarge",
    ),
    (
        "deletion-protection",
        "aws:eks/cluster:Cluster",
        CLUSTER,
        "deletionProtection",
        False,
        "deletionProtection",
    ),
    (
        "deletion-protection",
        "aws:lb/loadBalancer:LoadBalancer",
        {"enableDeletionProtection": True},
        "enableDeletionProtection",
        None,
        "enableDeletionProtection",
    ),
    (
        "sagemaker-shared-endpoint-in-vpc",
        "aws-native:sagemaker:EndpointConfig",
        {
            "productionVariants": [{"variantName": "AllTraffic", "instanceType": "ml.g5.12xlarge"}],
            "vpcConfig": {"subnets": ["subnet-a"], "securityGroupIds": ["sg-1"]},
        },
        "vpcConfig",
        None,
        "outside the VPC",
    ),
    (
        "deletion-protection",
        "aws:cloudwatch/logGroup:LogGroup",
        {"deletionProtectionEnabled": True},
        "deletionProtectionEnabled",
        False,
        "deletionProtectionEnabled",
    ),
]


@pytest.mark.parametrize(
    ("rule", "type_", "good", "path", "bad", "expected"), CASES, ids=[f"{c[0]}:{c[3]}" for c in CASES]
)
def test_compliant_passes_and_one_change_fails(rule, type_, good, path, bad, expected):
    assert run_resource(BY_NAME[rule], type_, good) == []
    found = run_resource(BY_NAME[rule], type_, _with(good, path, bad))
    assert found and any(expected in message for message in found), found


def test_rules_ignore_types_they_do_not_cover():
    assert run_resource(BY_NAME["log-group-kms"], "aws:sns/topic:Topic", {}) == []


def test_instance_store_variants_need_no_key_because_sagemaker_refuses_one():
    gpu_only = _with(
        _with(ENDPOINT_CONFIG, "kmsKeyArn", None), "productionVariants.[0].instanceType", "ml.g5.xlarge"
    )
    assert run_resource(BY_NAME["sagemaker-endpoint-config-kms"], CONFIG, gpu_only) == []


def test_serverless_endpoints_are_exempt_from_capture_and_instance_minimums():
    serverless = {"productionVariants": [{"variantName": "v", "serverlessConfig": {"memorySizeInMb": 2048}}]}
    assert run_resource(BY_NAME["sagemaker-data-capture-enabled"], CONFIG, serverless) == []
    assert run_resource(BY_NAME["sagemaker-variant-min-instances"], CONFIG, serverless) == []


def test_policy_config_changes_a_rule_threshold():
    props = _with(ENDPOINT_CONFIG, "productionVariants.[0].initialInstanceCount", 2)
    assert run_resource(BY_NAME["sagemaker-variant-min-instances"], CONFIG, props, {"min_instances": 3})
    tags = {"tags": {**TAGS, "team": ""}}
    assert run_resource(BY_NAME["required-tags"], "aws:ec2/vpc:Vpc", tags, {"tags": ["team"]})
    assert run_resource(BY_NAME["allowed-instance-types"], CONFIG, ENDPOINT_CONFIG, {"allowed": ["ml.g5.*"]})
    wildcard = {"policy": ALLOW_LIST.replace("s3:GetObject", "s3:*")}
    assert (
        run_resource(
            BY_NAME["iam-no-wildcard-actions"],
            "aws:iam/policy:Policy",
            wildcard,
            {"allowed_actions": ["s3:*"]},
        )
        == []
    )


def test_a_components_copy_target_is_not_held_to_the_instance_minimum():
    """Copies are not instances: sagemaker-component-min-copies judges them."""
    copies = {"serviceNamespace": "sagemaker", "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
              "resourceId": "inference-component/c", "minCapacity": 0}  # fmt: skip
    assert (
        run_resource(BY_NAME["sagemaker-variant-min-instances"], "aws:appautoscaling/target:Target", copies)
        == []
    )
    variant = copies | {
        "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "resourceId": "endpoint/e/variant/v",
    }
    assert run_resource(
        BY_NAME["sagemaker-variant-min-instances"], "aws:appautoscaling/target:Target", variant
    )


def test_a_shared_endpoint_on_instance_storage_needs_no_key():
    local = {"productionVariants": [{"variantName": "AllTraffic", "instanceType": "ml.g5.12xlarge"}]}
    assert (
        run_resource(BY_NAME["sagemaker-endpoint-config-kms"], "aws-native:sagemaker:EndpointConfig", local)
        == []
    )


def test_a_models_own_endpoint_config_needs_no_vpc_config_of_its_own():
    """Its Model carries the VPC config; only an endpoint of inference components sets it here."""
    props = {
        "productionVariants": [{"variantName": "stable", "modelName": "m", "instanceType": "ml.c5.xlarge"}]
    }
    rule = BY_NAME["sagemaker-shared-endpoint-in-vpc"]
    assert run_resource(rule, "aws-native:sagemaker:EndpointConfig", props) == []
