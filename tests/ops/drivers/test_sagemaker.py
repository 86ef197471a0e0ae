"""The SageMaker driver against moto in-process: each capability reads or changes what it says."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime.models import sagemakerruntime_backends

from infra.ops import progress
from infra.ops.drivers import sagemaker
from infra.ops.drivers.sagemaker import SageMakerDriver
from infra.ops.errors import InvalidInput, OpsError
from infra.ops.progress import Phase, Progress
from infra.specs.model_record import model_record
from tests.ops.conftest import ACCOUNT, REGION, FakeClock, create_alarms, deploy, put_invocations

SERVICES = ("sagemaker", "cloudwatch", "sagemaker-runtime", "application-autoscaling")


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield {service: boto3.client(service, region_name=REGION) for service in SERVICES}


@pytest.fixture
def driver(aws) -> SageMakerDriver:
    return SageMakerDriver(dict(aws))


def answer(body: str, content_type: str = "application/json", variant: str = "canary") -> None:
    sagemakerruntime_backends[ACCOUNT][REGION].results_queue.append((body, content_type, variant, ""))


def test_resolve_names_what_the_record_names(dev_target):
    record = model_record("dev", REGION, dev_target.model)
    target = SageMakerDriver().resolve(
        "dev", REGION, dev_target.model, record, dev_target.stack_file, "canary rollout"
    )
    assert target.endpoint_name == record["endpoint_name"] == "modelfleet-dev-fraud-scorer"
    assert target.variants == ("stable", "canary") and target.alarm_names == tuple(record["alarm_names"])
    assert target == dev_target


def test_clients_are_made_on_first_use_in_the_targets_region(dev_target):
    with mock_aws():
        driver = SageMakerDriver()
        assert driver.clients == {}
        with pytest.raises(OpsError, match="does not exist"):
            driver.read_weights(dev_target)
        assert list(driver.clients) == ["sagemaker"]
        assert driver.clients["sagemaker"].meta.region_name == dev_target.region


def test_weights_are_read_and_moved_and_an_invalid_share_is_refused(aws, driver, dev_target):
    deploy(aws["sagemaker"], dev_target)
    assert driver.read_weights(dev_target).canary_percent() == 20
    assert driver.set_weights(dev_target, 35) == {"stable": 65, "canary": 35}
    state = driver.read_weights(dev_target)
    assert (
        state.weights == {"stable": 65, "canary": 35}
        and state.config_name == "modelfleet-dev-fraud-scorer-config"
    )
    with pytest.raises(ValueError, match="0-100"):
        driver.set_weights(dev_target, 120)
    assert driver.read_weights(dev_target).canary_percent() == 35


def test_wait_in_service_returns_the_state_and_gives_up_at_the_timeout(aws, driver, dev_target):
    deploy(aws["sagemaker"], dev_target)
    assert driver.wait_in_service(dev_target, 60, FakeClock(), 15).status == "InService"
    sagemaker_backends[ACCOUNT][REGION].endpoints[dev_target.endpoint_name].endpoint_status = "Updating"
    clock = FakeClock()
    with pytest.raises(OpsError, match="still Updating after 60 s"):
        driver.wait_in_service(dev_target, 60, clock, 15)
    assert sum(clock.slept) == 60


def test_progress_is_written_and_read_back_for_the_deployed_configuration_only(aws, driver, dev_target):
    deploy(aws["sagemaker"], dev_target)
    state = driver.read_weights(dev_target)
    assert driver.read_progress(dev_target, state) is None
    record = Progress(Phase.BAKING, 25, state.config_name, progress.timestamp(0), progress.timestamp(60))
    driver.write_progress(dev_target, state, record)
    assert driver.read_progress(dev_target, state) == record
    assert driver.read_progress(dev_target, replace(state, config_name="next")) is None


def test_alarms_in_alarm_and_missing_are_told_apart(aws, driver, dev_target):
    create_alarms(aws["cloudwatch"], dev_target)
    firing = dev_target.alarm_names[1]
    aws["cloudwatch"].set_alarm_state(AlarmName=firing, StateValue="ALARM", StateReason="test")
    names = [*dev_target.alarm_names, "not-deployed"]
    assert driver.read_alarms(dev_target, names) == ([firing], ["not-deployed"])


def test_gates_carry_the_alarms_and_each_variants_invocations_and_errors(aws, driver, dev_target):
    create_alarms(aws["cloudwatch"], dev_target)
    put_invocations(aws["cloudwatch"], dev_target, "stable", invocations=1000, errors=1)
    put_invocations(aws["cloudwatch"], dev_target, "canary", invocations=200, errors=30)
    now = FakeClock().now()
    found = driver.read_gates(dev_target, dev_target.alarm_names[:3], now - 120, now + 60)
    assert (found.firing, found.missing) == ([], [])
    stable, canary = found.metrics["stable"], found.metrics["canary"]
    assert (stable.invocations, stable.errors_5xx, canary.invocations, canary.errors_5xx) == (
        1000,
        1,
        200,
        30,
    )
    assert SageMakerDriver.gate_source == "CloudWatch"


def test_smoke_invokes_the_variant_asked_for_and_judges_the_answer(aws, driver, dev_target):
    deploy(aws["sagemaker"], dev_target)
    calls: list[dict] = []
    aws["sagemaker-runtime"].meta.events.register(
        "provide-client-params.sagemaker-runtime.InvokeEndpoint", lambda params, **_: calls.append(params)
    )
    answer('{"predictions": [0.9]}')
    result = driver.smoke(dev_target, "canary")
    assert result.ok and (result.status, result.invoked_variant) == (200, "canary")
    assert calls[0]["TargetVariant"] == "canary" and calls[0]["EndpointName"] == dev_target.endpoint_name
    assert calls[0]["Body"] == dev_target.rollout.sample_payload.encode()
    answer("oops", "text/plain")
    assert driver.smoke(dev_target, None).problems == [
        "content type 'text/plain', expected 'application/json'"
    ]
    assert "TargetVariant" not in calls[1]


def test_smoke_refuses_an_unknown_variant_and_a_model_without_a_sample(driver, dev_target):
    with pytest.raises(InvalidInput, match="has no variant 'blue'"):
        driver.smoke(dev_target, "blue")
    no_sample = dev_target.rollout.model_copy(update={"sample_payload": None})
    quiet = replace(dev_target, model=dev_target.model.model_copy(update={"rollout": no_sample}))
    with pytest.raises(InvalidInput, match="has no rollout.sample_payload"):
        driver.smoke(quiet, "canary")


def test_promotion_checks_the_split_the_record_and_the_scaling_target(aws, driver, dev_target):
    deploy(aws["sagemaker"], dev_target)
    assert "the canary takes 20.0 % of traffic" in driver.promotion_problem(dev_target, "shift")
    driver.set_weights(dev_target, 100)
    assert "its last bake has not completed" in driver.promotion_problem(dev_target, "shift")
    state = driver.read_weights(dev_target)
    done = Progress(Phase.COMPLETED, 100, state.config_name, progress.timestamp(0), progress.timestamp(0))
    driver.write_progress(dev_target, state, done)
    assert driver.promotion_problem(dev_target, "shift") is None

    driver.set_weights(dev_target, 0)
    assert driver.promotion_problem(dev_target, "remove") is None
    aws["application-autoscaling"].register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=f"endpoint/{dev_target.endpoint_name}/variant/canary",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount", MinCapacity=1, MaxCapacity=2,
    )  # fmt: skip
    assert "the first promote edit is not deployed yet" in driver.promotion_problem(dev_target, "remove")


def test_loadtest_counts_the_instances_behind_an_endpoint_by_name(aws, dev_target):
    deploy(aws["sagemaker"], dev_target)
    assert sagemaker.endpoint_instance_count(REGION, dev_target.endpoint_name) == 2
    with pytest.raises(OpsError, match="endpoint nope does not exist"):
        sagemaker.endpoint_instance_count(REGION, "nope")


def test_loadtest_invocations_go_to_the_named_endpoint(aws, dev_target, monkeypatch):
    calls: list[dict] = []
    made = sagemaker.regional_client

    def watched(service: str, region: str) -> Any:
        runtime = made(service, region)
        runtime.meta.events.register(
            "provide-client-params.sagemaker-runtime.InvokeEndpoint", lambda params, **_: calls.append(params)
        )
        return runtime

    monkeypatch.setattr(sagemaker, "regional_client", watched)
    answer('{"predictions": [0.9]}')
    with ThreadPoolExecutor(max_workers=1) as pool:
        send = sagemaker.endpoint_sender(
            REGION, pool, dev_target.endpoint_name, b"{}", "application/json", "*/*"
        )
        assert asyncio.run(send()) is True
    assert [(c["EndpointName"], c["Body"]) for c in calls] == [(dev_target.endpoint_name, b"{}")]


def test_a_loadtest_invocation_that_fails_counts_as_a_failed_request(monkeypatch):
    class Throttled:
        def invoke_endpoint(self, **_):
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "InvokeEndpoint"
            )

    monkeypatch.setattr(sagemaker, "regional_client", lambda service, region: Throttled())
    with ThreadPoolExecutor(max_workers=1) as pool:
        send = sagemaker.endpoint_sender(REGION, pool, "any", b"{}", "application/json", "*/*")
        assert asyncio.run(send()) is False
