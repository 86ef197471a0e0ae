"""ClusterAddons under Pulumi's mocks: pinned Helm releases, their identities and the values that matter."""

from __future__ import annotations

import json

import pulumi_kubernetes as k8s
import pytest

from infra.components.eks.cluster_addons import ClusterAddons, ClusterAddonsArgs
from infra.contracts import eks_versions
from infra.specs import image_digests
from infra.specs.k8s_pods import GPU_TOLERATION
from infra.specs.model_scaling import MONITORING, PROMETHEUS_URL
from tests.components.support import (
    ACCOUNT,
    TAGS,
    Recorded,
    by_name,
    known,
    outside,
    record_component,
    waits_for,
)

COMPONENT = "modelfleet:eks:ClusterAddons"
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
IDENTITY = "modelfleet:eks:PodIdentity"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PROVIDER = "pulumi:providers:kubernetes"
CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/modelfleet-test"
VPC_ARN = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-1"
NAMESPACES = {
    "nvidia-device-plugin": "kube-system",
    "aws-load-balancer-controller": "kube-system",
    "cluster-autoscaler": "kube-system",
    "metrics-server": "kube-system",
    "kube-prometheus-stack": "monitoring",
    "dcgm-exporter": "monitoring",
    "keda": "kube-system",
}


def build(version: str = "1.35", cluster_autoscaler: bool = True) -> Recorded:
    def program():
        provider = k8s.Provider("cluster", kubeconfig="{}")
        ClusterAddons(
            "addons",
            ClusterAddonsArgs(
                cluster_name=known("modelfleet-test"),
                cluster_arn=known(CLUSTER_ARN),
                kubernetes_version=version,
                region="eu-west-1",
                partition="aws",
                account_id=known(ACCOUNT),
                vpc_id=known("vpc-1"),
                vpc_arn=known(VPC_ARN),
                provider=provider,
                tags=TAGS,
                cluster_autoscaler=cluster_autoscaler,
            ),
        )

    return record_component(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def releases(recorded) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in recorded.plan.of_type(RELEASE)}


