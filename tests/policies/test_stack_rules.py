"""Stack rules link resources across the stack: each gets a compliant stack and one broken link."""

from __future__ import annotations

import json

import pytest

from infra.components.eks.karpenter_node_pool import node_pool_spec
from policies.rules import ALL, BY_NAME
from tests.policies.conftest import resource, run_stack
from tests.policies.test_resource_rules import CASES, GUARDED_ENDPOINT

BUCKET = "data-bucket-1"


def _bucket_stack(**override):
    parts = {
        "bucket": resource("aws:s3/bucket:Bucket", {"bucket": BUCKET}, "bucket"),
        "sse": resource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {
                "bucket": BUCKET,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": "arn:k",
                        }
                    }
                ],
            },
            "sse",
        ),
        "block": resource(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {
                "bucket": BUCKET,
                **dict.fromkeys(
                    ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"],
                    True,
                ),
            },
            "block",
        ),
        "versioning": resource(
            "aws:s3/bucketVersioning:BucketVersioning",
            {"bucket": BUCKET, "versioningConfiguration": {"status": "Enabled"}},
            "versioning",
        ),
        "policy": resource(
            "aws:s3/bucketPolicy:BucketPolicy",
            {
                "bucket": BUCKET,
                "policy": json.dumps(
                    {
                        "Statement": [
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        ]
                    }
                ),
            },
            "policy",
        ),
    }
    parts.update(override)
    return [r for r in parts.values() if r is not None]


def _sagemaker_stack(*, policy=True, target=True, team="risk", instance="ml.g5.xlarge", max_capacity=4):
    tags = {"model": "fraud", "team": team}
    rid = "endpoint/mf-fraud/variant/stable"
    found = [
        resource(
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            {
                "name": "cfg-1",
                "tags": tags,
                "productionVariants": [
                    {"variantName": "stable", "instanceType": instance, "initialInstanceCount": 2}
                ],
            },
            "config",
        ),
        resource(
            "aws-native:sagemaker:Endpoint",
            {
                "endpointName": "mf-fraud",
                "endpointConfigName": "cfg-1",
                "tags": [{"key": "model", "value": "fraud"}],
            },
            "endpoint",
        ),
    ]
    if target:
        found.append(
            resource(
                "aws:appautoscaling/target:Target",
                {
                    "resourceId": rid,
                    "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "serviceNamespace": "sagemaker",
                    "minCapacity": 2,
                    "maxCapacity": max_capacity,
                },
                "target",
            )
        )
    if policy:
        found.append(
            resource(
                "aws:appautoscaling/policy:Policy",
                {"resourceId": rid, "policyType": "TargetTrackingScaling"},
                "policy",
            )
        )
    return found


def _eks_gpu_stack(max_replicas=5, gpus="1", team="search", keda=False, pool=None):
    """A team's GPU Deployment and its scaler, on ``pool`` (a node group or NodePool resource) if given."""
    return [
        *([pool] if pool else []),
        resource(
            "kubernetes:core/v1:Namespace", {"metadata": {"name": "embedder", "labels": {"team": team}}}, "ns"
        ),
        resource(
            "kubernetes:apps/v1:Deployment",
            {
                "metadata": {"name": "embedder-stable", "namespace": "embedder"},
                "spec": {
                    "replicas": 2,
                    "template": {
                        "spec": {
                            "containers": [{"resources": {"limits": {"nvidia.com/gpu": gpus}}}],
                            "nodeSelector": {"modelfleet.io/pool": "g5"},
                        }
                    },
                },
            },
            "deployment",
        ),
        resource(
            "kubernetes:keda.sh/v1alpha1:ScaledObject",
            {
                "metadata": {"namespace": "embedder"},
                "spec": {"maxReplicaCount": max_replicas, "scaleTargetRef": {"name": "embedder-stable"}},
            },
            "scaler",
        )
        if keda
        else resource(
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            {
                "metadata": {"namespace": "embedder"},
                "spec": {"maxReplicas": max_replicas, "scaleTargetRef": {"name": "embedder-stable"}},
            },
            "hpa",
        ),
    ]


