"""The EKS layer of the shipped stacks under the mock engine, per tier."""

from __future__ import annotations

import json

import pytest

from infra.contracts import eks_versions, runtimes
from infra.specs import stack_images
from tests.conftest import stack_settings

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
RELEASE = "kubernetes:helm.sh/v3:Release"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"


def gpu_groups(plan):
    return [g for g in plan.of_type(NODE_GROUP) if g.inputs["amiType"].endswith("NVIDIA")]


def gpu_pool_nodes(plan) -> tuple[list[dict], dict]:
    """The one GPU pool's node taints (in Kubernetes' spelling) and labels, whoever provides its nodes."""
    groups, pools = gpu_groups(plan), plan.of_type(NODE_POOL)
    assert len(groups) + len(pools) == 1
    if groups:
        effects = {"NO_SCHEDULE": "NoSchedule"}  # EKS's enum for the same effect
        taints = [{**t, "effect": effects[t["effect"]]} for t in groups[0].inputs["taints"]]
        return taints, groups[0].inputs["labels"]
    template = pools[0].inputs["spec"]["template"]
    return template["spec"]["taints"], template["metadata"]["labels"]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_stack_serves_an_eks_model_on_a_tainted_gpu_pool(shipped_plans, stack):
    plan = shipped_plans[stack]
    taints, labels = gpu_pool_nodes(plan)
    assert taints == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert labels["nvidia.com/gpu.present"] == "true"
    deployments = plan.of_type(DEPLOYMENT)
    assert {d.inputs["metadata"]["labels"]["variant"] for d in deployments} == {"stable", "canary"}
    served = {m.name: runtimes.contract(m.runtime) for m in stack_settings(stack).eks_models}
    for deployment in deployments:
        contract = served[deployment.inputs["metadata"]["labels"]["model"]]
        spec = deployment.inputs["spec"]["template"]["spec"]
        # Every taint on the pool is tolerated, and the pod selects exactly that pool.
        for taint in taints:
            assert {"key": taint["key"], "operator": "Exists", "effect": taint["effect"]} in spec[
                "tolerations"
            ]
        assert spec["nodeSelector"] == {"modelfleet.io/pool": labels["modelfleet.io/pool"]}
        server = spec["containers"][0]
        assert (
            server["resources"]["limits"]["nvidia.com/gpu"]
            == server["resources"]["requests"]["nvidia.com/gpu"]
            == "1"
        )
        for probe in ("startupProbe", "readinessProbe"):
            assert server[probe]["httpGet"]["path"] == contract.ready_path
        assert server["livenessProbe"]["httpGet"]["path"] == contract.health_path
        assert server["ports"] == [{"name": "http", "containerPort": contract.port}]
        assert spec["terminationGracePeriodSeconds"] >= 30
        assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
        assert server["securityContext"]["runAsNonRoot"] is True


def test_dev_uses_spot_gpus_and_prod_on_demand(shipped_plans):
    assert gpu_groups(shipped_plans["dev"])[0].inputs["capacityType"] == "SPOT"
    assert gpu_groups(shipped_plans["prod"])[0].inputs["capacityType"] == "ON_DEMAND"
    assert gpu_groups(shipped_plans["prod"])[0].inputs["scalingConfig"]["minSize"] >= 2


def of_model(plan, type_token: str, model: str = "doc-embedder") -> list:
    """The resources of one model's component (prod serves doc-embedder and fraud-graph on EKS)."""
    return [r for r in plan.of_type(type_token) if r.name.startswith(f"platform-{model}-")]


def test_prod_runs_two_or_more_replicas_and_keeps_them_through_disruptions(shipped_plans):
    prod = shipped_plans["prod"]
    assert all(d.inputs["spec"]["replicas"] >= 2 for d in of_model(prod, DEPLOYMENT))
    pdbs = prod.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    assert len(pdbs) == 2 and all(pdb.inputs["spec"]["minAvailable"] >= 1 for pdb in pdbs)


