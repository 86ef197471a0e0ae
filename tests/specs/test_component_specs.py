"""What a placed model's inference component is made of (pure), checked against SageMaker's API model."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import ParamValidator

from infra.contracts import runtimes
from infra.specs import component_specs
from tests.conftest import stack_settings

SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def placed(stack: str, name: str):
    return next(m for m in stack_settings(stack).sagemaker_models if m.name == name)


def test_the_llm_container_gets_the_engine_options_by_the_contracts_names():
    model = placed("prod", "support-assistant")
    container = component_specs.component_container(model)
    env, lmi = container["environment"], runtimes.LMI
    assert env[lmi.weights] == model.variants.stable.model_data  # the container fetches the directory
    assert env[lmi.tensor_parallel] == str(model.vllm.tensor_parallel_size)
    assert env[lmi.max_model_len] == "8192"
    assert env[lmi.dtype] == "bfloat16"
    assert env[lmi.max_num_seqs] == "32"
    assert lmi.runtime_quantization not in env  # bf16 weights: nothing to quantize
    assert "artifact_url" not in container  # an archive only: LMI loads a directory itself


def test_fp8_quantization_and_kv_cache_are_passed_on():
    model = placed("prod", "support-assistant")
    model = model.model_copy(
        update={"vllm": model.vllm.model_copy(update={"quantization": "fp8", "kv_cache_dtype": "fp8"})}
    )
    env = component_specs.component_container(model)["environment"]
    assert env[runtimes.LMI.runtime_quantization] == env[runtimes.LMI.kv_cache_dtype] == "fp8"


def test_our_container_gets_its_image_and_archive():
    model = placed("prod", "ticket-router")
    container = component_specs.component_container(model)
    assert container["image"] == model.image
    assert container["artifact_url"].endswith("/model.tar.gz")


@pytest.mark.parametrize("rollback", [None, {"type": "copies", "value": 2}])
def test_the_rolling_update_is_a_valid_update_inference_component_request(rollback):
    model = placed("prod", "support-assistant")
    rolling = model.component.rolling_update.model_copy(
        update={
            "rollback_batch": None
            if rollback is None
            else type(model.component.rolling_update.batch)(**rollback)
        }
    )
    config = component_specs.api_deployment_config(rolling, ["a-p99", "a-5xx"])
    request = {"InferenceComponentName": "x", "DeploymentConfig": config}
    shape = SAGEMAKER.operation_model("UpdateInferenceComponent").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    policy = config["RollingUpdatePolicy"]
    assert policy["MaximumBatchSize"] == {"Type": "COPY_COUNT", "Value": 1}
    assert policy["WaitIntervalInSeconds"] == 600
    assert ("RollbackMaximumBatchSize" in policy) == (rollback is not None)
    assert config["AutoRollbackConfiguration"]["Alarms"] == [{"AlarmName": "a-p99"}, {"AlarmName": "a-5xx"}]


def test_the_spec_starts_warm_and_allows_the_runtimes_loading_budget():
    spec = component_specs.component_spec("prod", placed("prod", "support-assistant"))
    assert spec.initial_copies == 2 and spec.scaling.min_copies == 2 and spec.scaling.max_copies == 6
    assert spec.startup_seconds == runtimes.VLLM.startup_budget_seconds
    zero = component_specs.component_spec("dev", placed("dev", "support-assistant"))
    assert zero.scaling.scales_to_zero and zero.initial_copies == 1  # SageMaker starts it with one copy