def _ingress(cidr, port, *, public=True):
    return [
        resource(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {
                "securityGroupId": "sg-1",
                "cidrIpv4": cidr,
                "fromPort": port,
                "toPort": port,
                "ipProtocol": "tcp",
            },
            "in",
        ),
        resource(
            "aws:lb/loadBalancer:LoadBalancer", {"internal": not public, "securityGroups": ["sg-1"]}, "alb"
        ),
    ]


def _own_endpoint(props=GUARDED_ENDPOINT):
    return [resource("aws-native:sagemaker:Endpoint", props | {"endpointConfigName": "cfg-1"}, "endpoint")]


ROLLING = {
    "rollingUpdatePolicy": {
        "maximumBatchSize": {"type": "COPY_COUNT", "value": 1},
        "waitIntervalInSeconds": 300,
    },
    "autoRollbackConfiguration": {"alarms": [{"alarmName": "mf-llm-5xx"}]},
}


def _shared_stack(*, deployment=ROLLING, min_copies=2, acknowledged=None, model_name="llm"):
    """A shared endpoint (no blue/green of its own), one component and its copy target."""
    tags = [{"key": "model", "value": "llm"}, {"key": "team", "value": "cx"}]
    if acknowledged is not None:
        tags.append({"key": "scale-to-zero-acknowledged", "value": acknowledged})
    variant = {"variantName": "AllTraffic", "instanceType": "ml.g5.12xlarge", "initialInstanceCount": 2}
    if model_name is None:
        variant["modelName"] = "m"
    component = {"endpointName": "mf-shared", "inferenceComponentName": "mf-llm", "tags": tags}
    if deployment is not None:
        component["deploymentConfig"] = deployment
    return [
        resource("aws-native:sagemaker:EndpointConfig", {"endpointConfigName": "cfg-s", "productionVariants": [variant]}, "config"),
        resource("aws-native:sagemaker:Endpoint", {"endpointName": "mf-shared", "endpointConfigName": "cfg-s"}, "endpoint"),
        resource("aws-native:sagemaker:InferenceComponent", component, "component"),
        resource("aws:appautoscaling/target:Target", {
            "serviceNamespace": "sagemaker", "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
            "resourceId": "inference-component/mf-llm", "minCapacity": min_copies, "maxCapacity": 4}, "copies"),
    ]  # fmt: skip


def _without(mapping: dict, *path: str) -> dict:
    changed = json.loads(json.dumps(mapping))
    node = changed
    for key in path[:-1]:
        node = node[key]
    node.pop(path[-1])
    return changed


