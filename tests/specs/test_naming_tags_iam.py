"""Pure helpers: names, tags and policy documents, no mocks needed."""

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
