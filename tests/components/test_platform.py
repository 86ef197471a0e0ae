"""The Platform root under Pulumi's mocks: the shipped stacks' plans, and one stack's Platform recorded alone.

Per stack, everything hangs under the one Platform, each model's resources under
that model's own components (so a model is added, moved or removed as a unit),
and the models are wired to the stack's shared network, topic, buckets and cluster.
"""

from __future__ import annotations

import json

import pytest

from infra.components.platform import Platform, PlatformArgs
from infra.plan import Plan
from infra.plan.cloud import zone_names
from infra.plan.model import PlannedResource
from infra.settings.platform import PlatformSettings, load_settings
from infra.specs import naming
from infra.stackfiles.read import read_project, read_stack_config
from tests.components.support import ACCOUNT, Recorded, known, outside, record_component, waits_for
from tests.conftest import ROOT, SHIPPED_STACKS, stack_settings

PLATFORM = "modelfleet:platform:Platform"
SAGEMAKER = "modelfleet:sagemaker:ModelEndpoint"
EKS_SERVICE = "modelfleet:eks:EksModelService"  # parent of the model's load balancer and k8s service
SHARED_ENDPOINT = "modelfleet:sagemaker:SharedEndpoint"
INFERENCE_COMPONENT = "modelfleet:sagemaker:InferenceComponent"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
NATIVE_PROVIDER = "pulumi:providers:aws-native"
K8S_PROVIDER = "pulumi:providers:kubernetes"
KARPENTER_POOL = "modelfleet:eks:KarpenterNodePool"
RELEASE = "kubernetes:helm.sh/v3:Release"


def belongs_to(resource: PlannedResource, model: str) -> bool:
    """A model's resource: by its model tag, its Kubernetes namespace, or its logical name."""
    metadata = resource.inputs.get("metadata") if resource.type.startswith("kubernetes:") else None
    by_tag = isinstance(resource.inputs.get("tags"), dict | list) and resource.tags.get("model") == model
    by_namespace = isinstance(metadata, dict) and model in (
        metadata.get("namespace"),
        metadata.get("name") if resource.type == "kubernetes:core/v1:Namespace" else None,
    )
    by_name = resource.name == f"platform-{model}" or resource.name.startswith(f"platform-{model}-")
    return by_tag or by_namespace or by_name


def model_components(plan: Plan, model: str) -> list[PlannedResource]:
    """A model's one component: its endpoint, its EKS service, or its inference component on a shared endpoint."""
    return [
        r
        for r in plan.resources
        if (r.type in (SAGEMAKER, EKS_SERVICE) and r.name == f"platform-{model}")
        or (
            r.type == INFERENCE_COMPONENT
            and r.name.endswith(f"-{model}")
            and r.name.startswith("platform-shared-")
        )
    ]


DRIFT_MONITOR = "modelfleet:observability:DriftMonitor"


