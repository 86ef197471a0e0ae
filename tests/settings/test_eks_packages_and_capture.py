"""EKS models from the model registry, version groups, and EKS data capture: each rule at its key path."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings.platform import SettingsError, load_settings
from tests.settings.test_catalog import model
from tests.settings.test_cluster import TODAY, config

GROUP = "modelfleet-prod-risk"
ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/4"
PATH = "modelfleet:models[0]"


def eks(**changes: Any) -> dict[str, Any]:
    return model(
        backend="eks",
        eks={"pool": "g5"},
        autoscaling={"min_instances": 2, "max_instances": 4},
        **changes,
    )


def settings_of(entry: dict[str, Any], tier: str = "prod"):
    return load_settings(tier, config(tier, models=[entry]), today=TODAY)


def problems(entry: dict[str, Any], tier: str = "prod") -> list[str]:
    with pytest.raises(SettingsError) as caught:
        settings_of(entry, tier)
    return [str(p) for p in caught.value.problems]


def test_an_eks_variant_runs_a_package_with_its_pinned_artifact():
    entry = eks()
    entry["variants"]["canary"].update(model_package_group=GROUP, model_package_arn=ARN)
    (loaded,) = settings_of(entry).models
    assert loaded.variants.canary.model_package_arn == ARN
    assert loaded.variants.canary.model_data == "s3://artifacts/fraud/v2/model.tar.gz"


def test_an_eks_package_without_its_artifact_copied_says_to_pin_it():
    entry = eks()
    entry["variants"]["canary"] = {"model_package_arn": ARN, "instance_count": 1, "weight": 10}
    (found,) = problems(entry)
    assert found.startswith(f"{PATH}.variants.canary.model_package_arn: backend eks runs the package's")
    assert "modelfleet registry pin --stack <env> --model fraud-scorer" in found


def test_a_group_without_a_pinned_version_says_to_pin_it():
    entry = model()
    entry["variants"]["canary"] = {"model_package_group": GROUP, "instance_count": 2, "weight": 10}
    found = problems(entry)
    assert any(
        p.startswith(f"{PATH}.variants.canary: follows model package group '{GROUP}' but pins no version yet")
        for p in found
    ), found


def test_a_pinned_version_of_another_group_is_refused():
    entry = model()
    entry["variants"]["canary"] = {
        "model_package_group": "other-team",
        "model_package_arn": ARN,
        "weight": 10,
    }
    assert any(
        f"model_package_arn is a version of group '{GROUP}', not of model_package_group 'other-team'" in p
        for p in problems(entry)
    )


def test_a_group_name_follows_sagemakers_pattern():
    entry = model()
    entry["variants"]["canary"].update(model_package_group="-bad_name", model_package_arn=ARN)
    assert any("must be a model package group name" in p for p in problems(entry))


def test_sagemaker_takes_exactly_one_source_per_variant():
    entry = model(registry_access={"artifact_s3_prefix": "s3://artifacts/fraud/", "image_repository": "x"})
    entry["variants"]["canary"]["model_package_arn"] = ARN
    assert f"{PATH}.variants.canary: set exactly one of model_data or model_package_arn" in " ".join(
        problems(entry)
    )


def test_an_eks_model_of_our_container_captures_at_the_tiers_share():
    (loaded,) = settings_of(eks()).models
    assert loaded.data_capture.sampling_percent == 20 and loaded.captures
    (dev,) = settings_of(eks(), "dev").models
    assert not dev.captures


def test_tier_capture_defaults_skip_eks_runtimes_that_cannot_capture():
    entry = eks(
        runtime="tei",
        tei={"parameters_billion": 0.335, "dtype": "float16"},
        variants={"stable": {"model_data": "s3://artifacts/bge/", "instance_count": 2}},
    )
    (loaded,) = settings_of(entry).models
    assert loaded.data_capture.sampling_percent == 0 and not loaded.captures


def test_capture_on_an_eks_runtime_other_than_ours_is_refused():
    entry = eks(
        runtime="tei",
        tei={"parameters_billion": 0.335, "dtype": "float16"},
        variants={"stable": {"model_data": "s3://artifacts/bge/", "instance_count": 2}},
        data_capture={"sampling_percent": 5},
    )
    assert any(
        p.startswith(f"{PATH}.data_capture.sampling_percent: on EKS our own container captures requests")
        for p in problems(entry)
    )


def test_drift_on_an_eks_model_needs_capture():
    entry = eks(data_capture={"sampling_percent": 0}, drift={"features": ["amount"]})
    assert any(p.startswith(f"{PATH}.drift.schedule: compares captured requests") for p in problems(entry))
    loaded = settings_of(eks(drift={"features": ["amount"]}))
    assert [m.name for m in loaded.drift_models] == ["fraud-scorer"]
    assert [m.name for m in loaded.capturing_models] == ["fraud-scorer"]
