"""K8sModelService under Pulumi's mocks: a model's Kubernetes objects, consistent with each other and the ALB."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest

from infra.components.eks.k8s_model_service import K8sModelService, K8sModelServiceArgs
from infra.contracts import serving
from infra.settings.catalog import ModelSettings, parse_model
from infra.specs.k8s_pods import GPU_TOLERATION, SERVICE_ACCOUNT, service_spec
from tests.components.support import ACCOUNT, TAGS, Recorded, known, outside, record_component, waits_for
from tests.settings.test_catalog import DIGEST, model

COMPONENT = "modelfleet:eks:K8sModelService"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT_TYPE = "kubernetes:core/v1:ServiceAccount"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
IDENTITY = "modelfleet:eks:PodIdentity"
PROVIDER = "pulumi:providers:kubernetes"
TARGET_GROUPS = {
    "stable": f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/mf-stable/0123456789abcdef",
    "canary": f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/mf-canary/fedcba9876543210",
}
LB_SUBNETS = ["10.20.0.0/19", "10.20.32.0/19"]
CANARY_IMAGE = DIGEST.replace("ab" * 32, "cd" * 32)
EKS = {"pool": "g5", "gpus": 1, "cpu": 4, "memory_gib": 16, "pdb_min_available": 2,
       "max_inflight_per_replica": 16, "cpu_target_percent": 60}  # fmt: skip


def settings(**changes) -> ModelSettings:
    entry = model(name="doc-embedder", backend="eks", eks=EKS, **changes)
    entry["variants"]["canary"]["image"] = CANARY_IMAGE
    return parse_model(entry, region="eu-west-1")


def build(entry: ModelSettings | None = None) -> Recorded:
    def program():
        provider = k8s.Provider("cluster", kubeconfig="{}")
        addon = k8s.core.v1.Namespace(
            "addon", metadata={"name": "addon"}, opts=pulumi.ResourceOptions(provider=provider)
        )
        K8sModelService(
            "doc",
            K8sModelServiceArgs(
                spec=service_spec(entry or settings(), "eu-west-1"),
                cluster_name=known("modelfleet-test"),
                cluster_arn=known(f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/modelfleet-test"),
                account_id=known(ACCOUNT),
                partition="aws",
                provider=provider,
                target_group_arns={v: known(arn) for v, arn in TARGET_GROUPS.items()},
                load_balancer_security_group_id=known("sg-0lb0000000000000"),
                load_balancer_subnet_cidrs=LB_SUBNETS,
                tags=TAGS,
                depends_on=[addon],
            ),
        )

    return record_component(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def one(recorded: Recorded, type_token: str, name: str) -> dict:
    return recorded.plan.get(type_token, name).inputs


def test_what_the_component_declares_all_inside_it(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert outside(plan, root) == ["kubernetes:core/v1:Namespace::addon", f"{PROVIDER}::cluster"]
    counts = plan.counts()
    assert counts[DEPLOYMENT] == counts[SERVICE] == counts[BINDING] == counts[SCALER] == 2  # per variant
    assert counts[PDB] == counts[NETWORK_POLICY] == counts[POD_MONITOR] == counts[SERVICE_ACCOUNT_TYPE] == 1
    assert counts[NAMESPACE] == 2  # the model's, and the test's stand-in add-on
    assert counts["aws:eks/podIdentityAssociation:PodIdentityAssociation"] == 1
    assert all(
        r.parent == root.urn for r in plan.resources if r.type.startswith("kubernetes:") and r.name != "addon"
    )


def test_every_kubernetes_object_goes_to_the_clusters_provider(recorded):
    (provider,) = recorded.plan.of_type(PROVIDER)
    for resource in recorded.plan.resources:
        if resource.type.startswith("kubernetes:"):
            assert recorded.provider_of(resource) == provider.urn, resource.name


def test_namespace_enables_readiness_gates_and_carries_the_team(recorded):
    namespace = one(recorded, NAMESPACE, "doc-ns")
    assert namespace["metadata"] == {
        "name": "doc-embedder",
        "labels": {"team": "risk", "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"},
    }
    for resource in recorded.plan.resources:
        if resource.type.startswith("kubernetes:") and resource.type != NAMESPACE:
            assert resource.inputs["metadata"]["namespace"] == "doc-embedder", resource.name


def test_pods_get_read_only_artifact_access_through_pod_identity(recorded):
    account = one(recorded, SERVICE_ACCOUNT_TYPE, "doc-sa")
    assert account["metadata"]["name"] == SERVICE_ACCOUNT == "model-server"
    association = one(
        recorded, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "doc-identity-association"
    )
    assert (association["namespace"], association["serviceAccount"]) == ("doc-embedder", "model-server")
    (statement,) = json.loads(
        one(recorded, "aws:iam/rolePolicy:RolePolicy", "doc-identity-policy")["policy"]
    )["Statement"]
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == ["arn:aws:s3:::artifacts/fraud/v1/*", "arn:aws:s3:::artifacts/fraud/v2/*"]


def test_deployments_select_their_own_pods_on_the_gpu_pool(recorded):
    for variant, image, data in (
        ("stable", DIGEST, "s3://artifacts/fraud/v1/model.tar.gz"),
        ("canary", CANARY_IMAGE, "s3://artifacts/fraud/v2/model.tar.gz"),
    ):
        deployment = one(recorded, DEPLOYMENT, f"doc-{variant}")
        assert deployment["metadata"]["name"] == f"doc-embedder-{variant}"
        spec = deployment["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"] == {"matchLabels": labels}  # the API refuses a selector the template misses
        assert labels == {
            "app.kubernetes.io/name": "doc-embedder",
            "model": "doc-embedder",
            "variant": variant,
        }
        assert spec["replicas"] == 2
        assert spec["strategy"] == {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
        pod = spec["template"]["spec"]
        assert pod["serviceAccountName"] == "model-server"
        assert pod["tolerations"] == [GPU_TOLERATION]
        assert pod["nodeSelector"] == {"modelfleet.io/pool": "g5"}
        (server,) = pod["containers"]
        assert server["image"] == image
        assert server["ports"] == [{"name": "http", "containerPort": serving.PORT}]
        resources = server["resources"]
        assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == "1"
        assert (resources["requests"]["cpu"], resources["requests"]["memory"]) == ("4.0", "16.0Gi")
        (fetch,) = pod["initContainers"]
        assert data in fetch["command"]


def test_deployments_start_after_their_identity_the_addons_and_the_namespace(recorded):
    plan = recorded.plan
    addon = plan.get(NAMESPACE, "addon")
    for variant in ("stable", "canary"):
        deployment = plan.get(DEPLOYMENT, f"doc-{variant}")
        assert waits_for(plan, deployment, plan.get(IDENTITY, "doc-identity"))
        assert waits_for(plan, deployment, addon)
        assert waits_for(plan, deployment, plan.get(NAMESPACE, "doc-ns"))


def test_services_front_their_variant_on_the_named_port(recorded):
    for variant in ("stable", "canary"):
        service = one(recorded, SERVICE, f"doc-{variant}")
        labels = one(recorded, DEPLOYMENT, f"doc-{variant}")["spec"]["template"]["metadata"]["labels"]
        assert service["metadata"]["name"] == f"doc-embedder-{variant}"
        assert service["spec"]["selector"] == labels
        assert service["spec"]["ports"] == [{"name": "http", "port": serving.PORT, "targetPort": "http"}]


def test_bindings_attach_each_service_to_its_target_group_from_the_balancer_only(recorded):
    plan = recorded.plan
    for variant in ("stable", "canary"):
        binding = plan.get(BINDING, f"doc-{variant}-binding")
        spec = binding.inputs["spec"]
        assert binding.inputs["apiVersion"] == "elbv2.k8s.aws/v1beta1"
        assert binding.inputs["kind"] == "TargetGroupBinding"
        assert spec["targetGroupARN"] == TARGET_GROUPS[variant]
        assert spec["targetType"] == "ip"  # the target groups are of type ip
        service = plan.get(SERVICE, f"doc-{variant}").inputs
        assert spec["serviceRef"] == {
            "name": service["metadata"]["name"],
            "port": service["spec"]["ports"][0]["port"],
        }
        assert spec["networking"] == {"ingress": [{
            "from": [{"securityGroup": {"groupID": "sg-0lb0000000000000"}}],
            "ports": [{"protocol": "TCP", "port": serving.PORT}],
        }]}  # fmt: skip
        assert waits_for(plan, binding, plan.get(NAMESPACE, "addon"))  # the controller's CRD


def test_keda_scales_each_deployment_on_cpu_and_in_flight_requests(recorded):
    plan = recorded.plan
    for variant, low in (("stable", 2), ("canary", 2)):
        scaler = plan.get(SCALER, f"doc-{variant}-scaler")
        spec = scaler.inputs["spec"]
        assert scaler.inputs["metadata"] == {"name": f"doc-embedder-{variant}", "namespace": "doc-embedder"}
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"doc-embedder-{variant}",
        }
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (low, 6)
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        triggers = {t["type"]: t for t in spec["triggers"]}
        assert triggers["cpu"] == {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "60"}}
        inflight = triggers["prometheus"]
        assert inflight["metricType"] == "AverageValue"  # summed over pods, divided per replica
        assert inflight["metadata"] == {
            "serverAddress": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
            "query": f'sum({serving.METRIC_INFLIGHT}{{namespace="doc-embedder",variant="{variant}"}})',
            "threshold": "16",  # KEDA's metadata values are strings
        }
        behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior == {"scaleDown": {"stabilizationWindowSeconds": 300}}
        assert waits_for(plan, scaler, plan.get(NAMESPACE, "addon"))  # KEDA's CRDs first


def test_canary_scaling_floor_is_the_canarys_own_count():
    variants = model()["variants"]
    variants["canary"]["instance_count"] = 1
    recorded = build(settings(variants=variants))
    canary = recorded.plan.get(SCALER, "doc-canary-scaler").inputs["spec"]
    stable = recorded.plan.get(SCALER, "doc-stable-scaler").inputs["spec"]
    assert (canary["minReplicaCount"], stable["minReplicaCount"]) == (1, 2)


def test_pdb_keeps_the_configured_pods_of_this_model(recorded):
    pdb = one(recorded, PDB, "doc-pdb")
    assert pdb["metadata"]["name"] == "doc-embedder"
    assert pdb["spec"] == {"minAvailable": 2, "selector": {"matchLabels": {"model": "doc-embedder"}}}
    total = sum(one(recorded, DEPLOYMENT, f"doc-{v}")["spec"]["replicas"] for v in ("stable", "canary"))
    assert pdb["spec"]["minAvailable"] < total  # or no node could ever be drained


def test_network_policy_admits_the_balancer_subnets_and_monitoring_on_the_serving_port_only(recorded):
    policy = one(recorded, NETWORK_POLICY, "doc-ingress")
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"model": "doc-embedder"}}
    assert spec["policyTypes"] == ["Ingress"]
    port = [{"protocol": "TCP", "port": serving.PORT}]
    balancer, monitoring = spec["ingress"]
    assert balancer == {"from": [{"ipBlock": {"cidr": c}} for c in LB_SUBNETS], "ports": port}
    assert balancer["from"]  # an empty from would admit every source
    assert monitoring == {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": port,
    }


def test_pod_monitor_scrapes_the_named_port_at_the_metrics_path(recorded):
    monitor = recorded.plan.get(POD_MONITOR, "doc-metrics")
    spec = monitor.inputs["spec"]
    assert monitor.inputs["apiVersion"] == "monitoring.coreos.com/v1"
    assert spec["selector"] == {"matchLabels": {"model": "doc-embedder"}}
    assert spec["podMetricsEndpoints"] == [{"port": "http", "path": serving.METRICS_PATH, "interval": "15s"}]
    assert spec["podTargetLabels"] == ["model", "variant"]
    assert waits_for(recorded.plan, monitor, recorded.plan.get(NAMESPACE, "addon"))  # its CRD


def test_registers_the_namespace(recorded):
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {"namespace": "doc-embedder"}