def model_parents(plan: Plan, root: PlannedResource) -> set[str]:
    """Where a model's component may sit: under the platform, or under a shared endpoint."""
    return {root.urn} | {r.urn for r in plan.of_type(SHARED_ENDPOINT)}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_one_platform_holds_every_resource_of_the_stack(shipped_plans, stack):
    plan = shipped_plans[stack]
    roots = [r for r in plan.resources if r.parent is None]
    assert [(r.type, r.name) for r in roots] == [(PLATFORM, "platform")]
    assert outside(plan, roots[0]) == []


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_platform_declares_one_component_per_layer_and_per_model(shipped_plans, stack):
    plan, settings = shipped_plans[stack], stack_settings(stack)
    (root,) = plan.of_type(PLATFORM)
    children = sorted((r.type, r.name) for r in plan.children(root.urn))
    expected = [("modelfleet:network:Network", "platform-network")]
    if settings.models:
        expected.append(("modelfleet:observability:AlertsTopic", "platform-alerts"))
        expected.append(("modelfleet:observability:EncryptedLogGroup", "platform-rollout-history"))
    if settings.sagemaker_models:
        expected.append((NATIVE_PROVIDER, "platform-aws-native"))
        expected += [(SAGEMAKER, f"platform-{m.name}") for m in settings.sagemaker_models if not m.placed]
        expected += [(SHARED_ENDPOINT, f"platform-shared-{e.name}") for e in settings.shared_endpoints]
    if settings.teams:
        expected.append(("modelfleet:sagemaker:TeamModelRegistry", "platform-registry"))
    if any(m.data_capture.sampling_percent for m in settings.sagemaker_models):
        expected.append(("modelfleet:storage:DataCaptureBucket", "platform-data-capture"))
    if settings.cluster:
        expected += [
            ("modelfleet:eks:EksCluster", "platform-eks"),
            ("modelfleet:eks:ClusterAddons", "platform-addons"),
            ("modelfleet:storage:AccessLogBucket", "platform-lb-access-logs"),
        ]
        if settings.cluster.capacity == "karpenter":
            expected.append(("modelfleet:eks:Karpenter", "platform-karpenter"))
            expected += [(KARPENTER_POOL, f"platform-gpu-{p.name}") for p in settings.gpu_pools]
        else:
            expected += [("modelfleet:eks:GpuNodePool", f"platform-gpu-{p.name}") for p in settings.gpu_pools]
        if settings.cluster.deploy_runner_in_vpc:
            expected.append(("modelfleet:eks:DeployRunnerAccess", "platform-deploy-runner"))
        if settings.image_mirrors:
            expected.append(("modelfleet:eks:ImageMirrors", "platform-image-mirrors"))
    expected += [(EKS_SERVICE, f"platform-{model.name}") for model in settings.eks_models]
    assert children == sorted(expected)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_per_model_resource_is_parented_under_that_models_components(shipped_plans, stack):
    plan, settings = shipped_plans[stack], stack_settings(stack)
    (root,) = plan.of_type(PLATFORM)
    assert settings.models
    for model in settings.models:
        components = model_components(plan, model.name)
        assert len(components) == 1, model.name
        assert {c.parent for c in components} <= model_parents(plan, root)
        inside = {r.urn for c in components for r in plan.descendants(c.urn)} | {c.urn for c in components}
        mine = [r for r in plan.resources if belongs_to(r, model.name)]
        assert len(mine) > len(components)
        strays = sorted(f"{r.type}::{r.name}" for r in mine if r.urn not in inside)
        assert strays == [], f"{model.name}: resources outside its components"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_no_models_components_hold_another_models_resources(shipped_plans, stack):
    plan, settings = shipped_plans[stack], stack_settings(stack)
    names = [m.name for m in settings.models]
    for model in names:
        for component in model_components(plan, model):
            for resource in plan.descendants(component.urn):
                others = [o for o in names if o != model and belongs_to(resource, o)]
                assert others == [], f"{resource.name} under {component.name} belongs to {others}"


def test_models_are_wired_to_the_stacks_shared_resources(shipped_plans):
    plan = shipped_plans["prod"]
    topic = plan.get("aws:sns/topic:Topic", "platform-alerts-topic").outputs["arn"]
    assert {tuple(a.inputs["alarmActions"]) for a in plan.of_type(ALARM)} == {(topic,)}
    private = sorted(plan.get("aws:ec2/subnet:Subnet", f"platform-network-private-{x}").id for x in "abc")
    gateway = plan.get("aws:ec2/vpcEndpoint:VpcEndpoint", "platform-network-endpoints-s3").outputs[
        "prefixListId"
    ]
    for model in ("fraud-scorer", "support-summarizer"):
        for variant in plan.of_type("aws:sagemaker/model:Model"):
            if variant.name.startswith(f"platform-{model}-"):
                assert sorted(variant.inputs["vpcConfig"]["subnets"]) == private
        egress = plan.get(
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", f"platform-{model}-https-s3"
        )
        assert egress.inputs["prefixListId"] == gateway
    capture = plan.get("aws:s3/bucket:Bucket", "platform-data-capture-bucket").outputs["bucket"]
    config = plan.get(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "platform-fraud-scorer-config"
    )
    assert config.inputs["dataCaptureConfig"]["destinationS3Uri"] == f"s3://{capture}/fraud-scorer"


