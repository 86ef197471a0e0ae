"""Rolling updates of inference components: rollout, abort, promote and smoke for a placed model.

SageMaker is ``tests/ops/fake_sagemaker.py`` (moto has no inference components; the
fake checks every request against botocore's model), CloudWatch is moto's, and
the clock is fake: an update of an hour runs in milliseconds, and no test sleeps.
"""

from __future__ import annotations

import copy
import functools
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from moto import mock_aws
from rich.console import Console

from infra.cli.commands import main
from infra.ops.component_rollout import ComponentRollout
from infra.ops.drivers.base import ModelTarget
from infra.ops.drivers.inference_component import InferenceComponentDriver, component_spec
from infra.ops.drivers.registry import driver_of
from infra.ops.errors import InvalidInput, OpsError
from infra.ops.history import HistoryLog, Result
from infra.ops.rollout import Outcome
from infra.ops.target import load_project, resolve
from infra.specs import component_api, naming
from tests.conftest import ROOT
from tests.ops.conftest import REGION, FakeClock
from tests.ops.fake_sagemaker import Component, FakeSageMaker, FakeSageMakerRuntime

COPIES = 4  # one copy per batch (prod's support-assistant): four batches


@pytest.fixture(scope="module")
def assistant() -> ModelTarget:
    """prod's support-assistant: vLLM on LMI, placed on gpu-shared."""
    return resolve(load_project(ROOT), "prod", "support-assistant")


@pytest.fixture(scope="module")
def router() -> ModelTarget:
    """prod's ticket-router: our container, placed on gpu-shared."""
    return resolve(load_project(ROOT), "prod", "ticket-router")


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    """moto's CloudWatch, with the rollout history log group prod declares."""
    with mock_aws():
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName=naming.rollout_history_log_group("prod"))
        yield boto3.client("cloudwatch", region_name=REGION)


def previous_version(target: ModelTarget) -> dict[str, Any]:
    """The stack file's specification with last month's weights: what runs before a rollout."""
    older = copy.deepcopy(component_api.specification(component_spec(target)))
    container = older["Container"]
    if "ArtifactUrl" in container:
        container["ArtifactUrl"] = container["ArtifactUrl"].replace("/v7/", "/v6/")
    else:
        container["Environment"]["HF_MODEL_ID"] = container["Environment"]["HF_MODEL_ID"].replace(
            "2026-11-20", "2026-10-20"
        )
    return older


def stand_up(
    cloudwatch: Any, target: ModelTarget, specification: dict[str, Any] | None = None
) -> FakeSageMaker:
    """The component the stack created, running ``specification`` (default: the previous version), and
    the model's alarms, all OK."""
    for name in target.alarm_names:
        cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/SageMaker", MetricName="Invocations", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
    component = Component(
        name=target.inference_component or "",
        endpoint=target.endpoint_name,
        specification=specification or previous_version(target),
        copies=COPIES,
    )
    return FakeSageMaker(cloudwatch, component)


def runner(
    target: ModelTarget, sagemaker: Any, cloudwatch: Any, clock: FakeClock | None = None
) -> tuple[ComponentRollout, io.StringIO]:
    output = io.StringIO()
    driver = InferenceComponentDriver({"sagemaker": sagemaker, "cloudwatch": cloudwatch})
    return ComponentRollout(target, driver, Console(file=output, width=240), clock or FakeClock()), output


def rollback_alarms(target: ModelTarget) -> list[str]:
    return component_api.rollback_alarm_names(component_spec(target))


def alarm_state(cloudwatch: Any, name: str) -> dict[str, Any]:
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def put_component_traffic(cloudwatch: Any, target: ModelTarget, invocations: float, errors: float) -> None:
    at = datetime.fromtimestamp(FakeClock().now(), UTC)
    dimensions = [{"Name": "InferenceComponentName", "Value": target.inference_component}]
    cloudwatch.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {"MetricName": "Invocations", "Dimensions": dimensions, "Value": invocations, "Timestamp": at},
            {"MetricName": "Invocation5XXErrors", "Dimensions": dimensions, "Value": errors, "Timestamp": at},
        ],
    )


# The record chooses the driver ------------------------------------------------------------


