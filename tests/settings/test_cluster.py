"""Bad cluster, pool and EKS model config, each named by its key path."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from infra.settings.platform import SettingsError, load_settings
from tests.conftest import valid_config
from tests.settings.test_catalog import DIGEST, model


def eks_model(**eks) -> dict:
    entry = model(name="embedder", backend="eks",
                  autoscaling={"min_instances": 2, "max_instances": 4}, eks={"pool": "g5", **eks})  # fmt: skip
    return entry


CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0d4a3c2b-1e5f-4a6b-8c7d-9e0f1a2b3c4d"


def config(tier="dev", cluster=None, pools=None, models=None) -> dict:
    base = valid_config() | {"modelfleet:tier": tier}
    cluster = {
        "load_balancer_certificate_arn": CERTIFICATE,
        **(cluster or {"version": "1.35", "deploy_runner_in_vpc": True}),
    }
    base["modelfleet:cluster"] = {k: v for k, v in copy.deepcopy(cluster).items() if v is not None}
    base["modelfleet:gpu_pools"] = copy.deepcopy(
        pools if pools is not None else [{"name": "g5", "instance_types": ["g5.xlarge"]}]
    )
    base["modelfleet:models"] = models if models is not None else [eks_model()]
    return base


TODAY = date(2026, 12, 3)  # 1.35 in standard support, 1.32-1.34 extended, 1.31 ended


def problems(cfg, today: date = TODAY) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", cfg, today=today)
    return [str(p) for p in caught.value.problems]


def test_a_valid_cluster_with_an_eks_model():
    settings = load_settings("dev", config(), today=TODAY)
    assert settings.gpu_pools[0].capacity == "spot"  # dev tier default
    assert settings.gpu_pools[0].smallest_node.gpus == 1
    assert settings.eks_models[0].image == DIGEST


BAD = [
    ("cpu type in a gpu pool", config(pools=[{"name": "g5", "instance_types": ["m5.xlarge"]}]),
     "modelfleet:gpu_pools[0].instance_types[0]", "'m5.xlarge' has no GPU; GPU pools take g4dn, g5, g6, g6e, p4d, p4de, p5, p5e, p5en"),
    ("unknown instance", config(pools=[{"name": "g5", "instance_types": ["g9.xlarge"]}]),
     "modelfleet:gpu_pools[0].instance_types[0]", "'g9.xlarge' is not a known instance type"),
    ("more gpus than the pool has", config(models=[eks_model(gpus=4)]),
     "modelfleet:models[0].eks.gpus", "pool 'g5' instances have 1 GPU(s); a replica cannot use more"),
    ("pool that does not exist", config(models=[eks_model(pool="h100")]),
     "modelfleet:models[0].eks.pool", "no GPU pool named 'h100' (pools: g5)"),
    ("unsupported version", config(cluster={"version": "1.27"}), "modelfleet:cluster.version",
     "Kubernetes 1.27 is not one modelfleet pins add-ons for; use 1.35 (standard support); 1.32, 1.33, 1.34 (extended support)"),
    ("version past extended support", config(cluster={"version": "1.31", "deploy_runner_in_vpc": True}),
     "modelfleet:cluster.version", "Kubernetes 1.31 left EKS extended support on 2026-11-26"),
    ("prod in extended support", config(tier="prod", cluster={"version": "1.34", "deploy_runner_in_vpc": True}),
     "modelfleet:cluster.version", "Kubernetes 1.34 left standard support on 2026-12-02 and is billed at the extended-support rate"),
    ("standard policy in extended support",
     config(cluster={"version": "1.33", "deploy_runner_in_vpc": True, "upgrade_policy": "standard"}),
     "modelfleet:cluster.upgrade_policy", "EKS keeps such clusters on the extended policy"),
    ("prod deployer without a path", config(tier="prod", cluster={"version": "1.35"}),
     "modelfleet:cluster", "the deployer has no path to the private Kubernetes API"),
    ("unquoted version", config(cluster={"version": 1.3}), "modelfleet:cluster.version",
     'write the version in quotes, e.g. "1.35"'),
    ("public prod endpoint", config(tier="prod", cluster={"version": "1.35", "endpoint_public_access_cidrs": ["0.0.0.0/0"]}),
     "modelfleet:cluster.endpoint_public_access_cidrs", "prod API endpoints are private only"),
    ("pool bounds", config(pools=[{"name": "g5", "instance_types": ["g5.xlarge"], "min_size": 3, "max_size": 1}]),
     "modelfleet:gpu_pools[0].min_size", "min_size (3) is above max_size (1)"),
    ("system node bounds", config(cluster={"version": "1.35", "system_nodes": {"min_size": 5, "max_size": 3}}),
     "modelfleet:cluster.system_nodes.min_size", "min_size (5) is above max_size (3)"),
    ("eks model without eks block", config(models=[{k: v for k, v in eks_model().items() if k != "eks"}]),
     "modelfleet:models[0].eks", "is required (its pool, what one replica needs"),
    ("instance type on eks", config(models=[{**eks_model(), "instance_type": "ml.g5.xlarge"}]),
     "modelfleet:models[0].instance_type", "applies to backend sagemaker only"),
    ("waf without certificate", config(models=[eks_model(waf_acl_arn="arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/edge/12345678-1234-1234-1234-123456789012")]),
     "modelfleet:models[0].eks", "set internet_facing too"),
    ("no certificate for the load balancer",
     config(cluster={"version": "1.35", "deploy_runner_in_vpc": True, "load_balancer_certificate_arn": None}),
     "modelfleet:models[0].eks.certificate_arn", "load balancers serve HTTPS, internal ones too"),
    ("replica cpu too big", config(models=[eks_model(cpu=4)]), "modelfleet:models[0].eks.cpu",
     "pool 'g5' nodes offer 3 vCPU(s) to pods (got 4)"),
    ("replica memory too big", config(models=[eks_model(memory_gib=15)]), "modelfleet:models[0].eks.memory_gib",
     "pool 'g5' nodes offer 14.4 GiB to pods"),
    ("pdb blocks drains", config(models=[eks_model(pdb_min_available=2)]), "modelfleet:models[0].eks.pdb_min_available",
     "must be below autoscaling.min_instances (2) or nodes can never be drained"),
    ("admin not a role", config(cluster={"version": "1.35", "admin_role_arns": ["arn:aws:iam::123456789012:user/bob"]}),
     "modelfleet:cluster.admin_role_arns[0]", "must be an IAM role ARN"),
]  # fmt: skip


@pytest.mark.parametrize(("cfg", "path", "text"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_cluster_config_names_its_key_path(cfg, path, text):
    found = problems(cfg)
    assert any(p.startswith(f"{path}: ") and text in p for p in found), found


def test_eks_models_need_a_cluster():
    cfg = config()
    del cfg["modelfleet:cluster"]
    assert "modelfleet:cluster: is required when there are GPU pools or eks models" in problems(cfg)


def test_the_deployer_error_lists_every_path_and_prod_refuses_the_public_one():
    (dev,) = problems(config(cluster={"version": "1.35"}))
    assert (
        "private_access_cidrs" in dev
        and "deploy_runner_in_vpc" in dev
        and "endpoint_public_access_cidrs" in dev
    )
    prod = problems(
        config(tier="prod", cluster={"version": "1.35", "endpoint_public_access_cidrs": ["203.0.113.0/24"]})
    )
    assert any("prod API endpoints are private only" in p for p in prod)
    assert any("dev and staging only" not in p and "deployer has no path" in p for p in prod)


@pytest.mark.parametrize(
    "cluster",
    [{"private_access_cidrs": ["10.100.0.0/24"]}, {"deploy_runner_in_vpc": True},
     {"endpoint_public_access_cidrs": ["203.0.113.0/24"]}],
)  # fmt: skip
def test_each_deployer_path_is_enough_outside_prod(cluster):
    load_settings("dev", config(cluster={"version": "1.35", **cluster}), today=TODAY)


def test_extended_support_outside_prod_is_a_warning_and_prod_may_acknowledge_it():
    from infra.settings.cluster import support_warnings

    dev = load_settings("dev", config(cluster={"version": "1.34", "deploy_runner_in_vpc": True}), today=TODAY)
    (warning,) = support_warnings(dev.cluster, TODAY)
    assert "1.34 is in extended support since 2026-12-02" in warning and "upgrade to 1.35" in warning
    acknowledged = {"version": "1.34", "deploy_runner_in_vpc": True, "allow_extended_support": True}
    load_settings("prod", config(tier="prod", cluster=acknowledged), today=TODAY)


def test_a_shipped_version_is_warned_sixty_days_before_standard_support_ends():
    from infra.settings.cluster import support_warnings

    settings = load_settings("dev", config(), today=TODAY)
    assert support_warnings(settings.cluster, date(2027, 1, 25)) == []  # 61 days left
    (warning,) = support_warnings(settings.cluster, date(2027, 1, 26))
    assert "leaves standard support in 60 days (2027-03-27)" in warning


def test_standard_support_ends_on_the_calendar_date():
    from infra.contracts import eks_versions

    version = eks_versions.VERSIONS["1.34"]
    assert version.support(date(2026, 12, 1)) is eks_versions.Support.STANDARD
    assert version.support(date(2026, 12, 2)) is eks_versions.Support.EXTENDED
    assert version.support(date(2027, 12, 2)) is eks_versions.Support.ENDED


def test_the_karpenter_stack_in_the_architecture_doc_is_valid():
    import re

    from ruamel.yaml import YAML

    from tests.conftest import ROOT

    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"A Karpenter stack in full.*?```yaml\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md lost its Karpenter example"
    example = YAML(typ="safe").load(block.group(1))
    settings = load_settings(
        "staging", valid_config() | {"modelfleet:tier": "staging"} | example, today=TODAY
    )
    assert settings.cluster.capacity == "karpenter" and settings.gpu_pools[0].name == "g6"