def test_the_eks_model_uses_the_stacks_cluster_pool_balancer_and_log_destination(shipped_plans):
    plan = shipped_plans["prod"]
    cluster = plan.get("aws:eks/cluster:Cluster", "platform-eks-cluster")
    pool = plan.get("modelfleet:eks:GpuNodePool", "platform-gpu-g5")
    assert (
        plan.get("aws:eks/nodeGroup:NodeGroup", "platform-gpu-g5-nodes").inputs["clusterName"]
        == cluster.inputs["name"]
    )
    groups = {
        g.tags["variant"]: g.outputs["arn"]
        for g in plan.of_type("aws:lb/targetGroup:TargetGroup")
        if g.tags["model"] == "doc-embedder"
    }
    assert set(groups) == {"stable", "canary"}
    for variant, arn in groups.items():
        binding = plan.get(
            "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", f"platform-doc-embedder-{variant}-binding"
        )
        assert binding.inputs["spec"]["targetGroupARN"] == arn
        deployment = plan.get("kubernetes:apps/v1:Deployment", f"platform-doc-embedder-{variant}")
        assert waits_for(plan, deployment, pool)  # GPU nodes before pods that need them
        for release in plan.of_type("kubernetes:helm.sh/v3:Release"):
            assert waits_for(plan, deployment, release), release.name
    destination = plan.get(
        "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "platform-lb-access-logs-destination"
    )
    delivery = plan.get("aws:cloudwatch/logDelivery:LogDelivery", "platform-doc-embedder-lb-access-logs")
    assert delivery.inputs["deliveryDestinationArn"] == destination.outputs["arn"]


def test_stack_outputs_name_what_the_plan_declares(shipped_plans):
    plan = shipped_plans["prod"]
    outputs = plan.outputs
    assert outputs["vpc_id"] == plan.get("aws:ec2/vpc:Vpc", "platform-network-vpc").id
    assert (
        outputs["cluster_name"] == plan.get("aws:eks/cluster:Cluster", "platform-eks-cluster").inputs["name"]
    )
    assert set(outputs["models"]) == {
        "fraud-scorer", "support-summarizer", "support-assistant", "ticket-router", "doc-embedder",
        "fraud-graph",
    }  # fmt: skip
    endpoints = {e.inputs["endpointName"] for e in plan.of_type("aws-native:sagemaker:Endpoint")}
    sagemaker = [m for m in outputs["models"].values() if m["backend"] == "sagemaker"]
    assert {m["endpoint_name"] for m in sagemaker} == endpoints
    components = {
        c.inputs["inferenceComponentName"] for c in plan.of_type("aws-native:sagemaker:InferenceComponent")
    }
    assert {m["inference_component"] for m in sagemaker if "inference_component" in m} == components
    alarm_names = {a.inputs["name"] for a in plan.of_type(ALARM)}
    for model in outputs["models"].values():
        assert set(model["alarm_names"]) <= alarm_names
    alb = plan.get("aws:lb/loadBalancer:LoadBalancer", "platform-doc-embedder-lb-alb")
    assert outputs["models"]["doc-embedder"]["load_balancer_dns"] == alb.outputs["dnsName"]
    runner = plan.get("aws:ec2/securityGroup:SecurityGroup", "platform-deploy-runner-sg")
    assert outputs["deploy_runner_security_group_id"] == runner.id
    history = plan.get("aws:cloudwatch/logGroup:LogGroup", "platform-rollout-history-group")
    assert outputs["rollout_history_log_group"] == history.inputs["name"] == "/modelfleet/prod/rollouts"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_rollout_history_group_is_encrypted_kept_as_long_as_the_logs_and_protected_in_prod(
    shipped_plans, stack
):
    """The day-2 tools write to the name the stack declares: one function gives both."""
    plan, settings = shipped_plans[stack], stack_settings(stack)
    group = plan.get("aws:cloudwatch/logGroup:LogGroup", "platform-rollout-history-group")
    key = plan.get("aws:kms/key:Key", "platform-rollout-history-kms-key")
    assert group.inputs["name"] == naming.rollout_history_log_group(stack)
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert group.inputs["retentionInDays"] == settings.retention.log_days
    assert group.protect == settings.protect_stateful == (stack == "prod")


