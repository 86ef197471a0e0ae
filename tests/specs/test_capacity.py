"""Team capacity from the settings: the arithmetic new-model refuses with, in step with the pack."""

from __future__ import annotations

import pytest

from infra.plan.policy import config_path, load_settings, stack_resources
from infra.selfservice.quota import quota_problems
from infra.settings.platform import load_settings as load_stack_settings
from infra.specs.capacity import (
    Capacity,
    PoolCeiling,
    canary_scales,
    model_capacity,
    pool_capped,
    pool_ceiling,
    pool_gpu_ceilings,
    team_capacity,
)
from infra.stackfiles.read import read_project, read_stack_config
from policies.rules.capacity import team_usage
from tests.conftest import ROOT, SHIPPED_STACKS, valid_config


def _settings(stack: str):
    project = read_project(ROOT)
    return load_stack_settings(stack, read_stack_config(project, project.stack_file(stack)).values)


def _model(**override):
    entry = {
        "name": "scorer", "team": "risk", "backend": "sagemaker", "framework": {"name": "xgboost", "version": "1.7-1"},
        "instance_type": "ml.g5.xlarge", "slo": {"p99_latency_ms": 100, "error_rate_percent": 1},
        "variants": {"stable": {"model_data": "s3://bucket-1/m/model.tar.gz", "instance_count": 2}},
        "autoscaling": {"min_instances": 2, "max_instances": 5, "target_invocations_per_instance_per_minute": 60},
    } | override  # fmt: skip
    return load_stack_settings("prod", valid_config() | {"modelfleet:models": [entry]}).models[0]


def test_a_variant_counts_at_its_autoscaling_max_and_gpus_per_instance():
    assert model_capacity(_model()) == Capacity(instances=5, gpus=5)
    assert model_capacity(_model(instance_type="ml.c5.xlarge")) == Capacity(instances=5, gpus=0)


def test_a_placed_model_counts_its_gpus_per_copy_at_max_copies_and_no_instances():
    settings = _settings("prod")
    models = {m.name: m for m in settings.models}
    assert model_capacity(models["support-assistant"]) == Capacity(instances=0, gpus=6)  # 1 GPU x 6 copies
    assert (
        model_capacity(models["ticket-router"]) == Capacity()
    )  # CPU-only copies, on the platform's instances


def test_a_canary_counts_at_max_unless_parked_at_weight_zero():
    canary = {"model_data": "s3://bucket-1/m/v2.tar.gz", "instance_count": 2}
    live = {"stable": {"model_data": "s3://bucket-1/m/model.tar.gz", "instance_count": 2, "weight": 90}}
    assert model_capacity(_model(variants=live | {"canary": canary | {"weight": 10}})).instances == 10
    parked = {"stable": live["stable"] | {"weight": 100}, "canary": canary | {"weight": 0}}
    assert model_capacity(_model(variants=parked)).instances == 7


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_settings_and_pack_count_the_same_capacity(shipped_plans, stack):
    settings = _settings(stack)
    ceilings = {p.name: pool_ceiling(p.instance_types, p.max_size).gpus for p in settings.gpu_pools}
    from_settings = {t: c for t, c in team_capacity(settings.models, ceilings).items() if c != Capacity()}
    from_plan = {
        team: Capacity(usage.instances, usage.gpus)
        for team, usage in team_usage(stack_resources(shipped_plans[stack])).items()
    }
    assert from_settings == from_plan


def test_a_model_over_quota_gets_one_sentence_per_quota_with_the_sum():
    policy = load_settings(config_path(ROOT, "dev"))
    dev = _settings("dev")
    new = _model(team="search", instance_type="ml.g5.xlarge")
    enforced = ["team-gpu-quota", "team-instance-quota"]
    problems = quota_problems(dev.models, new, policy.properties, enforced, "dev.json")
    assert problems == [
        "team search would scale to 9 GPUs (4 today + 5 for scorer at max scale); "
        "its quota is 4 (dev.json: team-gpu-quota.quotas.search)",
        "team search would scale to 9 instances or replicas (4 today + 5 for scorer at max scale); "
        "its quota is 8 (dev.json: team-instance-quota.quotas.search)",
    ]
    assert quota_problems(dev.models, new, policy.properties, [], "dev.json") == []  # advisory: not refused
    assert (
        quota_problems(dev.models, _model(instance_type="ml.c5.xlarge"), policy.properties, enforced, "x")
        == []
    )


def test_a_canary_scales_only_when_it_takes_traffic():
    assert canary_scales(10) and canary_scales(0.5)
    assert not canary_scales(0)


def test_a_pool_holds_at_most_max_size_nodes_of_its_largest_type():
    assert pool_ceiling(["g6.xlarge", "g6.2xlarge"], 4) == PoolCeiling(nodes=4, gpus=4, vcpus=32)
    assert pool_ceiling(["g5.xlarge", "g5.12xlarge"], 3) == PoolCeiling(nodes=3, gpus=12, vcpus=144)


def test_a_teams_gpus_on_a_pool_count_at_most_at_the_pools_ceiling():
    demand = {("search", "g5"): 12, ("risk", "g5"): 2, ("search", "p5"): 8}
    assert pool_capped(demand, {"g5": 8}) == {"search": 16, "risk": 2}  # p5 has no ceiling: uncapped
    assert pool_capped(demand, {}) == {"search": 20, "risk": 2}


def test_team_capacity_caps_eks_gpus_per_pool_only_when_told_the_pools():
    dev = _settings("dev")
    uncapped = team_capacity(dev.models)
    (embedder,) = dev.eks_models
    wanted = uncapped[embedder.team].gpus
    assert team_capacity(dev.models, {embedder.eks.pool: 1})[embedder.team] == Capacity(
        uncapped[embedder.team].instances, wanted - model_capacity(embedder).gpus + 1
    )
    assert team_capacity(dev.models, {embedder.eks.pool: 1000}) == uncapped


def test_new_model_counts_eks_gpus_as_the_pack_does_capped_at_the_pools_ceiling():
    policy = load_settings(config_path(ROOT, "dev"))
    dev = _settings("dev")
    (embedder,) = dev.eks_models
    others = [m for m in dev.models if m.name != embedder.name]
    enforced = ["team-gpu-quota"]
    # Alone on its pool, the model asks for its replicas' GPUs; a pool holding fewer caps what it adds.
    uncapped = quota_problems(others, embedder, {**policy.properties, "team-gpu-quota": {
        "quotas": {embedder.team: 1}, "default_quota": 0}}, enforced, "dev.json")  # fmt: skip
    assert uncapped and "for doc-embedder at max scale" in uncapped[0]
    capped = quota_problems(others, embedder, {**policy.properties, "team-gpu-quota": {
        "quotas": {embedder.team: 1}, "default_quota": 0}}, enforced, "dev.json", {embedder.eks.pool: 1})  # fmt: skip
    assert capped == []
    assert pool_gpu_ceilings(dev.gpu_pools) == {p.name: pool_ceiling(p.instance_types, p.max_size).gpus
                                               for p in dev.gpu_pools}  # fmt: skip