def test_a_placed_model_resolves_to_its_inference_component(assistant, router):
    assert assistant.inference_component == "modelfleet-prod-support-assistant"
    assert assistant.endpoint_name == "modelfleet-prod-shared-gpu-shared"
    assert router.inference_component == "modelfleet-prod-ticket-router"
    assert isinstance(driver_of(assistant), InferenceComponentDriver)
    fraud = resolve(load_project(ROOT), "prod", "fraud-scorer")
    assert fraud.inference_component is None
    assert not isinstance(driver_of(fraud), InferenceComponentDriver)


def test_the_desired_specification_is_the_apis_shape(assistant, router):
    llm = component_api.specification(component_spec(assistant))
    assert set(llm["Container"]) == {"Image", "Environment"}  # LMI loads the weights itself: no ArtifactUrl
    assert llm["ComputeResourceRequirements"] == {
        "NumberOfCpuCoresRequired": 8.0, "MinMemoryRequiredInMb": 49152, "NumberOfAcceleratorDevicesRequired": 1,
    }  # fmt: skip
    ours = component_api.specification(component_spec(router))
    assert ours["Container"]["ArtifactUrl"] == "s3://acme-ml-artifacts-prod/ticket-router/v7/model.tar.gz"
    assert "NumberOfAcceleratorDevicesRequired" not in ours["ComputeResourceRequirements"]  # a CPU copy


# rollout ------------------------------------------------------------------------------------


def test_a_healthy_rolling_update_replaces_every_copy_and_succeeds(cloudwatch, assistant):
    sagemaker = stand_up(cloudwatch, assistant)
    put_component_traffic(cloudwatch, assistant, invocations=400, errors=2)
    clock = FakeClock()
    rollout, output = runner(assistant, sagemaker, cloudwatch, clock)

    assert rollout.run() is Outcome.COMPLETED

    describe, update = "DescribeInferenceComponent", "UpdateInferenceComponent"
    assert sagemaker.operations == [describe, update] + [describe] * COPIES
    sent = sagemaker.calls[1][1]
    assert sent["InferenceComponentName"] == "modelfleet-prod-support-assistant"
    assert sent["Specification"] == component_api.specification(component_spec(assistant))
    assert sent["DeploymentConfig"] == {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "COPY_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 600,
            "MaximumExecutionTimeoutInSeconds": 7200,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {"AlarmName": "modelfleet-prod-support-assistant-stable-p99-latency"},
                {"AlarmName": "modelfleet-prod-support-assistant-stable-5xx-rate"},
            ]
        },
    }
    assert sagemaker.component.batches == [1, 2, 3, 4]
    assert sagemaker.component.specification == sent["Specification"]
    text = output.getvalue()
    assert "Updating: copies desired 4, current 5" in text  # a batch's new copy runs beside the old ones
    assert "5XX 0.50 % of 400" in text and "no alarm in ALARM" in text
    assert "runs the new version on all 4 copies" in text
    assert all(0 < s <= assistant.rollout.poll_seconds for s in clock.slept)


@pytest.mark.parametrize("batch", [1, 3])
def test_an_alarm_at_batch_k_makes_sagemaker_roll_back_and_the_rollout_fail(cloudwatch, router, batch):
    old = previous_version(router)
    sagemaker = stand_up(cloudwatch, router, old)
    alarm = rollback_alarms(router)[1]

    def fire(_seconds: float) -> None:
        if sagemaker.component.batches[-1:] == [batch]:
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5XX above the SLO")

    rollout, output = runner(router, sagemaker, cloudwatch, FakeClock(on_sleep=fire))
    with pytest.raises(OpsError, match=f"was rolled back: Rolling update rolled back: alarm {alarm}"):
        rollout.run()

    assert sagemaker.component.batches == list(range(1, batch + 1))  # no batch after the alarm
    assert sagemaker.component.specification == old
    assert sagemaker.mutations == ["UpdateInferenceComponent"]
    assert f"alarm {alarm} is in ALARM" in output.getvalue()


def test_the_cli_exits_1_with_the_failure_reason_when_the_update_rolls_back(
    cloudwatch, router, monkeypatch, capsys
):
    sagemaker = stand_up(cloudwatch, router)
    alarm = rollback_alarms(router)[0]
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="p99 above the SLO")
    use(monkeypatch, sagemaker, cloudwatch)

    assert main(["rollout", "--stack", "prod", "--model", "ticket-router"]) == 1
    captured = capsys.readouterr()
    assert f"rolled back: Rolling update rolled back: alarm {alarm}" in captured.err
    assert "Traceback" not in captured.out + captured.err