@pytest.fixture(scope="module")
def prod() -> Recorded:
    """The prod stack's Platform recorded on its own: its registered outputs and providers."""
    settings = stack_settings("prod")

    def program():
        Platform(
            "platform",
            PlatformArgs(
                settings=settings,
                availability_zones=zone_names(settings.region),
                account_id=known(ACCOUNT),
            ),
        )

    return record_component(program, stack="prod", region=settings.region)


def test_platform_registers_the_vpc_id(prod):
    vpc = prod.plan.get("aws:ec2/vpc:Vpc", "platform-network-vpc")
    assert prod.outputs_of(prod.component(PLATFORM)) == {"vpc_id": vpc.id}


def test_kubernetes_objects_use_the_clusters_provider_and_endpoints_the_native_one(prod):
    (k8s_provider,) = prod.plan.of_type(K8S_PROVIDER)
    (native,) = prod.plan.of_type(NATIVE_PROVIDER)
    assert k8s_provider.parent == prod.plan.get("modelfleet:eks:EksCluster", "platform-eks").urn
    on_cluster = [r for r in prod.plan.resources if r.type.startswith("kubernetes:")]
    assert on_cluster and {prod.provider_of(r) for r in on_cluster} == {k8s_provider.urn}
    endpoints = prod.plan.of_type("aws-native:sagemaker:Endpoint")
    assert endpoints and {prod.provider_of(r) for r in endpoints} == {native.urn}
    assert native.inputs["region"] == "eu-west-1"
    others = {prod.provider_of(r) for r in prod.plan.resources if r.custom and r.type.startswith("aws:")}
    assert others == {None}  # the stack's default aws provider, in the stack's region


def karpenter_settings(stack: str = "staging") -> PlatformSettings:
    """A shipped stack's settings with Karpenter as its GPU capacity (and no pool floors, which it refuses)."""
    project = read_project(ROOT)
    values = {k: json.loads(v) if k.startswith("modelfleet:") and v[:1] in "[{" else v
              for k, v in read_stack_config(project, project.stack_file(stack)).values.items()}  # fmt: skip
    values["modelfleet:cluster"] |= {"capacity": "karpenter"}
    values["modelfleet:gpu_pools"] = [
        {k: v for k, v in p.items() if k != "min_size"} for p in values["modelfleet:gpu_pools"]
    ]
    return load_settings(stack, values)


@pytest.fixture(scope="module")
def with_karpenter() -> Recorded:
    """A stack whose GPU capacity is Karpenter's, its Platform recorded on its own."""
    settings = karpenter_settings()

    def program():
        Platform(
            "platform",
            PlatformArgs(
                settings=settings, availability_zones=zone_names(settings.region), account_id=known(ACCOUNT)
            ),
        )

    return record_component(program, stack="staging", region=settings.region)


