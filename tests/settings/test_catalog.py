"""The model catalog: every bad entry named by its key path, before anything is declared."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.settings.catalog import MIN_P99_LATENCY_MS, MODEL_ADAPTER
from infra.settings.platform import SettingsError, load_settings
from infra.specs.naming import MODEL_NAME_MAX_LENGTH
from tests.conftest import valid_config

DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:" + "ab" * 32


def model(**changes: Any) -> dict[str, Any]:
    entry = {
        "name": "fraud-scorer",
        "team": "risk",
        "backend": "sagemaker",
        "image": DIGEST,
        "instance_type": "ml.c5.xlarge",
        "variants": {
            "stable": {
                "model_data": "s3://artifacts/fraud/v1/model.tar.gz",
                "instance_count": 2,
                "weight": 90,
            },
            "canary": {
                "model_data": "s3://artifacts/fraud/v2/model.tar.gz",
                "instance_count": 2,
                "weight": 10,
            },
        },
        "autoscaling": {
            "min_instances": 2,
            "max_instances": 6,
            "target_invocations_per_instance_per_minute": 500,
        },
        "slo": {"p99_latency_ms": 100, "error_rate_percent": 1},
    }
    entry.update(copy.deepcopy(changes))
    if entry["backend"] == "eks":
        entry.pop("instance_type", None)  # SageMaker's: an eks entry must not carry it
    return entry


def problems(*models: dict[str, Any], tier: str = "prod") -> list[str]:
    config = valid_config() | {"modelfleet:tier": tier, "modelfleet:models": list(models)}
    with pytest.raises(SettingsError) as caught:
        load_settings(tier, config)
    return [str(p) for p in caught.value.problems]


def test_a_valid_entry_gets_tier_defaults():
    settings = load_settings("prod", valid_config() | {"modelfleet:models": [model()]})
    (entry,) = settings.sagemaker_models
    assert entry.deployment.strategy == "canary"
    assert entry.data_capture.sampling_percent == 20
    assert entry.alarms.no_invocations_minutes == 30
    assert entry.image_uri == DIGEST


def test_dev_tier_defaults_differ():
    config = valid_config() | {"modelfleet:tier": "dev", "modelfleet:models": [model()]}
    (entry,) = load_settings("dev", config).models
    assert entry.deployment.strategy == "all_at_once"
    assert entry.data_capture.sampling_percent == 0
    assert entry.alarms.no_invocations_minutes is None


def test_a_framework_resolves_to_a_deep_learning_container_offline():
    entry = model(image=None, framework={"name": "xgboost", "version": "1.7-1"})
    (resolved,) = load_settings("prod", valid_config() | {"modelfleet:models": [entry]}).models
    assert resolved.image_uri == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


BAD_MODELS = [
    ("unknown size", {"instance_type": "ml.g5.3xlarge"}, "modelfleet:models[0].instance_type",
     "'ml.g5.3xlarge' is not a size of ml.g5; use one of ml.g5.xlarge, ml.g5.2xlarge"),
    ("unknown family", {"instance_type": "ml.z9.large"}, "modelfleet:models[0].instance_type",
     "is not a SageMaker hosting instance type; families: ml.c5,"),
    ("canary without artifact", {"variants": {"stable": {"model_data": "s3://art/b/m.tar.gz", "weight": 90},
                                              "canary": {"weight": 10}}},
     "modelfleet:models[0].variants.canary", "set model_data or model_package_arn"),
    ("weights over 100", {"variants": {"stable": {"model_data": "s3://art/b/m.tar.gz", "weight": 90},
                                       "canary": {"model_data": "s3://art/c/m.tar.gz", "weight": 20}}},
     "modelfleet:models[0].variants", "variant weights are percentages that add up to 100 (got 90 + 20)"),
    ("stable alone below 100", {"variants": {"stable": {"model_data": "s3://art/b/m.tar.gz", "weight": 50}}},
     "modelfleet:models[0].variants", "add up to 100 (got 50)"),
    ("negative weight", {"variants": {"stable": {"model_data": "s3://art/b/m.tar.gz", "weight": -5}}},
     "modelfleet:models[0].variants.stable.weight", "must be between 0 and 100 (got -5)"),
    ("min above max", {"autoscaling": {"min_instances": 5, "max_instances": 2,
                                       "target_invocations_per_instance_per_minute": 10}},
     "modelfleet:models[0].autoscaling.min_instances", "min_instances (5) is above max_instances (2)"),
    ("count outside bounds", {"autoscaling": {"min_instances": 3, "max_instances": 6,
                                              "target_invocations_per_instance_per_minute": 10}},
     "modelfleet:models[0].variants.stable.instance_count", "must be within autoscaling bounds 3-6 (got 2)"),
    ("framework version", {"image": None, "framework": {"name": "pytorch", "version": "9.9", "py_version": "py311"}},
     "modelfleet:models[0].framework.version", "the SageMaker SDK has no image: Unsupported pytorch version: 9.9"),
    ("unknown framework", {"image": None, "framework": {"name": "caffe", "version": "1"}},
     "modelfleet:models[0].framework.name", "must be one of pytorch, tensorflow, xgboost"),
    ("image and framework", {"framework": {"name": "xgboost", "version": "1.7-1"}},
     "modelfleet:models[0].image", "set exactly one of image or framework"),
    ("image by tag", {"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/scorer:latest"},
     "modelfleet:models[0].image", "is pinned by tag ':latest', which can move; pin it by digest, "
     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:<64 hex>"),
    ("image not in ECR", {"image": "docker.io/library/scorer@sha256:" + "a" * 64},
     "modelfleet:models[0].image", "must be an ECR image pinned by digest"),
    ("artifact not s3", {"variants": {"stable": {"model_data": "https://x/m.tar.gz"}}},
     "modelfleet:models[0].variants.stable.model_data", "must be an S3 URI like s3://bucket/path/model.tar.gz"),
    ("package unversioned", {"variants": {"stable": {
        "model_package_arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud"}}},
     "modelfleet:models[0].variants.stable.model_package_arn", "must be a versioned model package ARN"),
    ("package without registry access", {"variants": {"stable": {
        "model_package_arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/3"}}},
     "modelfleet:models[0].registry_access", "is required with model_package_arn"),
    ("no autoscaling", {"autoscaling": None}, "modelfleet:models[0].autoscaling",
     "is required for instance-based endpoints"),
    ("serverless with canary", {"instance_type": None, "autoscaling": None,
                                "serverless": {"memory_mb": 2048}}, "modelfleet:models[0].variants",
     "serverless endpoints take no canary"),
    ("serverless memory", {"serverless": {"memory_mb": 1500}}, "modelfleet:models[0].serverless.memory_mb",
     "must be one of 1024, 2048, 3072, 4096, 5120, 6144"),
    ("bad name", {"name": "Fraud_Scorer"}, "modelfleet:models[0].name",
     f"must be 3-{MODEL_NAME_MAX_LENGTH} lowercase letters, digits or '-'"),
    ("name too long", {"name": "a" * 70}, "modelfleet:models[0].name",
     f"must be at most {MODEL_NAME_MAX_LENGTH} characters (got 70): the IAM role"),
    ("name one too long", {"name": "a" * (MODEL_NAME_MAX_LENGTH + 1)}, "modelfleet:models[0].name",
     f"must be at most {MODEL_NAME_MAX_LENGTH} characters (got {MODEL_NAME_MAX_LENGTH + 1})"),
    ("unreachable p99", {"slo": {"p99_latency_ms": MIN_P99_LATENCY_MS - 1, "error_rate_percent": 1}},
     "modelfleet:models[0].slo.p99_latency_ms",
     f"no instance type can meet a p99 of {MIN_P99_LATENCY_MS - 1} ms"),
    ("bad backend", {"backend": "lambda"}, "modelfleet:models[0].backend", "must be one of sagemaker, eks"),
    ("typo", {"slos": {}}, "modelfleet:models[0].slos", "unknown key (did you mean 'slo'?)"),
    ("off hours in prod", {"off_hours": {"timezone": "Europe/Dublin"}}, "modelfleet:models[0].off_hours",
     "prod endpoints are not scaled down off-hours"),
    ("canary step over half", {"deployment": {"strategy": "canary", "step_percent": 60}},
     "modelfleet:models[0].deployment", "a canary may take at most 50 % of capacity (got 60)"),
    ("linear step too small", {"deployment": {"strategy": "linear", "step_percent": 5}},
     "modelfleet:models[0].deployment", "linear steps must be 10-50 % of capacity (got 5)"),
    ("timeout shorter than waits", {"deployment": {"strategy": "linear", "step_percent": 25, "wait_seconds": 900,
                                                   "max_execution_timeout_seconds": 3600}},
     "modelfleet:models[0].deployment", "max_execution_timeout_seconds (3600) must exceed the waits it covers (4500 s)"),
    ("bad time zone", {"off_hours": {"timezone": "Mars/Olympus"}}, "modelfleet:models[0].off_hours.timezone",
     "must be an IANA time zone"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "path", "text"), [c[1:] for c in BAD_MODELS], ids=[c[0] for c in BAD_MODELS]
)
def test_bad_entry_names_its_key_path(change, path, text):
    found = problems(model(**change))
    assert any(p.startswith(f"{path}: ") and text in p for p in found), found


def test_duplicate_names_are_reported_even_beside_other_problems():
    found = problems(model(), model(instance_type="ml.nope.large"))
    assert "modelfleet:models[1].name: duplicate model name 'fraud-scorer' (also models[0])" in found
    assert any(p.startswith("modelfleet:models[1].instance_type") for p in found)


def test_off_hours_are_fine_outside_prod():
    config = valid_config() | {
        "modelfleet:tier": "staging",
        "modelfleet:models": [
            model(off_hours={"timezone": "Europe/Dublin", "start": "07:30", "end": "19:00"})
        ],
    }
    (entry,) = load_settings("staging", config).models
    assert entry.off_hours.start == "07:30"


def test_every_model_problem_comes_at_once():
    found = problems(
        model(instance_type="ml.g5.3xlarge", slo={"p99_latency_ms": 0, "error_rate_percent": 1}),
        model(name="other", backend="lambda"),
    )
    assert [p.split(":")[1] for p in found] == [
        "models[0].instance_type",
        "models[0].slo.p99_latency_ms",
        "models[1].backend",
    ]


def test_a_serverless_model_in_prod_does_not_inherit_data_capture():
    entry = model(instance_type=None, autoscaling=None, serverless={"memory_mb": 2048},
                  variants={"stable": {"model_data": "s3://art/churn/v1/model.tar.gz"}})  # fmt: skip
    (resolved,) = load_settings("prod", valid_config() | {"modelfleet:models": [entry]}).models
    assert resolved.data_capture.sampling_percent == 0


def test_a_region_without_a_deep_learning_container_says_so_not_which_regions_come_last():
    entry = model(image=None, framework={"name": "xgboost", "version": "1.7-1"})
    config = valid_config() | {"aws:region": "ap-southeast-7", "modelfleet:models": [entry]}
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", config)
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem.startswith("modelfleet:models[0].framework.version: ")
    assert "xgboost has no Deep Learning Container in ap-southeast-7" in problem
    assert "serve an image by digest instead" in problem and "us-west-2" not in problem


def test_each_backend_has_only_its_own_keys_and_the_schema_shows_them():
    schema = MODEL_ADAPTER.json_schema()
    defs = schema["$defs"]
    sagemaker, eks = defs["SageMakerModel"]["properties"], defs["EksModel"]["properties"]
    assert {"instance_type", "framework", "serverless"} <= set(sagemaker) - set(eks)
    assert "eks" in set(eks) - set(sagemaker)
    assert {"name", "team", "variants", "slo", "rollout", "data_capture", "drift"} <= set(sagemaker) & set(
        eks
    )
    assert {"image", "autoscaling", "eks"} <= set(defs["EksModel"]["required"])


def test_a_key_of_the_other_backend_says_which_backend_it_belongs_to():
    eks_entry = model(backend="eks", eks={"pool": "g5"}, autoscaling={"min_instances": 2, "max_instances": 4})
    found = problems({**eks_entry, "instance_type": "ml.g5.xlarge"})
    assert "modelfleet:models[0].instance_type: applies to backend sagemaker only" in found
    missing = problems({k: v for k, v in model().items() if k != "backend"})
    assert "modelfleet:models[0].backend: is required: one of sagemaker, eks" in missing