def test_a_rolling_update_is_recorded_in_the_history_batch_by_batch(cloudwatch, assistant, monkeypatch):
    sagemaker = stand_up(cloudwatch, assistant)
    put_component_traffic(cloudwatch, assistant, invocations=400, errors=2)
    use(monkeypatch, sagemaker, cloudwatch)
    monkeypatch.setattr("infra.ops.history.getpass.getuser", lambda: "jdoe")

    assert main(["rollout", "--stack", "prod", "--model", "support-assistant", "--reason", "CHG-9"]) == 0
    assert main(["rollout", "--stack", "prod", "--model", "support-assistant", "--dry-run"]) == 0
    (record,) = HistoryLog("prod", REGION).read("support-assistant")
    assert (record.command, record.outcome, record.reason) == ("rollout", Result.SUCCEEDED, "CHG-9")
    assert (record.target, record.actor.user) == ("modelfleet-prod-support-assistant", "jdoe")
    assert record.actor.arn.startswith("arn:aws:sts::")
    # a step per change of status or copies, with its latest readings: every batch starts its new
    # copy beside the old ones (the same counts each time), then the update ends InService
    assert [(s.decision, s.copies) for s in record.steps] == [
        ("Updating", {"desired": COPIES, "current": COPIES + 1}),
        ("InService", {"desired": COPIES, "current": COPIES}),
    ]
    readings = record.steps[0].variants["modelfleet-prod-support-assistant"]
    assert (readings["invocations"], readings["error_rate_percent"]) == (400, 0.5)
    assert record.steps[0].firing_alarms == []


def test_a_rolled_back_update_and_a_promote_are_recorded(cloudwatch, router, monkeypatch):
    sagemaker = stand_up(cloudwatch, router)
    alarm = rollback_alarms(router)[0]
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="p99 above the SLO")
    use(monkeypatch, sagemaker, cloudwatch)
    assert main(["rollout", "--stack", "prod", "--model", "ticket-router"]) == 1
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="recovered")
    assert main(["promote", "--stack", "prod", "--model", "ticket-router"]) == 1  # the old version runs

    rolled_back, promote = HistoryLog("prod", REGION).read("ticket-router")
    assert rolled_back.outcome is Result.ROLLED_BACK
    assert f"Rolling update rolled back: alarm {alarm}" in rolled_back.message
    assert alarm in rolled_back.steps[0].firing_alarms
    assert rolled_back.steps[-1].decision == "InService"
    assert (promote.command, promote.outcome) == ("promote", Result.FAILED)
    assert [s.copies for s in promote.steps] == [{"desired": COPIES, "current": COPIES}]


def test_a_component_already_at_the_desired_version_is_left_alone(cloudwatch, assistant):
    desired = component_api.specification(component_spec(assistant))
    sagemaker = stand_up(cloudwatch, assistant, desired)
    rollout, output = runner(assistant, sagemaker, cloudwatch)

    assert rollout.run() is Outcome.UNCHANGED
    assert sagemaker.operations == ["DescribeInferenceComponent"]
    assert "already runs the stack file's version on all 4 copies: nothing to do" in output.getvalue()


def test_a_running_update_is_watched_not_restarted(cloudwatch, assistant):
    sagemaker = stand_up(cloudwatch, assistant)
    request = component_api.update_request(component_spec(assistant))
    sagemaker.update_inference_component(**request)  # started by an earlier run, interrupted
    rollout, output = runner(assistant, sagemaker, cloudwatch)

    assert rollout.run() is Outcome.COMPLETED
    assert sagemaker.mutations == ["UpdateInferenceComponent"]  # the earlier run's only
    assert "already running" in output.getvalue()


def test_a_watched_update_that_deploys_another_version_is_not_success(cloudwatch, router):
    sagemaker = stand_up(cloudwatch, router)
    other = component_api.update_request(component_spec(router))
    other["Specification"]["Container"]["ArtifactUrl"] = (
        "s3://acme-ml-artifacts-prod/ticket-router/v8/model.tar.gz"
    )
    sagemaker.update_inference_component(**other)  # someone else's update, to v8
    rollout, _ = runner(router, sagemaker, cloudwatch)

    with pytest.raises(OpsError, match="ended InService without the stack file's version"):
        rollout.run()
    assert sagemaker.mutations == ["UpdateInferenceComponent"]