def test_a_karpenter_stack_has_no_cluster_autoscaler_and_no_gpu_node_groups(with_karpenter):
    plan = with_karpenter.plan
    releases = {r.inputs["name"] for r in plan.of_type(RELEASE)}
    assert "cluster-autoscaler" not in releases and {"karpenter", "karpenter-crd"} <= releases
    identities = {
        a.inputs["serviceAccount"]
        for a in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    assert "cluster-autoscaler" not in identities and "karpenter" in identities
    (system,) = plan.of_type("aws:eks/nodeGroup:NodeGroup")  # only the system nodes, where Karpenter runs
    assert system.inputs["labels"] == {"modelfleet.io/pool": "system"}
    assert plan.of_type("modelfleet:eks:GpuNodePool") == []


def test_a_karpenter_pool_is_limited_to_its_max_size_and_its_models_wait_for_it(with_karpenter):
    plan = with_karpenter.plan
    (pool,) = plan.of_type(KARPENTER_POOL)
    node_pool = plan.get("kubernetes:karpenter.sh/v1:NodePool", "platform-gpu-g6-node-pool")
    # staging's g6 pool: max_size 4 of g6.xlarge / g6.2xlarge (1 GPU; 4 and 8 vCPUs).
    assert node_pool.inputs["spec"]["limits"] == {"nvidia.com/gpu": 4, "cpu": 32}
    assert node_pool.inputs["spec"]["disruption"]["budgets"] == [{"nodes": "33%"}]
    node_class = plan.get("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "platform-gpu-g6-node-class")
    role = plan.get("aws:iam/role:Role", "platform-karpenter-node")
    assert node_class.inputs["spec"]["role"] == role.outputs["name"]
    private = [plan.get("aws:ec2/subnet:Subnet", f"platform-network-private-{x}").id for x in "abc"]
    assert node_class.inputs["spec"]["subnetSelectorTerms"] == [{"id": s} for s in private]
    assert waits_for(plan, node_pool, plan.get("modelfleet:eks:Karpenter", "platform-karpenter"))
    for variant in ("stable", "canary"):
        deployment = plan.get("kubernetes:apps/v1:Deployment", f"platform-doc-embedder-{variant}")
        assert waits_for(plan, deployment, pool)


def test_karpenters_queue_is_named_for_the_stack(with_karpenter):
    queue = with_karpenter.plan.get("aws:sqs/queue:Queue", "platform-karpenter-interruption-queue")
    assert queue.inputs["name"] == "modelfleet-staging-karpenter"
    controller = next(r for r in with_karpenter.plan.of_type(RELEASE) if r.inputs["name"] == "karpenter")
    assert controller.inputs["values"]["settings"]["interruptionQueue"] == queue.outputs["name"]


def test_an_eks_model_captures_to_the_stacks_bucket_and_gets_its_drift_job(shipped_plans):
    """prod's fraud-graph: its pods write only their variants' capture prefixes, encrypted with the
    bucket's key, read the bucket's name from the namespace's ConfigMap, and its drift job sits
    under its own component, as a SageMaker model's does."""
    plan = shipped_plans["prod"]
    bucket = plan.get("aws:s3/bucket:Bucket", "platform-data-capture-bucket").outputs["bucket"]
    key = plan.get("aws:kms/key:Key", "platform-data-capture-kms-key").outputs["arn"]
    config_map = plan.get("kubernetes:core/v1:ConfigMap", "platform-fraud-graph-capture")
    assert config_map.inputs["data"] == {"bucket": bucket, "kms-key-id": key}
    assert config_map.inputs["metadata"] == {"name": "data-capture", "namespace": "fraud-graph"}
    policy = json.loads(
        plan.get("aws:iam/rolePolicy:RolePolicy", "platform-fraud-graph-identity-policy").inputs["policy"]
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["WriteDataCapture"]["Action"] == ["s3:PutObject"]
    assert by_sid["WriteDataCapture"]["Resource"] == [
        f"arn:aws:s3:::{bucket}/fraud-graph/eks/canary/*",
        f"arn:aws:s3:::{bucket}/fraud-graph/eks/stable/*",
    ]
    assert by_sid["EncryptCapture"]["Resource"] == [key]
    for variant in ("stable", "canary"):
        deployment = plan.get("kubernetes:apps/v1:Deployment", f"platform-fraud-graph-{variant}")
        assert waits_for(plan, deployment, config_map)
        env = {e["name"]: e for e in deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["MODELFLEET_CAPTURE_PREFIX"]["value"] == f"fraud-graph/eks/{variant}/"
        assert env["MODELFLEET_CAPTURE_PERCENT"]["value"] == "10"
        assert env["MODELFLEET_CAPTURE_BUCKET"]["valueFrom"]["configMapKeyRef"] == {
            "name": "data-capture",
            "key": "bucket",
        }
    service = plan.get("modelfleet:eks:EksModelService", "platform-fraud-graph")
    monitor = plan.get("modelfleet:observability:DriftMonitor", "platform-fraud-graph-drift")
    assert monitor.parent == service.urn
    lifecycle = plan.get(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "platform-data-capture-lifecycle"
    )
    prefixes = {r["filter"].get("prefix") for r in lifecycle.inputs["rules"]}
    assert "fraud-graph/eks/" in prefixes  # EKS captures expire like SageMaker's; the baseline stays
    assert "fraud-graph/drift/baseline.json" not in prefixes