STACK_CASES = [
    (
        "sagemaker-deployment-guardrails",
        _own_endpoint(),
        _own_endpoint({"endpointName": "e"}),
        "no deployment guardrail",
    ),
    (
        "sagemaker-deployment-guardrails",
        _own_endpoint(),
        _own_endpoint(_without(GUARDED_ENDPOINT, "deploymentConfig", "autoRollbackConfiguration")),
        "0 alarms",
    ),
    (
        "sagemaker-deployment-guardrails",
        _shared_stack(),
        _shared_stack(deployment=None),
        "without a rolling update",
    ),
    (
        "sagemaker-deployment-guardrails",
        _shared_stack(),
        _shared_stack(deployment=_without(ROLLING, "rollingUpdatePolicy", "waitIntervalInSeconds")),
        "sets no waitIntervalInSeconds",
    ),
    (
        "sagemaker-deployment-guardrails",
        _shared_stack(),
        _shared_stack(deployment=_without(ROLLING, "rollingUpdatePolicy", "maximumBatchSize")),
        "sets no maximumBatchSize",
    ),
    (
        "sagemaker-deployment-guardrails",
        _shared_stack(),
        _shared_stack(deployment={**ROLLING, "autoRollbackConfiguration": {"alarms": []}}),
        "rolls back on 0 alarms",
    ),
    (
        "sagemaker-component-min-copies",
        _shared_stack(),
        _shared_stack(min_copies=0),
        "can scale in to 0 copies",
    ),
    (
        "sagemaker-component-min-copies",
        _shared_stack(min_copies=0, acknowledged="callers retry while a copy starts"),
        _shared_stack(min_copies=0, acknowledged=" "),
        "scale_to_zero_acknowledged",
    ),
    ("s3-bucket-kms", _bucket_stack(), _bucket_stack(sse=None), "not encrypted"),
    (
        "s3-public-access-blocked",
        _bucket_stack(),
        _bucket_stack(
            block=resource(
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                {"bucket": BUCKET, "blockPublicAcls": True},
                "block",
            )
        ),
        "public access",
    ),
    ("s3-versioning", _bucket_stack(), _bucket_stack(versioning=None), "not versioned"),
    (
        "s3-tls-only",
        _bucket_stack(),
        _bucket_stack(
            policy=resource("aws:s3/bucketPolicy:BucketPolicy", {"bucket": BUCKET, "policy": "{}"}, "policy")
        ),
        "without TLS",
    ),
    (
        "sagemaker-variant-autoscaling",
        _sagemaker_stack(),
        _sagemaker_stack(policy=False),
        "no scaling policy",
    ),
    (
        "sagemaker-variant-autoscaling",
        _sagemaker_stack(),
        _sagemaker_stack(target=False, policy=False),
        "no scalable target",
    ),
    ("no-open-ingress", _ingress("0.0.0.0/0", 443), _ingress("0.0.0.0/0", 80), "ports 80-80"),
    (
        "no-open-ingress",
        _ingress("10.0.0.0/16", 80, public=False),
        _ingress("0.0.0.0/0", 443, public=False),
        "security group sg-1",
    ),
]


@pytest.mark.parametrize(
    ("rule", "good", "bad", "expected"), STACK_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(STACK_CASES)]
)
def test_compliant_stack_passes_and_broken_link_fails(rule, good, bad, expected):
    assert run_stack(BY_NAME[rule], good) == []
    found = run_stack(BY_NAME[rule], bad)
    assert found and any(expected in message for message in found), found


def test_a_variant_drained_to_weight_zero_needs_no_autoscaling():
    """Promotion drains the canary to weight 0 and drops its target before removing it."""
    [config, endpoint] = _sagemaker_stack(target=False, policy=False)
    config.props["productionVariants"][0]["initialVariantWeight"] = 0
    assert run_stack(BY_NAME["sagemaker-variant-autoscaling"], [config, endpoint]) == []


def test_gpu_quota_counts_sagemaker_gpus_at_autoscaling_max():
    quota = {"quotas": {"risk": 4}}
    assert run_stack(BY_NAME["team-gpu-quota"], _sagemaker_stack(max_capacity=4), quota) == []
    [message] = run_stack(BY_NAME["team-gpu-quota"], _sagemaker_stack(max_capacity=5), quota)
    assert "team risk can scale to 5 GPUs" in message and "quota is 4" in message


def test_gpu_quota_counts_deployments_at_hpa_max_with_namespace_team():
    quota = {"quotas": {"search": 10}}
    assert run_stack(BY_NAME["team-gpu-quota"], _eks_gpu_stack(max_replicas=5, gpus="2"), quota) == []
    [message] = run_stack(BY_NAME["team-gpu-quota"], _eks_gpu_stack(max_replicas=6, gpus="2"), quota)
    assert "team search can scale to 12 GPUs" in message


