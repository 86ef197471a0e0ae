"""EksCluster under Pulumi's mocks: control plane, system nodes, managed add-ons and its Kubernetes provider."""

from __future__ import annotations

import json

import pytest

from infra.components.eks.eks_cluster import (
    ADMIN_POLICY,
    NODE_POLICIES,
    EksCluster,
    EksClusterArgs,
    kubeconfig,
)
from infra.contracts import eks_versions
from tests.components.support import ACCOUNT, TAGS, Recorded, by_name, known, outside, record_component

COMPONENT = "modelfleet:eks:EksCluster"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
PROVIDER = "pulumi:providers:kubernetes"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
ADMINS = [f"arn:aws:iam::{ACCOUNT}:role/ml-platform-admin", f"arn:aws:iam::{ACCOUNT}:role/break-glass"]
CLUSTER_GROUP = "sg-0e1c2a3b4c5d6e7f8"  # the security group EKS creates with the cluster


def build(**changes) -> Recorded:
    fields = {
        "cluster_name": "modelfleet-test",
        "key_alias": "modelfleet-test-eks",
        "region": "eu-west-1",
        "account_id": known(ACCOUNT),
        "partition": "aws",
        "version": "1.35",
        "upgrade_policy": "standard",
        "subnet_ids": [known(s) for s in SUBNETS],
        "public_access_cidrs": [],
        "private_access_cidrs": ["10.99.0.0/24"],
        "admin_role_arns": ADMINS,
        "log_types": ["api", "audit", "authenticator"],
        "log_retention_days": 90,
        "system_instance_type": "m6i.large",
        "system_min_size": 2,
        "system_max_size": 4,
        "tags": TAGS,
        **changes,
    }
    return record_component(
        lambda: EksCluster("eks", EksClusterArgs(**fields)),
        cloud_state={CLUSTER: {"vpcConfig": {"clusterSecurityGroupId": CLUSTER_GROUP}}},
    )


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def cluster(recorded):
    return recorded.plan.get(CLUSTER, "eks-cluster")


def test_what_the_component_declares_and_that_all_of_it_is_inside(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert outside(plan, root) == []
    # Everything is a direct child but what the log group component declares under itself.
    nested = {r.name for r in plan.resources if r.parent not in (root.urn, None)}
    assert nested == {"eks-logs-group", "eks-logs-kms", "eks-logs-kms-key", "eks-logs-kms-alias"}
    assert plan.get("modelfleet:observability:EncryptedLogGroup", "eks-logs").parent == root.urn
    counts = plan.counts()
    assert counts[CLUSTER] == 1
    assert counts[NODE_GROUP] == 1
    assert counts[ROLE] == 2  # cluster, nodes
    assert counts[ATTACHMENT] == 1 + len(NODE_POLICIES)
    assert counts[ADDON] == len(eks_versions.VERSIONS["1.35"].addons)
    assert counts[INGRESS] == 1
    assert counts[ENTRY] == counts[ASSOCIATION] == len(ADMINS)
    assert counts[TEMPLATE] == counts[LOG_GROUP] == counts[KEY] == counts[PROVIDER] == 1


def test_control_plane_is_private_and_in_the_given_subnets(cluster):
    config = cluster.inputs["vpcConfig"]
    assert config["subnetIds"] == SUBNETS
    assert config["endpointPrivateAccess"] is True
    assert config["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in config  # EKS would default an empty list to 0.0.0.0/0


def test_a_public_endpoint_only_for_the_allow_list():
    config = (
        build(public_access_cidrs=["198.51.100.0/24"]).plan.get(CLUSTER, "eks-cluster").inputs["vpcConfig"]
    )
    assert config["endpointPublicAccess"] is True
    assert config["publicAccessCidrs"] == ["198.51.100.0/24"]
    assert config["endpointPrivateAccess"] is True


def test_cluster_settings_eks_would_otherwise_default(cluster):
    inputs = cluster.inputs
    assert inputs["name"] == "modelfleet-test"
    assert inputs["version"] == "1.35"
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}  # EKS's own enum, upper case
    assert inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": True,
    }
    assert inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    assert inputs["deletionProtection"] is False
    assert inputs["tags"] == TAGS