def test_keda_scales_each_variant_on_the_runtimes_queue(shipped_plans):
    scalers = {h.inputs["metadata"]["name"]: h.inputs["spec"] for h in shipped_plans["prod"].of_type(SCALER)}
    stable, canary = scalers["doc-embedder-stable"], scalers["doc-embedder-canary"]
    assert (stable["minReplicaCount"], stable["maxReplicaCount"]) == (3, 10)
    assert (canary["minReplicaCount"], canary["maxReplicaCount"]) == (2, 10)
    (queue,) = stable["triggers"]  # TEI: its queue, not CPU
    assert queue["metadata"]["query"] == 'sum(te_queue_size{namespace="doc-embedder",variant="stable"})'
    assert (queue["metricType"], queue["metadata"]["threshold"]) == ("AverageValue", "16")


def test_the_alb_splits_traffic_by_the_configured_weights(shipped_plans):
    prod = shipped_plans["prod"]
    (listener,) = of_model(prod, "aws:lb/listener:Listener")
    groups = {g.id: g.inputs["tags"]["variant"] for g in of_model(prod, "aws:lb/targetGroup:TargetGroup")}
    split = {
        groups[t["arn"]]: t["weight"] for t in listener.inputs["defaultActions"][0]["forward"]["targetGroups"]
    }
    assert split == {"stable": 90, "canary": 10}
    (alb,) = of_model(prod, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["internal"] is True and alb.inputs["dropInvalidHeaderFields"] is True
    bindings = of_model(prod, "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    assert {b.inputs["spec"]["targetGroupARN"] for b in bindings} == set(groups)


def test_alb_alarms_use_the_load_balancers_own_dimensions(shipped_plans):
    prod = shipped_plans["prod"]
    (alb,) = of_model(prod, "aws:lb/loadBalancer:LoadBalancer")
    alarms = [a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "doc-embedder" in a.name]
    assert (
        len(alarms) == 8
    )  # per variant: target 5XX rate, p99 response time, unhealthy hosts, no healthy host
    silent = next(a for a in alarms if a.inputs["name"].endswith("stable-no-healthy-hosts"))
    assert (silent.inputs["metricName"], silent.inputs["treatMissingData"]) == (
        "HealthyHostCount",
        "breaching",
    )
    for alarm in alarms:
        dims = alarm.inputs.get("dimensions") or alarm.inputs["metricQueries"][0]["metric"]["dimensions"]
        assert dims["LoadBalancer"] == alb.outputs["arnSuffix"]
        assert dims["TargetGroup"].startswith("targetgroup/")
    latency = next(a for a in alarms if a.inputs["name"].endswith("stable-p99-response-time"))
    assert latency.inputs["threshold"] == 0.3  # seconds, as the ALB reports it


def test_every_launch_template_and_node_class_requires_imdsv2_and_encrypts_gp3(shipped_plans):
    for stack, plan in shipped_plans.items():
        templates = plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")
        node_classes = plan.of_type(NODE_CLASS)
        # The system group's, and one per GPU pool: a launch template, or Karpenter's EC2NodeClass.
        pools = len(stack_settings(stack).gpu_pools)
        assert (len(templates), len(node_classes)) == ((1, pools) if node_classes else (1 + pools, 0))
        for template in templates:
            assert template.inputs["metadataOptions"]["httpTokens"] == "required"
            assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
            ebs = template.inputs["blockDeviceMappings"][0]["ebs"]
            assert (ebs["volumeType"], ebs["encrypted"]) == ("gp3", "true")
        for node_class in node_classes:
            spec = node_class.inputs["spec"]
            assert spec["metadataOptions"]["httpTokens"] == "required"
            assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
            ebs = spec["blockDeviceMappings"][0]["ebs"]
            assert (ebs["volumeType"], ebs["encrypted"]) == ("gp3", True)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_gpu_nodes_come_from_karpenter_or_cluster_autoscaler_never_both(shipped_plans, stack):
    plan, capacity = shipped_plans[stack], stack_settings(stack).cluster.capacity
    releases = {r.inputs["name"] for r in plan.of_type(RELEASE)}
    identities = {
        a.inputs["serviceAccount"]
        for a in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    if capacity == "karpenter":
        assert {"karpenter-crd", "karpenter"} <= releases and "cluster-autoscaler" not in releases
        assert "karpenter" in identities and "cluster-autoscaler" not in identities
        assert gpu_groups(plan) == [] and len(plan.of_type(NODE_POOL)) == len(stack_settings(stack).gpu_pools)
        # The node group left is the system one, which runs Karpenter and the add-ons.
        assert [g.inputs["labels"] for g in plan.of_type(NODE_GROUP)] == [{"modelfleet.io/pool": "system"}]
    else:
        assert "cluster-autoscaler" in releases and not {"karpenter-crd", "karpenter"} & releases
        assert "cluster-autoscaler" in identities and "karpenter" not in identities
        assert plan.of_type(NODE_POOL) == [] and len(gpu_groups(plan)) == len(stack_settings(stack).gpu_pools)


def test_staging_runs_karpenter_and_dev_and_prod_cluster_autoscaler():
    assert {s: stack_settings(s).cluster.capacity for s in ("dev", "staging", "prod")} == {
        "dev": "cluster-autoscaler", "staging": "karpenter", "prod": "cluster-autoscaler",
    }  # fmt: skip


def test_secrets_are_encrypted_and_prod_endpoint_is_private(shipped_plans):
    for stack, plan in shipped_plans.items():
        (cluster,) = plan.of_type("aws:eks/cluster:Cluster")
        (encryption,) = [cluster.inputs["encryptionConfig"]]
        assert encryption["resources"] == ["secrets"]
        assert encryption["provider"]["keyArn"].startswith("arn:aws:kms:")
        assert cluster.inputs["accessConfig"]["authenticationMode"] == "API"
        assert cluster.inputs["vpcConfig"]["endpointPrivateAccess"] is True
        assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is (stack != "prod")
    (prod_cluster,) = shipped_plans["prod"].of_type("aws:eks/cluster:Cluster")
    assert prod_cluster.inputs["deletionProtection"] is True and prod_cluster.protect


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_helm_charts_and_addons_are_pinned(shipped_plans, stack):
    plan = shipped_plans[stack]
    releases = {r.inputs["name"]: r.inputs for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    capacity = stack_settings(stack).cluster.capacity
    assert set(releases) == set(stack_images.charts(capacity))  # the capacity option's charts, and only those
    for chart_key, release in releases.items():
        chart = eks_versions.CHARTS[chart_key]
        assert release["version"] == chart.version
        if chart.repository.startswith("oci://"):  # an OCI registry: the chart reference says where
            assert release["chart"] == f"{chart.repository}/{chart.name}" and "repositoryOpts" not in release
        else:
            assert release["repositoryOpts"]["repo"] == chart.repository
    addons = {a.inputs["addonName"]: a.inputs["addonVersion"] for a in plan.of_type("aws:eks/addon:Addon")}
    assert addons == eks_versions.VERSIONS["1.35"].addons
    cni = next(a for a in plan.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni")
    assert json.loads(cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_network_policy_admits_the_load_balancer_subnets_and_monitoring(shipped_plans):
    # Known limit (README): an internal ALB shares the private subnets with pods, so this
    # ipBlock also admits pods there; dedicated load-balancer subnets would close it.
    (policy,) = of_model(shipped_plans["prod"], "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    sources = [rule["from"] for rule in policy.inputs["spec"]["ingress"]]
    assert [s["ipBlock"]["cidr"] for s in sources[0]] == ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"]
    assert sources[1] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]


def test_pods_read_only_their_artifacts_through_pod_identity(shipped_plans):
    prod = shipped_plans["prod"]
    association = next(a for a in prod.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                       if a.inputs["namespace"] == "doc-embedder")  # fmt: skip
    assert association.inputs["serviceAccount"] == "model-server"
    policy = next(
        p
        for p in prod.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.name.startswith("platform-doc-embedder-identity")
    )
    read, listing = json.loads(policy.inputs["policy"])["Statement"]
    assert read["Action"] == ["s3:GetObject"]
    weights = "doc-embedder/bge-large-en-v1.5"
    assert read["Resource"] == [f"arn:aws:s3:::acme-ml-artifacts-prod/{weights}/2026-10-02/*",
                                f"arn:aws:s3:::acme-ml-artifacts-prod/{weights}/2026-11-20/*"]  # fmt: skip
    # The weight directories are listed before they are synced, and no other part of the bucket.
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Resource"] == ["arn:aws:s3:::acme-ml-artifacts-prod"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [
        f"{weights}/2026-10-02/", f"{weights}/2026-10-02/*", f"{weights}/2026-11-20/", f"{weights}/2026-11-20/*",
    ]}}  # fmt: skip


def test_load_balancer_controller_may_not_create_or_delete(shipped_plans):
    prod = shipped_plans["prod"]
    policy = next(
        p
        for p in prod.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.name.startswith("platform-addons-lb-controller")
    )
    actions = {a for s in json.loads(policy.inputs["policy"])["Statement"] for a in s["Action"]}
    assert "elasticloadbalancing:RegisterTargets" in actions
    assert not any(a.split(":")[1].startswith(("Create", "Delete")) for a in actions)
    assert all("*" not in a for a in actions)


def test_pods_start_after_their_identity_and_nodes_and_drain_as_configured(shipped_plans):
    prod = shipped_plans["prod"]
    association = next(a for a in prod.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                       if a.inputs["namespace"] == "doc-embedder")  # fmt: skip
    (node_group,) = gpu_groups(prod)
    for deployment in of_model(prod, DEPLOYMENT):
        # A component in depends_on stands for its children: the association and the node group.
        assert association.urn in deployment.depends_on and node_group.urn in deployment.depends_on
        spec = deployment.inputs["spec"]["template"]["spec"]
        server = spec["containers"][0]
        assert spec["terminationGracePeriodSeconds"] == 10 + 30 + 5  # preStop + drain + margin
        assert server["lifecycle"]["preStop"]["sleep"]["seconds"] == 10
        # TEI loads from a local directory: the init container syncs it there first.
        (fetch,) = spec["initContainers"]
        assert fetch["command"][:3] == ["aws", "s3", "sync"]
        model_id = server["args"][server["args"].index("--model-id") + 1]
        assert fetch["command"][4] == model_id == "/data/model"


def test_namespaces_hold_old_pods_until_new_ones_are_healthy_in_the_alb(shipped_plans):
    namespace = next(n for n in shipped_plans["prod"].of_type("kubernetes:core/v1:Namespace")
                     if n.inputs["metadata"]["name"] == "doc-embedder")  # fmt: skip
    assert namespace.inputs["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"


def test_device_plugin_runs_only_where_the_ami_lacks_one(shipped_plans):
    plan = shipped_plans["dev"]
    release = next(
        r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "nvidia-device-plugin"
    )
    assert release.inputs["values"]["nodeSelector"] == {
        "nvidia.com/gpu.present": "true",
        "modelfleet.io/ami": "al2023",
    }
    assert gpu_groups(plan)[0].inputs["labels"]["modelfleet.io/ami"] == "al2023"


def test_pod_identity_roles_trust_only_their_cluster(shipped_plans):
    prod = shipped_plans["prod"]
    (cluster,) = prod.of_type("aws:eks/cluster:Cluster")
    roles = [
        r
        for r in prod.of_type("aws:iam/role:Role")
        if "pods.eks.amazonaws.com" in r.inputs["assumeRolePolicy"]
    ]
    assert len(roles) == 4  # cluster-autoscaler's, the load balancer controller's, one per model
    for role in roles:
        condition = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
        assert condition["ArnEquals"] == {"aws:SourceArn": cluster.outputs["arn"]}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_cluster_runs_a_version_in_standard_support_with_an_explicit_upgrade_policy(
    shipped_plans, stack
):
    (cluster,) = shipped_plans[stack].of_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["upgradePolicy"] == {"supportType": "EXTENDED"}
    version = eks_versions.VERSIONS[cluster.inputs["version"]]
    assert version.support(eks_versions.today()) is eks_versions.Support.STANDARD