def test_what_the_component_declares_all_inside_it(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert outside(plan, root, except_types=[PROVIDER]) == []
    assert sorted((r.type, r.name) for r in plan.children(root.urn)) == sorted(
        [(NAMESPACE, "addons-monitoring"), (CONFIG_MAP, "addons-serving-dashboard"),
         (IDENTITY, "addons-lb-controller"), (IDENTITY, "addons-cluster-autoscaler")]
        + [(RELEASE, f"addons-{chart}") for chart in NAMESPACES]
    )  # fmt: skip
    assert len(plan.of_type(ASSOCIATION)) == 2


def test_every_kubernetes_object_goes_to_the_clusters_provider(recorded):
    (provider,) = recorded.plan.of_type(PROVIDER)
    on_cluster = [r for r in recorded.plan.resources if r.type.startswith("kubernetes:")]
    assert len(on_cluster) == len(NAMESPACES) + 2
    for resource in on_cluster:
        assert recorded.provider_of(resource) == provider.urn, resource.name


def test_every_release_is_pinned_to_its_chart_repository_and_version(releases):
    # Every chart but Karpenter's, which its own component installs in a Karpenter cluster.
    assert (
        set(releases)
        == set(NAMESPACES)
        == set(eks_versions.CHARTS) - set(eks_versions.CAPACITY_CHARTS["karpenter"])
    )
    for name, inputs in releases.items():
        chart = eks_versions.CHARTS[name]
        assert inputs["chart"] == chart.name
        assert inputs["version"] == chart.version
        assert inputs["repositoryOpts"] == {"repo": chart.repository}
        assert inputs["repositoryOpts"]["repo"].startswith("https://")
        assert inputs["namespace"] == NAMESPACES[name]
        assert inputs["atomic"] is True and inputs["timeout"] == 900


def test_releases_in_monitoring_wait_for_its_namespace_and_the_adapters_for_prometheus(recorded):
    by_release = {r.inputs["name"]: r for r in recorded.plan.of_type(RELEASE)}
    namespace = recorded.plan.get(NAMESPACE, "addons-monitoring")
    assert namespace.inputs["metadata"] == {"name": "monitoring"}
    assert namespace.urn in by_release["kube-prometheus-stack"].depends_on
    prometheus = by_release["kube-prometheus-stack"].urn
    assert prometheus in by_release["dcgm-exporter"].depends_on  # ServiceMonitor is its CRD
    assert prometheus in by_release["keda"].depends_on  # its ScaledObjects query Prometheus
    assert namespace.urn in recorded.plan.get(CONFIG_MAP, "addons-serving-dashboard").depends_on


def test_load_balancer_controller_values_and_identity(recorded, releases):
    values = releases["aws-load-balancer-controller"]["values"]
    # Pods cannot reach IMDS (hop limit 1): region and VPC must be given.
    assert (values["clusterName"], values["region"], values["vpcId"]) == (
        "modelfleet-test",
        "eu-west-1",
        "vpc-1",
    )
    assert values["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller"}
    assert values["enableServiceMutatorWebhook"] is False
    assert values["replicaCount"] == 2
    association = recorded.plan.get(ASSOCIATION, "addons-lb-controller-association").inputs
    assert (association["namespace"], association["serviceAccount"]) == (
        "kube-system",
        "aws-load-balancer-controller",
    )
    release = recorded.plan.get(RELEASE, "addons-aws-load-balancer-controller")
    assert waits_for(recorded.plan, release, recorded.plan.get(IDENTITY, "addons-lb-controller"))


def test_load_balancer_controller_may_bind_pods_only_to_this_clusters_target_groups(recorded):
    policy = json.loads(recorded.plan.get(ROLE_POLICY, "addons-lb-controller-policy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["RegisterPods"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "modelfleet-test"}
    }
    assert statements["OpenPodsToTheLoadBalancer"]["Condition"] == {"ArnEquals": {"ec2:Vpc": VPC_ARN}}
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert not {
        a
        for a in actions
        if a.startswith("elasticloadbalancing:Create") or a.startswith("elasticloadbalancing:Delete")
    }


def test_cluster_autoscaler_values_match_the_cluster_version_and_its_identity(recorded, releases):
    values = releases["cluster-autoscaler"]["values"]
    assert values["autoDiscovery"] == {"clusterName": "modelfleet-test"}
    assert values["awsRegion"] == "eu-west-1"
    assert values["image"]["tag"] == eks_versions.VERSIONS["1.35"].cluster_autoscaler == "v1.35.2"
    assert values["rbac"]["serviceAccount"] == {"create": True, "name": "cluster-autoscaler"}
    assert values["extraArgs"] == {"balance-similar-node-groups": True, "expander": "least-waste"}
    association = recorded.plan.get(ASSOCIATION, "addons-cluster-autoscaler-association").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("kube-system", "cluster-autoscaler")
    policy = json.loads(recorded.plan.get(ROLE_POLICY, "addons-cluster-autoscaler-policy").inputs["policy"])
    resize = next(s for s in policy["Statement"] if s["Sid"] == "ResizeOwnNodeGroups")
    release = recorded.plan.get(RELEASE, "addons-cluster-autoscaler")
    assert waits_for(recorded.plan, release, recorded.plan.get(IDENTITY, "addons-cluster-autoscaler"))
    assert (
        resize["Condition"]["StringEquals"]["aws:ResourceTag/k8s.io/cluster-autoscaler/modelfleet-test"]
        == "owned"
    )


def test_autoscaler_image_follows_the_kubernetes_version():
    values = {r.inputs["name"]: r.inputs["values"] for r in build("1.33").plan.of_type(RELEASE)}
    assert values["cluster-autoscaler"]["image"]["tag"] == eks_versions.VERSIONS["1.33"].cluster_autoscaler


def test_gpu_daemonsets_tolerate_the_gpu_taint_and_land_on_gpu_nodes_only(releases):
    plugin = releases["nvidia-device-plugin"]["values"]
    assert plugin["tolerations"] == [GPU_TOLERATION]
    # Bottlerocket's NVIDIA variant has its own plugin: this one only on AL2023 GPU nodes.
    assert plugin["nodeSelector"] == {"nvidia.com/gpu.present": "true", "modelfleet.io/ami": "al2023"}
    dcgm = releases["dcgm-exporter"]["values"]
    assert dcgm["tolerations"] == [GPU_TOLERATION]
    assert dcgm["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert dcgm["serviceMonitor"] == {"enabled": True}


def test_prometheus_picks_up_every_monitor_and_grafana_every_labelled_dashboard(recorded, releases):
    values = releases["kube-prometheus-stack"]["values"]
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["podMonitorSelectorNilUsesHelmValues"] is False
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    assert sidecar == {"enabled": True, "label": "grafana_dashboard", "labelValue": "1"}
    dashboard = recorded.plan.get(CONFIG_MAP, "addons-serving-dashboard").inputs
    assert dashboard["metadata"]["namespace"] == "monitoring"
    assert dashboard["metadata"]["labels"] == {sidecar["label"]: sidecar["labelValue"]}
    assert json.loads(dashboard["data"]["modelfleet-serving.json"])["uid"] == "modelfleet-serving"


def test_keda_replaces_prometheus_adapter_and_reads_the_release_named_prometheus(releases):
    assert "prometheus-adapter" not in releases  # KEDA scales on the runtimes' series now
    assert releases["keda"]["chart"] == "keda" and releases["keda"]["version"] == "2.20.2"
    # The release named kube-prometheus-stack in monitoring serves Prometheus at this address.
    assert PROMETHEUS_URL == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert releases["kube-prometheus-stack"]["namespace"] == MONITORING


def test_known_digests_pin_the_charts_images(monkeypatch):
    digest = "sha256:" + "c" * 64
    table = {
        "cluster-autoscaler-1.35": image_digests.Resolved(
            "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2",
            digest,
            "2026-01-01T00:00:00Z",
            "https://x",
        )
    }
    monkeypatch.setattr(image_digests, "shipped", lambda: table)
    values = {r.inputs["name"]: r.inputs["values"] for r in build().plan.of_type(RELEASE)}
    autoscaler = values["cluster-autoscaler"]
    assert autoscaler["image"]["tag"] == f"v1.35.2@{digest}"
    assert autoscaler["awsRegion"] == "eu-west-1"  # the component's own values are kept


def test_registers_a_status_per_release(recorded):
    registered = recorded.outputs_of(recorded.component(COMPONENT))
    assert set(registered["releases"]) == set(NAMESPACES)


def test_release_names_are_fixed_for_predictable_service_names(recorded):
    assert {name: r.inputs["name"] for name, r in by_name(recorded.plan, RELEASE).items()} == {
        f"addons-{chart}": chart for chart in NAMESPACES
    }


def test_without_cluster_autoscaler_the_rest_is_unchanged():
    """A Karpenter cluster: no cluster-autoscaler release, no identity for it; every other add-on as before."""
    plan = build(cluster_autoscaler=False).plan
    names = {r.inputs["name"] for r in plan.of_type(RELEASE)}
    assert names == set(NAMESPACES) - {"cluster-autoscaler"}
    assert [r.name for r in plan.of_type(IDENTITY)] == ["addons-lb-controller"]
    assert all(a.inputs["serviceAccount"] != "cluster-autoscaler" for a in plan.of_type(ASSOCIATION))