def test_secrets_are_encrypted_with_the_clusters_own_key(recorded, cluster):
    key = recorded.plan.get(KEY, "eks-logs-kms-key")
    assert cluster.inputs["encryptionConfig"] == {
        "provider": {"keyArn": key.outputs["arn"]},
        "resources": ["secrets"],
    }
    assert key.inputs["enableKeyRotation"] is True


def test_cluster_role_may_use_that_key(recorded):
    role = recorded.plan.get(ROLE, "eks-cluster")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    kms = recorded.plan.get(ROLE_POLICY, "eks-cluster-kms")
    assert kms.inputs["role"] == role.id
    (grant,) = json.loads(kms.inputs["policy"])["Statement"]
    assert grant["Action"] == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"]
    assert grant["Resource"] == [recorded.plan.get(KEY, "eks-logs-kms-key").outputs["arn"]]
    attachment = recorded.plan.get(ATTACHMENT, "eks-cluster-AmazonEKSClusterPolicy")
    assert attachment.inputs == {
        "role": role.outputs["name"],
        "policyArn": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    }


def test_control_plane_logs_go_to_the_encrypted_group_eks_would_create(recorded, cluster):
    group = recorded.plan.get(LOG_GROUP, "eks-logs-group")
    assert group.inputs["name"] == "/aws/eks/modelfleet-test/cluster"  # the name EKS writes to
    assert group.inputs["retentionInDays"] == 90
    assert group.inputs["kmsKeyId"] == recorded.plan.get(KEY, "eks-logs-kms-key").outputs["arn"]
    # Created first, or EKS makes its own, unencrypted and kept forever; the key grant likewise.
    assert group.urn in cluster.depends_on
    assert recorded.plan.get(ROLE_POLICY, "eks-cluster-kms").urn in cluster.depends_on


def test_node_role_is_for_ec2_with_the_three_node_policies(recorded):
    role = recorded.plan.get(ROLE, "eks-node")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert (statement["Principal"], statement["Action"]) == (
        {"Service": "ec2.amazonaws.com"},
        "sts:AssumeRole",
    )
    attached = {
        a.inputs["policyArn"]
        for a in recorded.plan.of_type(ATTACHMENT)
        if a.inputs["role"] == role.outputs["name"]
    }
    assert attached == {f"arn:aws:iam::aws:policy/{p}" for p in NODE_POLICIES}
    assert set(NODE_POLICIES) == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKS_CNI_Policy",
    }


