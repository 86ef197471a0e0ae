"""Pure helpers: names, tags and policy documents, no mocks needed."""

import json

from infra.settings.platform import load_settings
from infra.specs import iam, naming, tags
from tests.conftest import valid_config


def test_names_start_with_project_and_environment():
    assert naming.name("dev", "flow-logs") == "modelfleet-dev-flow-logs"
    assert naming.log_group("prod", "vpc-flow-logs") == "/modelfleet/prod/vpc-flow-logs"


def test_long_names_are_cut_to_the_limit_and_stay_distinct():
    first = naming.name("staging", "a" * 80, "one", max_length=63)
    second = naming.name("staging", "a" * 80, "two", max_length=63)
    assert len(first) == len(second) == 63
    assert first != second
    assert first == naming.name("staging", "a" * 80, "one", max_length=63)  # stable


def test_az_suffix():
    assert naming.az_suffix("eu-west-1a") == "a"
    assert naming.az_suffix("us-east-1f") == "f"


def test_base_tags_carry_ownership_and_stack_extras():
    config = valid_config() | {"modelfleet:tags": {"team": "risk"}}
    settings = load_settings("prod", config)
    assert tags.base(settings, Name="x") == {
        "team": "risk",
        "environment": "prod",
        "project": "modelfleet",
        "owner": "ml-platform",
        "cost-center": "CC-1",
        "managed-by": "pulumi",
        "Name": "x",
    }


def test_kms_key_policy_gives_the_service_named_actions_only():
    policy = iam.kms_key_policy("111122223333", "aws", "logs.eu-west-1.amazonaws.com", {"X": {}})
    root, service = policy["Statement"]
    assert root["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert service["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert all("*" not in action for action in service["Action"])
    assert service["Condition"] == {"X": {}}


def test_service_trust_is_pinned_to_the_account():
    trust = iam.service_trust("vpc-flow-logs.amazonaws.com", "111122223333")
    statement = trust["Statement"][0]
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "111122223333"}
    assert statement["Action"] == "sts:AssumeRole"


CLUSTER_ARN = "arn:aws:eks:eu-west-1:111122223333:cluster/modelfleet-prod"


def test_cluster_autoscaler_resizes_and_reads_only_its_own_cluster():
    statements = {s["Sid"]: s for s in iam.cluster_autoscaler_policy(CLUSTER_ARN)["Statement"]}
    assert statements["ReadOwnNodeGroups"]["Resource"] == [
        "arn:aws:eks:eu-west-1:111122223333:nodegroup/modelfleet-prod/*/*"
    ]
    assert statements["ResizeOwnNodeGroups"]["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/modelfleet-prod": "owned",
        }
    }
    assert "eks:DescribeNodegroup" not in statements["DiscoverNodeGroups"]["Action"]


def test_load_balancer_controller_registers_pods_only_in_its_clusters_target_groups():
    vpc = "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1"
    policy = iam.target_group_binding_policy("aws", "eu-west-1", "111122223333", vpc, "modelfleet-prod")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["RegisterPods"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "modelfleet-prod"}
    }
    assert statements["OpenPodsToTheLoadBalancer"]["Condition"] == {"ArnEquals": {"ec2:Vpc": vpc}}
    changes = [
        a for s in policy["Statement"] for a in s["Action"] if not a.split(":")[1].startswith("Describe")
    ]
    assert not any(a.split(":")[1].startswith(("Create", "Delete", "Modify")) for a in changes)


NODE_ROLE = "arn:aws:iam::123456789012:role/platform-karpenter-node-0a1b2c3"
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:modelfleet-prod-karpenter"


def karpenter_statements() -> dict[str, dict]:
    document = iam.karpenter_controller_policy(
        "aws", "eu-west-1", "123456789012", "modelfleet-prod", NODE_ROLE, QUEUE
    )
    return {s["Sid"]: s for s in document["Statement"]}


