"""Settings: tier defaults, every kind of bad config, and the exact messages people read."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from typing import Any

import pytest

from infra.settings.platform import NatStrategy, SettingsError, Tier, load_settings
from infra.stackfiles.read import read_project, read_stack_config
from tests.conftest import ROOT, SHIPPED_STACKS, valid_config


def problems(config: dict[str, Any], stack: str = "prod") -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(stack, config)
    return [str(p) for p in caught.value.problems]


def with_network(**network: Any) -> dict[str, Any]:
    config = valid_config()
    config["modelfleet:network"].update(network)
    return config


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stacks_are_valid_and_keep_their_tier(stack):
    project = read_project(ROOT)
    settings = load_settings(stack, read_stack_config(project, project.stack_file(stack)).values)
    assert settings.tier == Tier(stack)
    assert settings.environment == stack


def test_dev_tier_fills_in_what_the_stack_leaves_out():
    config = valid_config() | {"modelfleet:tier": "dev"}
    settings = load_settings("dev", config)
    assert settings.network.az_count == 2
    assert settings.network.nat_strategy is NatStrategy.SINGLE
    assert settings.network.nat_gateway_count == 1
    assert settings.network.flow_logs.retention_days == 14
    assert settings.protect_stateful is False


def test_prod_tier_defaults_protect_and_spread():
    settings = load_settings("prod", valid_config())
    assert settings.network.az_count == 3
    assert settings.network.nat_gateway_count == 3
    assert settings.protect_stateful is True
    assert settings.network.flow_logs.retention_days == 365


def test_stack_values_override_tier_defaults_key_by_key():
    config = with_network(az_count=4, flow_logs={"traffic_type": "REJECT"})
    settings = load_settings("prod", config)
    assert settings.network.az_count == 4
    assert settings.network.flow_logs.traffic_type == "REJECT"
    assert settings.network.flow_logs.retention_days == 365  # the tier's, still


def test_config_as_the_pulumi_cli_passes_it_is_the_same_as_decoded():
    as_text = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in valid_config().items()}
    as_text["modelfleet:protect_stateful"] = "false"
    settings = load_settings("prod", as_text)
    assert settings.network.cidr == IPv4Network("10.30.0.0/16")
    assert settings.protect_stateful is False


def test_derived_subnets_are_packed_without_overlap_and_stable():
    net = load_settings("prod", valid_config()).network
    assert [str(c) for c in net.private_subnet_cidrs] == ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"]
    assert [str(c) for c in net.public_subnet_cidrs] == ["10.30.255.0/24", "10.30.254.0/24", "10.30.253.0/24"]


def test_adding_an_az_adds_subnets_and_moves_none():
    layouts = []
    for az_count in (2, 3, 6):
        net = load_settings("prod", with_network(az_count=az_count)).network
        layouts.append([*net.private_subnet_cidrs, *net.public_subnet_cidrs])
    two, three, six = ({str(n) for n in layout} for layout in layouts)
    assert two < three < six


def test_explicit_subnets_are_kept_and_the_others_derived_around_them():
    config = with_network(public_subnet_cidrs=["10.30.200.0/24", "10.30.201.0/24", "10.30.202.0/24"])
    net = load_settings("prod", config).network
    assert str(net.public_subnet_cidrs[0]) == "10.30.200.0/24"
    taken = [*net.public_subnet_cidrs, *net.private_subnet_cidrs]
    assert all(not a.overlaps(b) for i, a in enumerate(taken) for b in taken[i + 1 :])


def test_other_namespaces_belong_to_providers_and_are_not_checked():
    config = valid_config() | {"aws:profile": "ml", "kubernetes:context": "x"}
    assert load_settings("prod", config).region == "eu-west-1"


BAD_CONFIGS = [
    # (what is wrong, change to a valid config, expected path, expected text)
    ("cidr syntax", {"network": {"cidr": "10.0.0/16"}}, "modelfleet:network.cidr",
     "is not a valid IPv4 CIDR block (got '10.0.0/16')"),
    ("cidr without prefix", {"network": {"cidr": "10.0.0.0"}}, "modelfleet:network.cidr",
     "must be an IPv4 CIDR block such as 10.20.0.0/16"),
    ("cidr host bits", {"network": {"cidr": "10.0.0.1/16"}}, "modelfleet:network.cidr",
     "has host bits set; did you mean 10.0.0.0/16?"),
    ("vpc too big", {"network": {"cidr": "10.0.0.0/12"}}, "modelfleet:network.cidr",
     "a /12 is larger than AWS allows for a VPC (/16 to /28)"),
    ("vpc too small", {"network": {"cidr": "10.0.0.0/26"}}, "modelfleet:network.cidr",
     "a /26 is smaller than modelfleet lays out (/16 to /24"),
    ("public vpc range", {"network": {"cidr": "8.8.0.0/16"}}, "modelfleet:network.cidr",
     "must be inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16: peering"),
    ("too few azs", {"network": {"az_count": 1}}, "modelfleet:network.az_count",
     "must be between 2 and 6 (got 1)"),
    ("too many azs", {"network": {"az_count": 7}}, "modelfleet:network.az_count",
     "must be between 2 and 6 (got 7)"),
    ("az count not a number", {"network": {"az_count": "three"}}, "modelfleet:network.az_count",
     "must be a whole number (got 'three')"),
    ("nat strategy", {"network": {"nat_strategy": "many"}}, "modelfleet:network.nat_strategy",
     "must be one of none, single, per_az (got 'many')"),
    ("tier", {"tier": "qa"}, "modelfleet:tier", "must be one of dev, staging, prod (got 'qa')"),
    ("typo at the top", {"netwrk": {}}, "modelfleet:netwrk",
     "unknown key (did you mean 'modelfleet:network'?)"),
    ("typo inside", {"network": {"az_cuont": 3}}, "modelfleet:network.az_cuont",
     "unknown key (did you mean 'az_count'?); allowed keys: availability_zones, az_count, cidr,"),
    ("missing owner", {"owner": None}, "modelfleet:owner", "is required (owning team or address)"),
    ("missing region", {"aws:region": None}, "aws:region", "is required"),
    ("missing cidr", {"network": {"cidr": None}}, "modelfleet:network.cidr", "is required"),
    ("region", {"aws:region": "europe"}, "aws:region", "must be an AWS region code"),
    ("zone of another region", {"network": {"availability_zones": ["eu-west-1a", "eu-west-1b", "us-east-1a"]}},
     "modelfleet:network.availability_zones", "us-east-1a not in eu-west-1"),
    ("zones fewer than az_count", {"network": {"availability_zones": ["eu-west-1a", "eu-west-1b"]}},
     "modelfleet:network.availability_zones", "needs az_count distinct zones (got 2)"),
    ("reserved tag in capitals", {"tags": {"Owner": "x"}}, "modelfleet:tags.Owner", "is set by modelfleet"),
    ("subnet outside vpc",
     {"network": {"public_subnet_cidrs": ["10.31.0.0/24", "10.30.1.0/24", "10.30.2.0/24"]}},
     "modelfleet:network.public_subnet_cidrs[0]", "10.31.0.0/24 is outside the VPC CIDR 10.30.0.0/16"),
    ("subnets overlap",
     {"network": {"public_subnet_cidrs": ["10.30.200.0/24", "10.30.200.0/25", "10.30.202.0/24"]}},
     "modelfleet:network.public_subnet_cidrs[1]",
     "10.30.200.0/25 overlaps public subnet 0 (10.30.200.0/24)"),
    ("explicit subnet in a derived slot",
     {"network": {"public_subnet_cidrs": ["10.30.0.0/24", "10.30.201.0/24", "10.30.202.0/24"]}},
     "modelfleet:network.public_subnet_cidrs[0]", "10.30.0.0/24 overlaps private subnet 0 (10.30.0.0/19)"),
    ("one subnet per az", {"network": {"private_subnet_cidrs": ["10.30.0.0/19"]}},
     "modelfleet:network.private_subnet_cidrs", "needs one subnet per AZ: 3 (got 1)"),
    ("subnet larger than vpc", {"network": {"cidr": "10.30.0.0/20"}}, "modelfleet:network.private_subnet_prefix",
     "a /19 subnet is larger than the /20 VPC; use a larger VPC or a longer prefix"),
    ("too few slots", {"network": {"cidr": "10.30.0.0/18"}}, "modelfleet:network.private_subnet_prefix",
     "10.30.0.0/18 has room for 2 /19 subnets, not 3"),
    ("subnets do not fit", {"network": {"cidr": "10.30.0.0/18", "az_count": 2}},
     "modelfleet:network.cidr", "10.30.0.0/18 cannot hold 2 private /19 and 2 public /24 subnets"),
    ("duplicate endpoint", {"network": {"interface_endpoints": ["logs", "sts", "logs"]}},
     "modelfleet:network.interface_endpoints", "lists 'logs' twice"),
    ("no nat and no endpoints", {"network": {"nat_strategy": "none", "interface_endpoints": ["sts"]}},
     "modelfleet:network.interface_endpoints", "without NAT the VPC needs endpoints for sagemaker.api, sagemaker.runtime, ecr.api"),
    ("subnet prefix range", {"network": {"private_subnet_prefix": 30}},
     "modelfleet:network.private_subnet_prefix", "must be between 16 and 27 (got 30)"),
    ("retention not allowed", {"network": {"flow_logs": {"retention_days": 10}}},
     "modelfleet:network.flow_logs.retention_days", "must be one of 1, 3, 5, 7, 14, 30,"),
    ("unknown endpoint", {"network": {"interface_endpoints": ["sagemaker"]}},
     "modelfleet:network.interface_endpoints[0]", "must be one of sagemaker.api, sagemaker.runtime"),
    ("reserved tag", {"tags": {"owner": "x"}}, "modelfleet:tags.owner",
     "tag 'owner' is set by modelfleet; use modelfleet:owner instead"),
    ("aws tag", {"tags": {"aws:team": "x"}}, "modelfleet:tags.aws:team",
     "tag keys starting with 'aws:' are reserved by AWS"),
    ("network not a mapping", {"network": "10.0.0.0/16"}, "modelfleet:network",
     "must be a mapping of settings"),
    ("protect not a bool", {"protect_stateful": "maybe"}, "modelfleet:protect_stateful",
     "must be true or false (got 'maybe')"),
]  # fmt: skip


def _apply(change: dict[str, Any]) -> dict[str, Any]:
    config = valid_config()
    for key, value in change.items():
        full = key if ":" in key else f"modelfleet:{key}"
        if isinstance(value, dict) and isinstance(config.get(full), dict):
            for inner, inner_value in value.items():
                if inner_value is None:
                    config[full].pop(inner, None)
                else:
                    config[full][inner] = inner_value
        elif value is None:
            config.pop(full, None)
        else:
            config[full] = value
    return config


@pytest.mark.parametrize(
    ("change", "path", "text"),
    [case[1:] for case in BAD_CONFIGS],
    ids=[case[0] for case in BAD_CONFIGS],
)
def test_bad_config_names_its_key_path_and_what_is_allowed(change, path, text):
    found = problems(_apply(change))
    assert any(p.startswith(f"{path}: ") and text in p for p in found), found


def test_every_problem_is_reported_at_once():
    config = _apply({"tier": "qa", "network": {"az_count": 9, "nat_strategy": "many"}})
    assert problems(config) == [
        "modelfleet:network.az_count: must be between 2 and 6 (got 9)",
        "modelfleet:network.nat_strategy: must be one of none, single, per_az (got 'many')",
        "modelfleet:tier: must be one of dev, staging, prod (got 'qa')",
    ]


def test_the_error_reads_as_a_list_under_the_stack_name():
    with pytest.raises(SettingsError) as caught:
        load_settings("Prod_1", _apply({"network": {"cidr": "10.0.0.1/16"}}))
    assert str(caught.value) == (
        "stack 'Prod_1' has 2 configuration problems:\n"
        "  - modelfleet:network.cidr: has host bits set; did you mean 10.0.0.0/16? "
        "(got '10.0.0.1/16')\n"
        "  - stack name: must be 2-20 lowercase letters, digits or '-', starting with a letter "
        "(got 'Prod_1')"
    )


def test_section_problems_and_cross_field_problems_come_together():
    config = _apply(
        {
            "owner": None,
            "network": {"private_subnet_cidrs": ["10.30.0.0/19", "10.30.16.0/20", "10.29.0.0/19"]},
        }
    )
    assert problems(config) == [
        "modelfleet:network.private_subnet_cidrs[1]: 10.30.16.0/20 overlaps private subnet 0 (10.30.0.0/19)",
        "modelfleet:network.private_subnet_cidrs[2]: 10.29.0.0/19 is outside the VPC CIDR 10.30.0.0/16",
        "modelfleet:owner: is required (owning team or address)",
    ]


def test_a_bad_cidr_is_reported_beside_other_network_problems():
    config = _apply({"network": {"cidr": "100.64.0.0/16", "az_count": 7, "nat_stratgy": "x"}})
    assert [p.split(": ")[0] for p in problems(config)] == [
        "modelfleet:network.az_count",
        "modelfleet:network.cidr",
        "modelfleet:network.nat_stratgy",
    ]


def _settings_models(base: type) -> list[type]:
    found = []
    for cls in base.__subclasses__():
        found += [cls, *_settings_models(cls)]
    return found


def test_every_min_max_pair_of_every_settings_model_is_ordered():
    """The bounds rule lives on the base class, so no model's pair can go unchecked."""
    import pydantic

    import infra.settings.platform  # noqa: F401 - registers every settings model
    from infra.settings.types import Strict

    pairs = [
        (cls, name, "max_" + name.removeprefix("min_"))
        for cls in _settings_models(Strict)
        for name in cls.model_fields
        if name.startswith("min_") and "max_" + name.removeprefix("min_") in cls.model_fields
    ]
    assert {cls.__name__ for cls, _, _ in pairs} >= {
        "AutoscalingSettings",
        "GpuPoolSettings",
        "SystemNodeSettings",
    }
    for cls, low, high in pairs:
        with pytest.raises(pydantic.ValidationError) as caught:
            cls.model_construct(**{low: 2, high: 1})._ordered_bounds()
        assert caught.value.errors()[0]["loc"] == (low,), cls
