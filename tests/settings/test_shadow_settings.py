"""Shadow variants in the catalog: SageMaker's rules for ShadowProductionVariants, each at its key path."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings.platform import SettingsError, load_settings
from tests.conftest import valid_config
from tests.settings.test_catalog import model, problems

SHADOW = {"model_data": "s3://artifacts/fraud/v3/model.tar.gz", "instance_count": 1, "weight": 25}
STABLE = {"model_data": "s3://artifacts/fraud/v1/model.tar.gz", "instance_count": 2}


def shadowed(**changes: Any) -> dict[str, Any]:
    return model(**({"variants": {"stable": STABLE, "shadow": SHADOW}} | changes))


def test_a_shadow_beside_one_production_variant_is_accepted_and_not_a_production_variant():
    settings = load_settings("prod", valid_config() | {"modelfleet:models": [shadowed()]})
    (entry,) = settings.sagemaker_models
    assert [name for name, _ in entry.variants.items()] == ["stable"]
    assert [name for name, _ in entry.variants.with_shadow()] == ["stable", "shadow"]
    assert entry.variants.shadow.weight == 25


def test_a_shadow_copies_all_requests_unless_told_otherwise():
    entry = shadowed(variants={"stable": STABLE, "shadow": {**SHADOW, "weight": 100}})
    entry["variants"]["shadow"].pop("weight")
    settings = load_settings("prod", valid_config() | {"modelfleet:models": [entry]})
    assert settings.sagemaker_models[0].variants.shadow.weight == 100


def test_a_shadow_and_a_canary_are_mutually_exclusive():
    entry = model()
    entry["variants"]["shadow"] = SHADOW
    found = problems(entry)
    assert any(
        p.startswith("modelfleet:models[0].variants.shadow: ") and "exactly one production variant" in p
        for p in found
    ), found


@pytest.mark.parametrize("weight", [0, 101])
def test_the_shadow_share_is_a_percentage_of_requests_from_1_to_100(weight):
    found = problems(shadowed(variants={"stable": STABLE, "shadow": {**SHADOW, "weight": weight}}))
    assert any(p.startswith("modelfleet:models[0].variants.shadow.weight: ") for p in found), found


def test_a_serverless_model_takes_no_shadow():
    entry = shadowed(serverless={"memory_mb": 2048})
    for key in ("instance_type", "autoscaling"):
        entry.pop(key)
    entry["variants"]["stable"].pop("instance_count")
    found = problems(entry, tier="dev")
    assert any(p.startswith("modelfleet:models[0].variants.shadow: ") and "serverless" in p for p in found), (
        found
    )


def test_a_model_on_a_shared_endpoint_takes_no_shadow():
    entry = shadowed(
        endpoint="gpu-shared",
        component={
            "cpu_cores": 2,
            "memory_mib": 4096,
            "min_copies": 1,
            "max_copies": 2,
            "target_invocations_per_copy": 100,
        },
    )
    for key in ("instance_type", "autoscaling"):
        entry.pop(key)
    shared = [
        {"name": "gpu-shared", "instance_type": "ml.g5.12xlarge", "min_instances": 2, "max_instances": 4}
    ]
    config = valid_config() | {"modelfleet:models": [entry], "modelfleet:shared_endpoints": shared}
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", config)
    found = [str(p) for p in caught.value.problems]
    assert any(
        p.startswith("modelfleet:models[0].variants.shadow: ") and "shared endpoint 'gpu-shared'" in p
        for p in found
    ), found


def test_an_eks_model_takes_no_shadow():
    entry = model(
        backend="eks",
        eks={"pool": "g5"},
        autoscaling={"min_instances": 2, "max_instances": 4},
        variants={"stable": STABLE, "shadow": SHADOW},
    )
    found = problems(entry)
    assert any(
        p.startswith("modelfleet:models[0].variants.shadow: ") and "backend sagemaker" in p for p in found
    ), found


def test_a_shadow_from_the_registry_needs_registry_access():
    package = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/3"
    found = problems(shadowed(variants={"stable": STABLE, "shadow": {"model_package_arn": package}}))
    assert any(p.startswith("modelfleet:models[0].registry_access: ") for p in found), found


def test_a_shadow_needs_exactly_one_source():
    found = problems(shadowed(variants={"stable": STABLE, "shadow": {"instance_count": 1}}))
    assert any(p.startswith("modelfleet:models[0].variants.shadow: ") for p in found), found
