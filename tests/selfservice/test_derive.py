"""Derived values for new models and environments: sizing from peak and SLO, a free VPC range."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from infra.contracts import instances
from infra.selfservice.derive import (
    CannotDerive,
    SubnetPrefixes,
    choose_cidr,
    overlapping,
    size,
    subnet_prefixes,
    workers,
)
from infra.settings.catalog import MIN_P99_LATENCY_MS


def test_cpu_instances_serve_one_request_per_vcpu_and_gpu_ones_per_gpu():
    assert workers(instances.lookup("ml.c5.xlarge")) == 4
    assert workers(instances.lookup("ml.g5.12xlarge")) == 4  # 4 GPUs, 48 vCPUs
    assert workers(None, gpus_per_replica=2) == 2  # an EKS replica


def test_sizing_follows_the_load_test_formula_from_the_assumed_rate():
    sizing = size(peak_rps=50, p99_ms=100, worker_count=4, tier="dev")
    assert sizing.rate_per_instance == 40  # 4 workers x 1000 ms / 100 ms
    assert sizing.target_per_minute == 1200  # floor(40 x 60 x (1 - 0.5))
    assert sizing.needed_at_peak == 3  # ceil(50 x 60 / 1200)
    assert (sizing.min_instances, sizing.max_instances) == (1, 3)
    assert not sizing.measured and "assumed" in sizing.basis


def test_a_measured_rate_replaces_the_assumption():
    sizing = size(peak_rps=100, p99_ms=100, worker_count=4, tier="staging", measured_rate=10)
    assert (sizing.target_per_minute, sizing.needed_at_peak, sizing.max_instances) == (300, 20, 20)
    assert sizing.measured and "measured" in sizing.basis


def test_prod_keeps_two_instances_even_when_one_carries_the_peak():
    sizing = size(peak_rps=1, p99_ms=100, worker_count=4, tier="prod")
    assert (sizing.needed_at_peak, sizing.min_instances, sizing.max_instances) == (1, 2, 2)


def test_more_than_the_catalog_allows_is_a_clear_error():
    with pytest.raises(CannotDerive, match="needs 20000 instances, more than 100"):
        size(peak_rps=10_000, p99_ms=1000, worker_count=1, tier="dev")
    with pytest.raises(CannotDerive, match="must be positive"):
        size(peak_rps=0, p99_ms=100, worker_count=1, tier="dev")


def test_the_first_free_range_follows_the_tens_pattern_then_anything_free():
    taken = [IPv4Network(c) for c in ("10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16")]
    assert choose_cidr(taken) == IPv4Network("10.40.0.0/16")
    assert choose_cidr([IPv4Network("10.0.0.0/11")]) == IPv4Network("10.40.0.0/16")
    all_tens = [IPv4Network(f"10.{n}.0.0/16") for n in range(10, 256, 10)]
    assert choose_cidr(all_tens) == IPv4Network("10.0.0.0/16")
    assert choose_cidr(taken, prefix=20) == IPv4Network("10.40.0.0/20")


def test_no_free_range_is_an_error_and_overlaps_are_named():
    with pytest.raises(CannotDerive, match="no /16 left"):
        choose_cidr([IPv4Network("10.0.0.0/8")])
    others = {"dev": IPv4Network("10.10.0.0/16"), "prod": IPv4Network("10.30.0.0/16")}
    assert overlapping(IPv4Network("10.0.0.0/11"), others) == ["dev", "prod"]
    assert overlapping(IPv4Network("10.10.128.0/17"), others) == ["dev"]
    assert overlapping(IPv4Network("10.40.0.0/16"), others) == []


@pytest.mark.parametrize("prefix", range(9, 17))
def test_a_free_range_of_any_size_is_found_without_a_crash(prefix):
    taken = [IPv4Network("10.10.0.0/16")]
    found = choose_cidr(taken, prefix=prefix, within=IPv4Network("10.0.0.0/8"))
    assert found.prefixlen == prefix and not found.overlaps(taken[0])
    assert choose_cidr(taken, 16, within=IPv4Network("172.16.0.0/12")) == IPv4Network("172.16.0.0/16")


@pytest.mark.parametrize(
    ("vpc", "azs", "expected"),
    [("10.0.0.0/16", 3, (20, 24)), ("10.0.0.0/20", 3, (22, 24)), ("10.0.0.0/24", 3, (26, 28)),
     ("10.0.0.0/24", 2, (26, 26)), ("10.0.0.0/24", 6, None)],
)  # fmt: skip
def test_subnets_keep_the_tier_sizes_when_they_fit_else_shrink_public_first(vpc, azs, expected):
    preferred, longest = SubnetPrefixes(20, 24), SubnetPrefixes(27, 28)
    if expected is None:
        with pytest.raises(CannotDerive, match="use a larger VPC"):
            subnet_prefixes(IPv4Network(vpc), azs, preferred, longest)
        return
    fitted = subnet_prefixes(IPv4Network(vpc), azs, preferred, longest)
    assert (fitted.private, fitted.public) == expected
    used = azs * ((1 << (32 - fitted.private)) + (1 << (32 - fitted.public)))
    assert used <= IPv4Network(vpc).num_addresses


def test_an_objective_no_instance_can_meet_is_refused_with_the_reason():
    with pytest.raises(CannotDerive, match=f"no instance type can meet it.*{MIN_P99_LATENCY_MS} ms"):
        size(peak_rps=1, p99_ms=MIN_P99_LATENCY_MS - 1, worker_count=2, tier="dev")
    assert size(peak_rps=1, p99_ms=MIN_P99_LATENCY_MS, worker_count=2, tier="dev").min_instances == 1
    with pytest.raises(CannotDerive, match="above the 1,000,000 the catalog allows"):
        size(peak_rps=1, p99_ms=MIN_P99_LATENCY_MS, worker_count=128, tier="dev")