def test_a_dry_run_prints_the_request_and_sends_no_update(cloudwatch, assistant, monkeypatch, capsys):
    sagemaker = stand_up(cloudwatch, assistant)
    use(monkeypatch, sagemaker, cloudwatch)

    assert main(["rollout", "--stack", "prod", "--model", "support-assistant", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert sagemaker.operations == ["DescribeInferenceComponent"]
    request = json.loads(printed[printed.index("{") :])
    assert request == component_api.update_request(component_spec(assistant))
    assert "Container.Environment.HF_MODEL_ID" in printed  # what changes


def test_a_rollout_that_outlives_the_update_timeout_stops_watching(cloudwatch, router):
    sagemaker = stand_up(cloudwatch, router)
    stuck = sagemaker.component

    def hold(found: Component) -> None:  # a batch that never lands
        if found.update is not None:
            found.update.replaced = 0

    sagemaker.on_describe = hold
    rollout, _ = runner(router, sagemaker, cloudwatch)
    with pytest.raises(OpsError, match="timed out: modelfleet-prod-ticket-router is still Updating"):
        rollout.run()
    assert stuck.status == "Updating"


def test_an_invalid_request_is_refused_as_boto3_would(cloudwatch, assistant):
    sagemaker = stand_up(cloudwatch, assistant)
    with pytest.raises(ParamValidationError, match="Unknown parameter"):
        sagemaker.update_inference_component(InferenceComponentName="x", Specification={"Image": "y"})
    with pytest.raises(ParamValidationError):
        sagemaker.describe_inference_component()


# abort --------------------------------------------------------------------------------------


def test_abort_during_an_update_sets_the_rollback_alarm_and_watches_the_rollback(
    cloudwatch, assistant, monkeypatch
):
    old = previous_version(assistant)
    sagemaker = stand_up(cloudwatch, assistant, old)
    sagemaker.update_inference_component(**component_api.update_request(component_spec(assistant)))
    sagemaker.describe_inference_component(InferenceComponentName=assistant.inference_component)  # batch 1
    monkeypatch.setattr("infra.ops.history.getpass.getuser", lambda: "jdoe")
    sets: list[dict[str, Any]] = []
    cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.SetAlarmState", lambda params, **_: sets.append(params)
    )
    rollout, output = runner(assistant, sagemaker, cloudwatch)

    assert rollout.abort() is Outcome.COMPLETED

    first = rollback_alarms(assistant)[0]
    assert [s["AlarmName"] for s in sets] == [first] and sets[0]["StateValue"] == "ALARM"
    assert "jdoe" in sets[0]["StateReason"] and "modelfleet abort" in sets[0]["StateReason"]
    assert alarm_state(cloudwatch, first)["StateValue"] == "ALARM"
    assert sagemaker.component.status == "InService" and sagemaker.component.specification == old
    assert sagemaker.component.batches == [1, 2]  # abort read batch 2; none after the alarm
    assert "aborted: modelfleet-prod-support-assistant rolled back" in output.getvalue()


def test_abort_with_no_update_running_changes_nothing_and_exits_2(cloudwatch, assistant, monkeypatch, capsys):
    sagemaker = stand_up(cloudwatch, assistant)
    sets: list[dict[str, Any]] = []
    cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.SetAlarmState", lambda params, **_: sets.append(params)
    )
    use(monkeypatch, sagemaker, cloudwatch)

    assert main(["rollout", "abort", "--stack", "prod", "--model", "support-assistant"]) == 2
    captured = capsys.readouterr()
    assert sagemaker.operations == ["DescribeInferenceComponent"] and sets == []
    assert all(alarm_state(cloudwatch, n)["StateValue"] != "ALARM" for n in assistant.alarm_names)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "no rolling update is running" in lines[0]
    assert "Traceback" not in captured.out + captured.err


def test_a_component_rollout_refuses_the_flags_of_a_canary_rollout(
    cloudwatch, assistant, monkeypatch, capsys
):
    use(monkeypatch, stand_up(cloudwatch, assistant), cloudwatch)
    assert main(["rollout", "--stack", "prod", "--model", "support-assistant", "--skip-smoke"]) == 2
    assert "takes no --skip-smoke" in capsys.readouterr().err


# promote ------------------------------------------------------------------------------------


def test_promote_confirms_every_copy_runs_the_stack_files_version(cloudwatch, router, monkeypatch, capsys):
    desired = component_api.specification(component_spec(router))
    sagemaker = stand_up(cloudwatch, router, desired)
    use(monkeypatch, sagemaker, cloudwatch)

    assert main(["promote", "--stack", "prod", "--model", "ticket-router"]) == 0
    assert "all 4 copies run the stack file's version" in capsys.readouterr().out
    assert sagemaker.mutations == []