def test_system_nodes_are_on_demand_al2023_within_their_bounds(recorded):
    group = recorded.plan.get(NODE_GROUP, "eks-system").inputs
    template = recorded.plan.get(TEMPLATE, "eks-system")
    assert group["clusterName"] == "modelfleet-test"
    assert group["nodeRoleArn"] == recorded.plan.get(ROLE, "eks-node").outputs["arn"]
    assert group["subnetIds"] == SUBNETS
    assert group["amiType"] == "AL2023_x86_64_STANDARD"
    assert group["instanceTypes"] == ["m6i.large"]
    assert group["capacityType"] == "ON_DEMAND"
    assert group["scalingConfig"] == {"minSize": 2, "maxSize": 4, "desiredSize": 2}
    assert group["updateConfig"] == {"maxUnavailable": 1}
    assert group["labels"] == {"modelfleet.io/pool": "system"}
    assert "taints" not in group  # system pods (coredns, controllers) must schedule here
    assert group["launchTemplate"] == {"id": template.id, "version": str(template.outputs["latestVersion"])}
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert template.inputs["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"


def test_managed_addons_are_pinned_per_kubernetes_version(recorded):
    addons = {a.inputs["addonName"]: a for a in recorded.plan.of_type(ADDON)}
    assert {name: a.inputs["addonVersion"] for name, a in addons.items()} == eks_versions.VERSIONS[
        "1.35"
    ].addons
    system = recorded.plan.get(NODE_GROUP, "eks-system")
    for addon in addons.values():
        assert addon.inputs["clusterName"] == "modelfleet-test"
        assert (
            addon.inputs["resolveConflictsOnCreate"]
            == addon.inputs["resolveConflictsOnUpdate"]
            == "OVERWRITE"
        )
        assert system.urn in addon.depends_on  # coredns stays DEGRADED without nodes
    # Without the VPC CNI's network policy agent, NetworkPolicies are accepted and ignored.
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert all("configurationValues" not in a.inputs for n, a in addons.items() if n != "vpc-cni")


def test_another_version_pins_its_own_addons():
    addons = {
        a.inputs["addonName"]: a.inputs["addonVersion"] for a in build(version="1.33").plan.of_type(ADDON)
    }
    assert addons == eks_versions.VERSIONS["1.33"].addons


def test_deploy_networks_reach_the_api_on_443_of_the_cluster_group(recorded, cluster):
    (rule,) = recorded.plan.of_type(INGRESS)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == "10.99.0.0/24"
    assert rule.inputs["securityGroupId"] == CLUSTER_GROUP
    assert cluster.urn in rule.depends_on


def test_each_admin_role_gets_an_entry_and_cluster_admin(recorded):
    entries = by_name(recorded.plan, ENTRY)
    associations = by_name(recorded.plan, ASSOCIATION)
    for index, principal in enumerate(ADMINS):
        entry = entries[f"eks-admin-{index}"].inputs
        assert (entry["principalArn"], entry["type"], entry["clusterName"]) == (
            principal,
            "STANDARD",
            "modelfleet-test",
        )
        association = associations[f"eks-admin-{index}"]
        assert association.inputs["principalArn"] == principal
        assert association.inputs["policyArn"] == ADMIN_POLICY.format(partition="aws")
        assert (
            association.inputs["policyArn"]
            == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        assert association.inputs["accessScope"] == {"type": "cluster"}
        assert entries[f"eks-admin-{index}"].urn in association.depends_on  # EKS needs the entry first


def test_no_admins_no_entries():
    plan = build(admin_role_arns=[], private_access_cidrs=[]).plan
    assert plan.of_type(ENTRY) == plan.of_type(ASSOCIATION) == plan.of_type(INGRESS) == []


def test_kubernetes_provider_waits_for_the_addons_and_never_shows_its_kubeconfig(recorded):
    (provider,) = recorded.plan.of_type(PROVIDER)
    assert provider.parent == recorded.component(COMPONENT).urn
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["enableServerSideApply"] == "true"
    assert {a.urn for a in recorded.plan.of_type(ADDON)} <= set(provider.depends_on)


def test_kubeconfig_authenticates_through_aws_eks_get_token():
    config = kubeconfig("modelfleet-test", "https://example.eks.amazonaws.com", "Q0E=", "eu-west-1")
    assert config["current-context"] == "modelfleet-test"
    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {
        "server": "https://example.eks.amazonaws.com",
        "certificate-authority-data": "Q0E=",
    }
    (user,) = config["users"]
    assert user["user"]["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "modelfleet-test",
        "--region",
        "eu-west-1",
    ]
    assert "token" not in user["user"]


def test_registers_cluster_name_and_endpoint(recorded, cluster):
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "cluster_name": "modelfleet-test",
        "endpoint": cluster.outputs["endpoint"],
    }
    assert cluster.outputs["endpoint"].startswith("https://")


def test_protect_covers_cluster_key_and_log_group():
    plan = build(protect=True).plan
    assert sorted(r.name for r in plan.resources if r.protect) == [
        "eks-cluster",
        "eks-logs-group",
        "eks-logs-kms-key",
    ]
    assert plan.get(CLUSTER, "eks-cluster").inputs["deletionProtection"] is True


def test_the_cluster_and_node_groups_wait_for_their_roles_policies(shipped_plans):
    """EKS creates nothing usable, and deletes badly, if a role's policy attachment comes and goes first."""
    plan = shipped_plans["prod"]
    attachments = {r.urn: r.name for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    cluster = plan.get("aws:eks/cluster:Cluster", "platform-eks-cluster")
    assert "platform-eks-cluster-AmazonEKSClusterPolicy" in {attachments.get(u) for u in cluster.depends_on}
    for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
        waits = {attachments.get(u) for u in group.depends_on}
        assert {
            f"platform-eks-node-{p}" for p in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy")
        } <= waits
