"""What the model components build, decided from the settings without Pulumi: endpoint and service specs."""

from __future__ import annotations

import pytest

from infra.settings.catalog import EksModel, SageMakerModel, parse_model
from infra.specs import naming
from infra.specs.k8s_pods import GPU_TOLERATION, service_spec
from infra.specs.sagemaker_specs import ScalingPolicy, VariantScaling, deployment_config, endpoint_spec
from tests.settings.test_catalog import DIGEST, model

PACKAGE = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/fraud/3"
SERVERLESS = {"serverless": {"memory_mb": 4096, "max_concurrency": 10}, "instance_type": None,
              "autoscaling": None, "variants": {"stable": {"model_data": "s3://artifacts/fraud/v1/model.tar.gz"}}}  # fmt: skip


def sagemaker(**changes) -> SageMakerModel:
    return parse_model(model(**changes), region="eu-west-1")


def eks(**changes) -> EksModel:
    entry = model(name="doc-embedder", backend="eks", eks={"pool": "g5", "pdb_min_available": 2}, **changes)
    return parse_model(entry, region="eu-west-1")


def guardrail(**deployment):
    return endpoint_spec("prod", "eu-west-1", sagemaker(deployment=deployment)).guardrail


def test_guardrail_shapes_per_strategy():
    alarms = ["a", "b"]
    canary = deployment_config(guardrail(strategy="canary", step_percent=10, wait_seconds=300), alarms)
    routing = canary["blue_green_update_policy"]["traffic_routing_configuration"]
    assert routing == {"type": "CANARY", "wait_interval_in_seconds": 300,
                       "canary_size": {"type": "CAPACITY_PERCENT", "value": 10}}  # fmt: skip
    assert canary["auto_rollback_configuration"] == {"alarms": [{"alarm_name": "a"}, {"alarm_name": "b"}]}
    linear = deployment_config(guardrail(strategy="linear", step_percent=25), alarms)
    assert (
        linear["blue_green_update_policy"]["traffic_routing_configuration"]["linear_step_size"]["value"] == 25
    )
    whole = deployment_config(guardrail(strategy="all_at_once"), alarms)
    assert whole["blue_green_update_policy"]["traffic_routing_configuration"]["type"] == "ALL_AT_ONCE"
    assert whole["blue_green_update_policy"]["maximum_execution_timeout_in_seconds"] == 3600


def test_an_instance_endpoint_has_names_variants_and_containers_from_its_settings():
    spec = endpoint_spec("prod", "eu-west-1", sagemaker(environment={"LOG_LEVEL": "info"}))
    assert spec.endpoint_name == naming.endpoint("prod", "fraud-scorer")
    assert spec.dashboard_name == naming.dashboard("prod", "fraud-scorer")
    assert [(v.name, v.weight, v.instance_count) for v in spec.variants] == [
        ("stable", 90, 2),
        ("canary", 10, 2),
    ]
    assert spec.variants[1].container == {
        "environment": {"MODELFLEET_QUEUE_DEADLINE_MS": "50", "LOG_LEVEL": "info"},  # half the 100 ms p99 SLO
        "image": DIGEST,
        "model_data_url": "s3://artifacts/fraud/v2/model.tar.gz",
    }
    assert spec.artifact_arns == ("arn:aws:s3:::artifacts/fraud/v1/*", "arn:aws:s3:::artifacts/fraud/v2/*")
    assert (spec.instance_type, spec.serverless, spec.network_isolation) == ("ml.c5.xlarge", None, True)
    assert spec.encrypt_volume and not spec.gpus  # EBS-backed c5: the endpoint's key encrypts its volume


def test_a_model_package_variant_names_the_package_and_no_image():
    entry = sagemaker(
        variants={"stable": {"model_package_arn": PACKAGE, "instance_count": 2}},
        registry_access={"image_repository": DIGEST, "artifact_s3_prefix": "s3://artifacts/fraud/"},
    )  # fmt: skip
    (stable,) = endpoint_spec("prod", "eu-west-1", entry).variants
    assert stable.container == {"environment": {}, "model_package_name": PACKAGE}


def test_instance_store_types_get_no_volume_key_and_gpu_types_gpu_alarms():
    spec = endpoint_spec("prod", "eu-west-1", sagemaker(instance_type="ml.g5.xlarge"))
    assert spec.gpus and not spec.encrypt_volume  # SageMaker refuses a key for instance-store volumes
    assert {a.key for a in spec.alarms} >= {"stable-gpu", "canary-gpu-memory"}


def test_serverless_has_no_guardrail_scaling_isolation_or_instance():
    spec = endpoint_spec("dev", "eu-west-1", sagemaker(**SERVERLESS))
    assert (spec.serverless.memory_mb, spec.serverless.max_concurrency) == (4096, 10)
    assert (spec.guardrail, spec.scaling, spec.instance_type) == (None, None, None)
    assert spec.network_isolation is False  # AWS refuses network isolation on serverless endpoints
    assert not any(a.namespace == "/aws/sagemaker/Endpoints" for a in spec.alarms)


@pytest.mark.parametrize(("canary_weight", "scaled"), [(10, ("stable", "canary")), (0, ("stable",))])
def test_a_canary_scales_only_while_it_takes_traffic(canary_weight, scaled):
    entry = model()
    entry["variants"]["canary"]["weight"] = canary_weight
    entry["variants"]["stable"]["weight"] = 100 - canary_weight
    spec = endpoint_spec("prod", "eu-west-1", parse_model(entry, region="eu-west-1"))
    assert isinstance(spec.scaling, ScalingPolicy)
    assert tuple(v.variant for v in spec.scaling.variants) == scaled
    assert spec.scaling.variants[0] == VariantScaling("stable", 2, 6)
    assert spec.scaling.invocations_per_instance_per_minute == 500


def test_off_hours_become_a_schedule_on_the_scaling_policy():
    off = {"start": "08:00", "end": "19:00", "days": "MON-FRI", "timezone": "Europe/Dublin", "instances": 1}
    scaling = endpoint_spec("dev", "eu-west-1", sagemaker(off_hours=off)).scaling
    assert scaling.off_hours.scale_down == "cron(0 19 ? * MON-FRI *)"
    assert (scaling.off_hours.timezone, scaling.off_hours_instances) == ("Europe/Dublin", 1)


def test_an_eks_service_has_a_pod_template_and_replica_bounds_per_variant():
    entry = model(name="doc-embedder", backend="eks", eks={"pool": "g5", "pdb_min_available": 2})
    entry["variants"]["canary"]["image"] = DIGEST.replace("ab" * 32, "cd" * 32)
    spec = service_spec(parse_model(entry, region="eu-west-1"), "eu-west-1")
    stable, canary = spec.variants
    # Stable's floor is the model's minimum; a canary keeps its own count.
    assert (stable.name, stable.replicas, stable.min_replicas) == ("stable", 2, 2)
    assert (canary.name, canary.replicas, canary.min_replicas) == ("canary", 2, 2)
    assert spec.max_replicas == 6 and spec.pdb_min_available == 2
    images = [v.template["spec"]["containers"][0]["image"] for v in spec.variants]
    assert images == [DIGEST, DIGEST.replace("ab" * 32, "cd" * 32)]
    assert stable.template["spec"]["tolerations"] == [GPU_TOLERATION]
    assert stable.template["metadata"]["labels"]["variant"] == "stable"
    assert spec.artifact_uris == (
        "s3://artifacts/fraud/v1/model.tar.gz",
        "s3://artifacts/fraud/v2/model.tar.gz",
    )
