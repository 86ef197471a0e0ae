"""A shadow variant as plain data: the spec, its alarms, what the role may read, the record and capacity."""

from __future__ import annotations

import pytest

from infra.settings.catalog import parse_model
from infra.specs import capacity, registry
from infra.specs.model_record import model_record
from infra.specs.sagemaker_specs import endpoint_spec
from tests.settings.test_catalog import model

STABLE = {"model_data": "s3://artifacts/fraud/v1/model.tar.gz", "instance_count": 2}
SHADOW = {"model_data": "s3://artifacts/fraud/v3/model.tar.gz", "instance_count": 1, "weight": 20}


@pytest.fixture(scope="module")
def shadowed():
    return parse_model(model(variants={"stable": STABLE, "shadow": SHADOW}), region="eu-west-1")


def test_the_spec_holds_the_shadow_apart_from_the_production_variants(shadowed):
    spec = endpoint_spec("prod", "eu-west-1", shadowed)
    assert [v.name for v in spec.variants] == ["stable"]
    assert spec.variants[0].weight == 100
    assert (spec.shadow.name, spec.shadow.weight, spec.shadow.instance_count) == ("shadow", 20, 1)
    assert spec.shadow.container["model_data_url"] == SHADOW["model_data"]
    assert spec.shadow.container["image"] == spec.variants[0].container["image"]


def test_the_role_may_read_the_shadows_artifact(shadowed):
    spec = endpoint_spec("prod", "eu-west-1", shadowed)
    assert "arn:aws:s3:::artifacts/fraud/v3/*" in spec.artifact_arns


def test_the_shadows_alarms_watch_its_p99_and_5xx_and_never_roll_back(shadowed):
    spec = endpoint_spec("prod", "eu-west-1", shadowed)
    alarms = {a.key: a for a in spec.alarms if a.variant == "shadow"}
    assert set(alarms) == {"shadow-p99-latency", "shadow-5xx-rate"}
    assert alarms["shadow-p99-latency"].threshold == 100 * 1000
    assert alarms["shadow-5xx-rate"].rate_of == ("Invocation5XXErrors", "Invocations")
    assert not any(a.rollback for a in alarms.values())
    assert {a.key for a in spec.alarms if a.rollback} == {"stable-p99-latency", "stable-5xx-rate"}


def test_the_shadow_takes_no_scaling_target(shadowed):
    spec = endpoint_spec("prod", "eu-west-1", shadowed)
    assert [v.variant for v in spec.scaling.variants] == ["stable"]


def test_without_a_shadow_the_spec_has_none():
    assert endpoint_spec("prod", "eu-west-1", parse_model(model(), region="eu-west-1")).shadow is None


def test_the_record_exports_the_shadow_beside_the_production_variants(shadowed):
    record = model_record("prod", "eu-west-1", shadowed)
    assert list(record["variants"]) == ["stable"]
    assert record["shadow"] == {"variant_name": "shadow", "copy_percent": 20, "instance_count": 1}
    assert "modelfleet-prod-fraud-scorer-shadow-p99-latency" in record["alarm_names"]


def test_quotas_count_the_shadows_instances(shadowed):
    plain = parse_model(model(variants={"stable": {**STABLE, "weight": 100}}), region="eu-west-1")
    assert capacity.model_capacity(shadowed).instances == capacity.model_capacity(plain).instances + 1


def test_the_registry_gate_checks_a_shadows_package():
    package = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/3"
    access = {"artifact_s3_prefix": "s3://artifacts/fraud/", "image_repository": model()["image"]}
    shadowed = parse_model(
        model(variants={"stable": STABLE, "shadow": {"model_package_arn": package}}, registry_access=access)
    )
    assert registry.packages([shadowed]) == {package: "fraud-scorer/shadow"}