def test_karpenter_passes_only_the_node_role_and_only_to_ec2():
    statements = karpenter_statements()
    (passing,) = [s for s in statements.values() if "iam:PassRole" in s["Action"]]
    assert passing["Resource"] == [NODE_ROLE]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
    }


def test_karpenter_launches_tags_and_terminates_only_what_this_cluster_and_a_nodepool_own():
    statements = karpenter_statements()
    owned = {"aws:ResourceTag/kubernetes.io/cluster/modelfleet-prod": "owned"}
    for sid in ("AllowScopedEC2LaunchTemplateAccessActions", "AllowScopedDeletion"):
        assert statements[sid]["Condition"]["StringEquals"] == owned
        assert statements[sid]["Condition"]["StringLike"] == {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    assert statements["AllowScopedDeletion"]["Action"] == [
        "ec2:DeleteLaunchTemplate",
        "ec2:TerminateInstances",
    ]
    created = statements["AllowScopedEC2InstanceActionsWithTags"]["Condition"]["StringEquals"]
    assert created == {
        "aws:RequestTag/kubernetes.io/cluster/modelfleet-prod": "owned",
        "aws:RequestTag/eks:eks-cluster-name": "modelfleet-prod",
    }
    tagging = statements["AllowScopedResourceTagging"]["Condition"]
    assert tagging["ForAllValues:StringEquals"] == {
        "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
    }
    # Subnets and security groups of this account only; AMIs and snapshots are Amazon's.
    launch = statements["AllowScopedEC2InstanceAccessActions"]["Resource"]
    assert (
        "arn:aws:ec2:eu-west-1:123456789012:subnet/*" in launch and "arn:aws:ec2:eu-west-1::image/*" in launch
    )
    assert not any(":*:" in arn for s in statements.values() for arn in s["Resource"])


def test_karpenter_reads_its_cluster_and_its_queue_and_no_action_is_a_wildcard():
    statements = karpenter_statements()
    assert statements["AllowAPIServerEndpointDiscovery"]["Resource"] == [
        "arn:aws:eks:eu-west-1:123456789012:cluster/modelfleet-prod"
    ]
    assert statements["AllowInterruptionQueueActions"] == {
        "Sid": "AllowInterruptionQueueActions", "Effect": "Allow", "Resource": [QUEUE],
        "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
    }  # fmt: skip
    assert statements["AllowRegionalReadActions"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "eu-west-1"}
    }
    profiles = [s for s in statements.values() if any("instance-profile" in a for a in s["Action"])]
    for statement in profiles:
        assert statement["Resource"] == ["arn:aws:iam::123456789012:instance-profile/*"]
    actions = [a for s in statements.values() for a in s["Action"]]
    assert not any(a == "*" or a.endswith(":*") for a in actions)
    assert all(s["Effect"] == "Allow" for s in statements.values())
    # An inline role policy may hold 10,240 characters, whitespace not counted.
    text = json.dumps(
        iam.karpenter_controller_policy("aws", "eu-west-1", "123456789012", "x" * 100, NODE_ROLE, QUEUE)
    )
    assert len(text.replace(" ", "")) < 10_240


def test_karpenters_queue_takes_messages_from_this_stacks_rules_and_sqs_over_tls_only():
    rules = [
        "arn:aws:events:eu-west-1:123456789012:rule/spot",
        "arn:aws:events:eu-west-1:123456789012:rule/health",
    ]
    events, sqs, deny = iam.karpenter_queue_policy(QUEUE, rules)["Statement"]
    assert (
        events["Principal"] == {"Service": "events.amazonaws.com"} and events["Action"] == "sqs:SendMessage"
    )
    assert events["Condition"] == {"ArnEquals": {"aws:SourceArn": rules}}
    assert sqs["Principal"] == {"Service": "sqs.amazonaws.com"} and sqs["Resource"] == QUEUE
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