def test_gpu_quota_counts_deployments_at_the_keda_scalers_max():
    quota = {"quotas": {"search": 10}}
    assert (
        run_stack(BY_NAME["team-gpu-quota"], _eks_gpu_stack(max_replicas=5, gpus="2", keda=True), quota) == []
    )
    [message] = run_stack(
        BY_NAME["team-gpu-quota"], _eks_gpu_stack(max_replicas=6, gpus="2", keda=True), quota
    )
    assert "team search can scale to 12 GPUs" in message


def _node_pool(gpu_limit, labels=None):
    """A Karpenter NodePool for pool g5, as the component declares it, with ``gpu_limit`` GPUs at most."""
    spec = node_pool_spec(
        pool="g5", gpu_model="A10G", node_class="gpu-g5", instance_types=["g5.2xlarge"], capacity="on_demand",
        gpu_limit=gpu_limit, cpu_limit=8 * gpu_limit, disruption_budget_percent=25,
    )  # fmt: skip
    if labels is not None:
        spec["template"]["metadata"]["labels"] = labels
    return resource(
        "kubernetes:karpenter.sh/v1:NodePool", {"metadata": {"name": "gpu-g5"}, "spec": spec}, "pool"
    )


def _node_group(max_size, instance_types=("g5.2xlarge",)):
    props = {"labels": {"modelfleet.io/pool": "g5"}, "instanceTypes": list(instance_types),
             "scalingConfig": {"minSize": 0, "maxSize": max_size, "desiredSize": 0}}  # fmt: skip
    return resource("aws:eks/nodeGroup:NodeGroup", props, "group")


def test_gpu_quota_counts_a_karpenter_pools_gpus_at_most_at_its_nodepool_limit():
    """12 GPUs of Deployments (6 replicas x 2) on a NodePool that may hold 12, or only 8."""
    quota, rule = {"quotas": {"search": 8}}, BY_NAME["team-gpu-quota"]
    [message] = run_stack(rule, _eks_gpu_stack(max_replicas=6, gpus="2", pool=_node_pool(12)), quota)
    assert "team search can scale to 12 GPUs in this stack; its quota is 8" in message
    assert run_stack(rule, _eks_gpu_stack(max_replicas=6, gpus="2", pool=_node_pool(8)), quota) == []
    # A NodePool for another pool, or without a GPU limit, caps nothing.
    other = _node_pool(8, labels={"modelfleet.io/pool": "p5"})
    assert run_stack(rule, _eks_gpu_stack(max_replicas=6, gpus="2", pool=other), quota) != []
    unlimited = _node_pool(8)
    del unlimited.props["spec"]["limits"]["nvidia.com/gpu"]
    assert run_stack(rule, _eks_gpu_stack(max_replicas=6, gpus="2", pool=unlimited), quota) != []


def test_gpu_quota_counts_a_node_groups_gpus_at_most_at_max_size_times_its_largest_type():
    quota, rule = {"quotas": {"search": 8}}, BY_NAME["team-gpu-quota"]
    assert run_stack(rule, _eks_gpu_stack(max_replicas=6, gpus="2", pool=_node_group(8)), quota) == []
    [message] = run_stack(rule, _eks_gpu_stack(max_replicas=6, gpus="2", pool=_node_group(9)), quota)
    assert "team search can scale to 9 GPUs" in message
    # g5.12xlarge has 4 GPUs: 3 such nodes hold 12.
    bigger = _node_group(3, ("g5.2xlarge", "g5.12xlarge"))
    [message] = run_stack(rule, _eks_gpu_stack(max_replicas=6, gpus="2", pool=bigger), quota)
    assert "team search can scale to 12 GPUs" in message


def test_gpu_quota_defaults_to_zero_for_unlisted_teams_and_ignores_cpu():
    assert run_stack(BY_NAME["team-gpu-quota"], _sagemaker_stack(team="newcomers")) != []
    assert run_stack(BY_NAME["team-gpu-quota"], _sagemaker_stack(instance="ml.c5.xlarge")) == []
    assert (
        run_stack(BY_NAME["team-gpu-quota"], _sagemaker_stack(team="newcomers"), {"default_quota": 8}) == []
    )


