"""Shared endpoints and placed models: what the catalog accepts, and every refusal with its key path."""

from __future__ import annotations

import json

import pytest

from infra.settings.platform import SettingsError, load_settings
from tests.conftest import ROOT, stack_settings


def prod_config() -> dict:
    from infra.stackfiles.read import read_project, read_stack_config

    project = read_project(ROOT)
    values = read_stack_config(project, project.stack_file("prod")).values
    return {k: json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v for k, v in values.items()}


def model(config: dict, name: str) -> dict:
    return next(m for m in config["modelfleet:models"] if m["name"] == name)


def problems(config: dict) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", config)
    return {p.path: p.message for p in caught.value.problems}


def test_prod_places_an_llm_and_a_classic_model_on_one_shared_endpoint():
    settings = stack_settings("prod")
    (shared,) = settings.shared_endpoints
    placed = settings.placed_on(shared.name)
    assert {m.name for m in placed} == {"support-assistant", "ticket-router"}
    llm = next(m for m in placed if m.name == "support-assistant")
    assert llm.reservation().accelerators == llm.vllm.tensor_parallel_size == 1  # default: one GPU per rank
    assert llm.image_uri.startswith("763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.38.0-")


def test_a_reservation_larger_than_the_instance_names_each_key_and_the_numbers():
    config = prod_config()
    component = model(config, "support-assistant")["component"]
    component |= {"cpu_cores": 64, "memory_mib": 300_000}
    found = problems(config)
    assert found["modelfleet:models[2].component.cpu_cores"] == (
        "ml.g5.12xlarge has 48 vCPU(s); a copy reserves 64"
    )
    assert (
        "offers components 176947 MiB (90% of 192 GiB); a copy reserves 300000"
        in (found["modelfleet:models[2].component.memory_mib"])
    )


def test_an_llm_that_cannot_fit_the_endpoints_gpus_is_refused_with_what_would():
    config = prod_config()
    model(config, "support-assistant")["vllm"]["max_model_len"] = 131072
    message = problems(config)["modelfleet:models[2].vllm"]
    assert "does not fit ml.g5.12xlarge" in message and "tensor_parallel_size 4" in message


def test_a_missing_engine_option_is_named():
    config = prod_config()
    del model(config, "support-assistant")["vllm"]["max_model_len"]
    assert problems(config) == {
        "modelfleet:models[2].vllm.max_model_len": "is required (longest prompt + completion, tokens)"
    }


def test_minimum_copies_must_pack_onto_the_minimum_instances():
    config = prod_config()
    model(config, "support-assistant")["component"] |= {"min_copies": 9, "max_copies": 10}
    message = problems(config)["modelfleet:shared_endpoints[0].min_instances"]
    assert "support-assistant 9 x (1 GPU(s), 8 vCPU(s), 49152 MiB)" in message
    assert (
        "2 instance(s) of ml.g5.12xlarge" in message
        and "leave copies of support-assistant unplaced" in message
    )


def test_scale_to_zero_instances_hold_no_minimum_copy():
    config = prod_config()
    config["modelfleet:shared_endpoints"][0]["min_instances"] = 0
    message = problems(config)["modelfleet:shared_endpoints[0].min_instances"]
    assert "0 instance(s)" in message


def test_a_placed_model_takes_no_endpoint_keys_no_canary_and_names_an_existing_endpoint():
    config = prod_config()
    router = model(config, "ticket-router")
    router |= {"instance_type": "ml.m5.large", "endpoint": "nowhere"}
    router["variants"]["stable"]["weight"] = 90
    router["variants"]["canary"] = {
        "model_data": "s3://acme-ml-artifacts-prod/ticket-router/v8/model.tar.gz",
        "weight": 10,
    }
    found = problems(config)
    assert found["modelfleet:models[3].instance_type"].startswith("does not apply on a shared endpoint")
    assert "splits no traffic" in found["modelfleet:models[3].variants.canary"]


def test_an_unknown_shared_endpoint_lists_the_known_ones():
    config = prod_config()
    model(config, "ticket-router")["endpoint"] = "nowhere"
    assert problems(config) == {
        "modelfleet:models[3].endpoint": "no shared endpoint named 'nowhere' (modelfleet:shared_endpoints: gpu-shared)"
    }


def test_an_llm_component_runs_the_pinned_lmi_container_only():
    config = prod_config()
    llm = model(config, "support-assistant")
    llm |= {"framework": {"name": "vllm", "version": "0.30.0"}}
    llm["component"]["accelerators"] = 2
    found = problems(config)
    assert "runs djl-lmi" in found["modelfleet:models[2].framework.name"]
    assert found["modelfleet:models[2].component.accelerators"].startswith("a copy uses one GPU per")


def test_a_classic_component_loads_one_archive():
    config = prod_config()
    model(config, "ticket-router")["variants"]["stable"]["model_data"] = (
        "s3://acme-ml-artifacts-prod/ticket-router/v7/"
    )
    assert (
        "one gzip-compressed tar archive"
        in problems(config)["modelfleet:models[3].variants.stable.model_data"]
    )


def test_a_vllm_model_with_its_own_endpoint_is_told_to_place_it():
    config = prod_config()
    llm = model(config, "support-assistant")
    del llm["endpoint"], llm["component"]
    llm |= {
        "instance_type": "ml.g5.2xlarge",
        "autoscaling": {
            "min_instances": 2,
            "max_instances": 2,
            "target_invocations_per_instance_per_minute": 10,
        },
    }
    found = problems(config)
    assert (
        "runs as an inference component: place it on a shared endpoint"
        in found["modelfleet:models[2].runtime"]
    )


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (
            {"min_copies": 3, "max_copies": 2},
            "component.min_copies",
            "min_copies (3) is above max_copies (2)",
        ),
        ({"target_concurrent_requests_per_copy": None}, "component", "set target_invocations_per_copy or"),
        (
            {"rolling_update": {"batch": {"type": "capacity_percent", "value": 80}}},
            "component.rolling_update",
            "a capacity_percent batch is 5-50 %",
        ),
        (
            {"scale_to_zero_acknowledged": "cold starts (minutes)!"},
            "component.scale_to_zero_acknowledged",
            "",
        ),
    ],
)
def test_component_settings_hold_sagemakers_limits(change, key, expected):
    config = prod_config()
    model(config, "support-assistant")["component"] |= change
    found = problems(config)
    assert any(k.startswith(f"modelfleet:models[2].{key}") and expected in m for k, m in found.items()), found


def test_shared_endpoint_bounds():
    config = prod_config()
    config["modelfleet:shared_endpoints"][0] |= {"min_instances": 5, "max_instances": 4}
    found = problems(config)
    assert found == {
        "modelfleet:shared_endpoints[0].min_instances": "min_instances (5) is above max_instances (4)"
    }