@pytest.mark.parametrize("live", ["previous", "updating"])
def test_promote_fails_while_the_copies_do_not_all_run_it(cloudwatch, router, monkeypatch, capsys, live):
    sagemaker = stand_up(cloudwatch, router)
    if live == "updating":
        sagemaker.update_inference_component(**component_api.update_request(component_spec(router)))
    use(monkeypatch, sagemaker, cloudwatch)

    assert main(["promote", "--stack", "prod", "--model", "ticket-router"]) == 1
    err = capsys.readouterr().err
    expected = "a rolling update is running" if live == "updating" else "differs in Container.ArtifactUrl"
    assert expected in err and "Traceback" not in err


# smoke --------------------------------------------------------------------------------------


def test_smoke_sends_a_vllm_component_a_chat_completion(cloudwatch, assistant, monkeypatch, capsys):
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Ready."}}]}
    runtime = FakeSageMakerRuntime([(answer, "application/json")])
    use(monkeypatch, stand_up(cloudwatch, assistant), cloudwatch, runtime)

    assert main(["smoke", "--stack", "prod", "--model", "support-assistant"]) == 0
    ((operation, sent),) = runtime.calls
    assert operation == "InvokeEndpoint"
    assert sent["EndpointName"] == "modelfleet-prod-shared-gpu-shared"
    assert sent["InferenceComponentName"] == "modelfleet-prod-support-assistant"
    body = json.loads(sent["Body"])
    assert body == {
        "messages": [{"role": "user", "content": body["messages"][0]["content"]}],
        "max_tokens": 16,
    }
    assert "response as expected" in capsys.readouterr().out


def test_smoke_of_a_vllm_component_fails_without_a_message(cloudwatch, assistant, monkeypatch, capsys):
    runtime = FakeSageMakerRuntime([({"choices": []}, "application/json")])
    use(monkeypatch, stand_up(cloudwatch, assistant), cloudwatch, runtime)

    assert main(["smoke", "--stack", "prod", "--model", "support-assistant"]) == 1
    assert "lacks choices[0].message.content" in capsys.readouterr().err


def test_smoke_sends_our_containers_component_the_catalogs_sample(cloudwatch, router, monkeypatch, capsys):
    runtime = FakeSageMakerRuntime([({"predictions": [{"queue": "billing"}]}, "application/json")])
    use(monkeypatch, stand_up(cloudwatch, router), cloudwatch, runtime)

    assert main(["smoke", "--stack", "prod", "--model", "ticket-router"]) == 0
    ((_, sent),) = runtime.calls
    assert sent["InferenceComponentName"] == "modelfleet-prod-ticket-router"
    assert sent["Body"] == router.rollout.sample_payload.encode()
    assert sent["ContentType"] == "application/json"
    assert "modelfleet-prod-ticket-router" in capsys.readouterr().out


def test_smoke_of_a_component_takes_no_variant(cloudwatch, router, monkeypatch, capsys):
    runtime = FakeSageMakerRuntime([])
    use(monkeypatch, stand_up(cloudwatch, router), cloudwatch, runtime)
    assert main(["smoke", "--stack", "prod", "--model", "ticket-router", "--variant", "stable"]) == 2
    assert runtime.calls == [] and "no variants to pick" in capsys.readouterr().err


def test_the_split_capabilities_refuse_naming_the_rolling_update(assistant):
    driver = InferenceComponentDriver({})
    with pytest.raises(InvalidInput, match="rolling update \\(modelfleet rollout\\)"):
        driver.set_weights(assistant, 10)


def use(monkeypatch, sagemaker: Any, cloudwatch: Any, runtime: Any = None) -> None:
    """The command line, run from the repository, with these clients behind the component's driver."""
    monkeypatch.chdir(ROOT)
    clients = {"sagemaker": sagemaker, "cloudwatch": cloudwatch}
    if runtime is not None:
        clients["sagemaker-runtime"] = runtime

    def driver(target: ModelTarget) -> Any:
        chosen = driver_of(target)
        return InferenceComponentDriver(clients) if isinstance(chosen, InferenceComponentDriver) else chosen

    # The commands import these when they run: patched where they are defined.
    monkeypatch.setattr("infra.ops.drivers.registry.driver_of", driver)
    monkeypatch.setattr(
        "infra.ops.component_rollout.ComponentRollout", functools.partial(ComponentRollout, clock=FakeClock())
    )