def test_instance_quota_counts_variants_and_replicas_at_max_gpu_or_not():
    quota = {"quotas": {"risk": 4, "search": 5}}
    assert run_stack(BY_NAME["team-instance-quota"], _sagemaker_stack(instance="ml.c5.xlarge"), quota) == []
    [message] = run_stack(BY_NAME["team-instance-quota"], _sagemaker_stack(max_capacity=5), quota)
    assert message == (
        "team risk can scale to 5 instances or replicas in this stack; its quota is 4 "
        "(policy config team-instance-quota.quotas.risk)"
    )
    assert run_stack(BY_NAME["team-instance-quota"], _eks_gpu_stack(max_replicas=5), quota) == []
    [message] = run_stack(BY_NAME["team-instance-quota"], _eks_gpu_stack(max_replicas=6), quota)
    assert "team search can scale to 6 instances or replicas" in message


def test_instance_quota_gives_unlisted_teams_the_default():
    assert (
        run_stack(BY_NAME["team-instance-quota"], _sagemaker_stack(team="newcomers", max_capacity=20)) == []
    )
    assert (
        run_stack(BY_NAME["team-instance-quota"], _sagemaker_stack(team="newcomers", max_capacity=21)) != []
    )
    assert run_stack(BY_NAME["team-instance-quota"], _sagemaker_stack(max_capacity=2), {"default_quota": 1})


def test_a_shared_endpoint_takes_no_blue_green_guardrail_but_an_endpoint_with_models_does():
    shared = _shared_stack()
    assert run_stack(BY_NAME["sagemaker-deployment-guardrails"], shared) == []  # its endpoint has none
    with_model = _shared_stack(model_name=None)  # the configuration's variant names a model: not shared
    found = run_stack(BY_NAME["sagemaker-deployment-guardrails"], with_model)
    assert any("no deployment guardrail" in m for m in found), found


def test_a_component_counts_its_gpus_at_max_copies_and_no_instances():
    stack = _shared_stack()
    stack[2].props["specification"] = {
        "computeResourceRequirements": {"numberOfAcceleratorDevicesRequired": 2}
    }
    [message] = run_stack(BY_NAME["team-gpu-quota"], stack, {"quotas": {"cx": 7}})
    assert "team cx can scale to 8 GPUs" in message  # 2 per copy x maxCapacity 4
    assert run_stack(BY_NAME["team-gpu-quota"], stack, {"quotas": {"cx": 8}}) == []
    assert run_stack(BY_NAME["team-instance-quota"], stack, {"default_quota": 0}) == []


def test_every_rule_has_a_compliant_and_a_non_compliant_case():
    covered = {c[0] for c in CASES} | {c[0] for c in STACK_CASES} | {"team-gpu-quota", "team-instance-quota"}
    assert covered == {rule.name for rule in ALL}
    assert len(ALL) >= 20
    assert all(rule.description and rule.enforcement_level for rule in ALL)


@pytest.mark.parametrize(
    "rule",
    [
        resource(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {
                "type": "ingress",
                "securityGroupId": "sg-1",
                "cidrBlocks": ["0.0.0.0/0"],
                "fromPort": 22,
                "toPort": 22,
            },
            "legacy",
        ),
        resource(
            "aws:ec2/securityGroup:SecurityGroup",
            {"id": "sg-1", "ingress": [{"ipv6CidrBlocks": ["::/0"], "fromPort": 22, "toPort": 22}]},
            "inline",
        ),
    ],
    ids=["security-group-rule", "inline-ingress"],
)
def test_open_ingress_is_found_in_every_shape_the_provider_takes(rule):
    [message] = run_stack(BY_NAME["no-open-ingress"], [rule])
    assert "ports 22-22" in message
    egress = resource(rule.resource_type, {**rule.props, "type": "egress", "ingress": []}, "out")
    assert run_stack(BY_NAME["no-open-ingress"], [egress]) == []
