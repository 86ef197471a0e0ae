"""The rollout against moto in-process: real boto3 calls, a fake clock, no real waiting."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime.models import sagemakerruntime_backends
from rich.console import Console

from infra.ops import endpoints, progress
from infra.ops.drivers.sagemaker import SageMakerDriver
from infra.ops.errors import OpsError
from infra.ops.progress import Phase, Progress
from infra.ops.rollout import Outcome, Rollout
from tests.ops.conftest import ACCOUNT, REGION, FakeClock, create_alarms, deploy, put_invocations


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        clients = {
            s: boto3.client(s, region_name=REGION) for s in ("sagemaker", "cloudwatch", "sagemaker-runtime")
        }
        sagemakerruntime_backends[ACCOUNT][REGION].results_queue.append(
            ('{"predictions": [0.91]}', "application/json", "canary", "")
        )
        yield clients


@pytest.fixture
def weight_calls(aws) -> list[dict[str, float]]:
    """Every UpdateEndpointWeightsAndCapacities request, as botocore sends it."""
    calls: list[dict[str, float]] = []

    def record(params, **_):
        calls.append({v["VariantName"]: v["DesiredWeight"] for v in params["DesiredWeightsAndCapacities"]})

    aws["sagemaker"].meta.events.register(
        "provide-client-params.sagemaker.UpdateEndpointWeightsAndCapacities", record
    )
    return calls


def healthy_traffic(aws, target) -> None:
    """An hour of error-free traffic on both variants, so every bake the fake clock reaches can judge."""
    for variant, invocations in (("stable", 1000), ("canary", 100)):
        put_invocations(aws["cloudwatch"], target, variant, invocations, errors=0, minutes=range(-1, 61))


def stand_up(aws, target, weights: dict[str, float] | None = None, traffic: bool = True) -> None:
    """The endpoint and the alarms the stack deploys, all alarms OK, and healthy traffic unless not."""
    deploy(aws["sagemaker"], target, weights)
    create_alarms(aws["cloudwatch"], target)
    if traffic:
        healthy_traffic(aws, target)


def rollout(aws, target, clock=None) -> tuple[Rollout, io.StringIO]:
    output = io.StringIO()
    runner = Rollout(target, SageMakerDriver(aws), Console(file=output, width=200), clock or FakeClock())
    return runner, output


def canary_percent(aws, target) -> float:
    return endpoints.describe(aws["sagemaker"], target.endpoint_name).canary_percent()


def assert_valid(calls):
    for weights in calls:
        assert set(weights) == {"stable", "canary"}
        assert all(w >= 0 for w in weights.values()) and sum(weights.values()) > 0


def test_a_healthy_rollout_reaches_100_percent_and_a_rerun_does_nothing(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    clock = FakeClock()
    runner, output = rollout(aws, dev_target, clock)
    assert runner.run() is Outcome.COMPLETED
    assert canary_percent(aws, dev_target) == 100
    assert weight_calls == [
        {"stable": 75, "canary": 25},
        {"stable": 50, "canary": 50},
        {"stable": 0, "canary": 100},
    ]
    assert_valid(weight_calls)
    assert sum(clock.slept) >= 3 * 120  # every step baked in full
    assert "smoke test: canary answered" in output.getvalue()

    again, output = rollout(aws, dev_target)
    assert again.run() is Outcome.UNCHANGED
    assert len(weight_calls) == 3
    assert "nothing to do" in output.getvalue()


@pytest.mark.parametrize("failing_step", [1, 2])
def test_an_alarm_at_step_k_rolls_back_to_all_stable(aws, dev_target, weight_calls, failing_step):
    stand_up(aws, dev_target)
    alarm = dev_target.alarm_names[0]

    def fire(**_):
        if len(weight_calls) == failing_step:
            aws["cloudwatch"].set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")

    aws["sagemaker"].meta.events.register("after-call.sagemaker.UpdateEndpointWeightsAndCapacities", fire)
    runner, output = rollout(aws, dev_target)
    assert runner.run() is Outcome.ROLLED_BACK
    assert canary_percent(aws, dev_target) == 0
    assert weight_calls[-1] == {"stable": 100, "canary": 0}
    assert len(weight_calls) == failing_step + 1
    assert_valid(weight_calls)
    assert f"alarm {alarm} is in ALARM" in output.getvalue()


def test_a_canary_with_more_5xx_than_stable_is_rolled_back(aws, dev_target, weight_calls):
    stand_up(aws, dev_target, traffic=False)
    put_invocations(aws["cloudwatch"], dev_target, "stable", invocations=1000, errors=1)
    put_invocations(aws["cloudwatch"], dev_target, "canary", invocations=200, errors=30)
    runner, output = rollout(aws, dev_target)
    assert runner.run() is Outcome.ROLLED_BACK
    assert weight_calls == [{"stable": 75, "canary": 25}, {"stable": 100, "canary": 0}]
    assert "canary 5XX rate 15.00 % exceeds stable's 0.10 %" in output.getvalue()


def test_an_interrupted_rollout_resumes_where_the_endpoint_stands(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)

    def interrupt(_seconds):
        if len(weight_calls) == 2:  # baking the 50 % step
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rollout(aws, dev_target, FakeClock(on_sleep=interrupt))[0].run()
    assert canary_percent(aws, dev_target) == 50

    runner, output = rollout(aws, dev_target)
    assert runner.run() is Outcome.COMPLETED
    assert weight_calls[2:] == [{"stable": 0, "canary": 100}]  # 50 % baked again, then on
    assert "resumed" in output.getvalue()
    assert_valid(weight_calls)


def test_a_canary_too_quiet_to_judge_holds_the_step_then_rolls_back(aws, dev_target, weight_calls):
    stand_up(aws, dev_target, traffic=False)
    put_invocations(aws["cloudwatch"], dev_target, "canary", invocations=1, errors=0, minutes=range(-1, 61))
    clock = FakeClock()
    runner, output = rollout(aws, dev_target, clock)
    assert runner.run() is Outcome.ROLLED_BACK
    settings = dev_target.rollout
    assert sum(clock.slept) == settings.bake_seconds + settings.insufficient_data_hold_seconds == 120 + 300
    assert weight_calls == [{"stable": 75, "canary": 25}, {"stable": 100, "canary": 0}]
    text = output.getvalue()
    assert re.search(
        r"not judged baking at 0/120 s: not enough canary traffic to judge: \d of 10 invocations", text
    )
    assert "holding the step: up to 300 s more for enough canary traffic" in text
    assert "✗ rolling back: could not judge the canary in 420 s (bake 120 s + hold 300 s)" in text
    assert recorded(aws, dev_target).phase is Phase.ROLLED_BACK


def test_traffic_that_arrives_during_the_hold_lets_the_step_pass(aws, dev_target, weight_calls):
    stand_up(aws, dev_target, traffic=False)
    clock = FakeClock()
    bake_end = clock.now() + dev_target.rollout.bake_seconds

    def traffic_after_the_bake(_seconds):
        if clock.now() >= bake_end and not weight_calls[1:]:
            healthy_traffic(aws, dev_target)

    clock.on_sleep = traffic_after_the_bake
    runner, output = rollout(aws, dev_target, clock)
    assert runner.run() is Outcome.COMPLETED
    assert "holding the step" in output.getvalue() and len(weight_calls) == 3


def recorded(aws, target) -> Progress | None:
    state = endpoints.describe(aws["sagemaker"], target.endpoint_name)
    return progress.read(aws["sagemaker"], state.arn, state.config_name)


def test_a_finished_rollout_records_completion_and_its_start(aws, dev_target):
    stand_up(aws, dev_target)
    clock = FakeClock()
    assert rollout(aws, dev_target, clock)[0].run() is Outcome.COMPLETED
    done = recorded(aws, dev_target)
    assert (done.phase, done.step_percent, done.endpoint_config) == (
        Phase.COMPLETED, 100, f"{dev_target.endpoint_name}-config",
    )  # fmt: skip
    assert done.started == progress.timestamp(clock.current - sum(clock.slept))  # before the first bake
    assert done.updated == progress.timestamp(clock.current)


def test_an_interrupted_final_bake_is_baked_again_not_skipped(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)

    def interrupt(_seconds):
        if len(weight_calls) == 3:  # baking the 100 % step
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rollout(aws, dev_target, FakeClock(on_sleep=interrupt))[0].run()
    assert canary_percent(aws, dev_target) == 100
    assert recorded(aws, dev_target).phase is Phase.BAKING

    clock = FakeClock()
    runner, output = rollout(aws, dev_target, clock)
    assert runner.run() is Outcome.COMPLETED
    assert len(weight_calls) == 3  # no traffic moved: the step was baked again in place
    assert sum(clock.slept) >= 120 and "bake again (resumed)" in output.getvalue()
    assert recorded(aws, dev_target).phase is Phase.COMPLETED
    assert rollout(aws, dev_target)[0].run() is Outcome.UNCHANGED


def test_a_canary_at_100_percent_without_a_record_is_baked_before_it_counts(aws, dev_target, weight_calls):
    stand_up(aws, dev_target, weights={"stable": 0, "canary": 100})
    runner, output = rollout(aws, dev_target)
    assert runner.run() is Outcome.COMPLETED
    assert weight_calls == [] and "none recorded" in output.getvalue()


def abort_when(aws, target, weight_calls, at_call: int) -> FakeClock:
    """A clock whose sleeps run `rollout abort` from another client once weights were set ``at_call`` times."""
    other = {**aws, "sagemaker": boto3.client("sagemaker", region_name=REGION)}

    def maybe_abort(_seconds):
        if len(weight_calls) == at_call:
            assert rollout(other, target)[0].abort() is Outcome.COMPLETED

    return FakeClock(on_sleep=maybe_abort)


def test_an_abort_during_the_final_bake_fails_the_rollout_and_is_recorded(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    runner, output = rollout(aws, dev_target, abort_when(aws, dev_target, weight_calls, at_call=3))
    outcome = runner.run()
    assert outcome is Outcome.ABORTED and not outcome.succeeded
    assert canary_percent(aws, dev_target) == 0
    text = output.getvalue()
    assert "✗ aborted: modelfleet rollout abort returned the traffic to stable" in text
    assert "canary takes 100 % of traffic" not in text
    aborted = recorded(aws, dev_target)
    assert (aborted.phase, aborted.step_percent) == (Phase.ABORTED, 100)
    assert len(weight_calls) == 3  # the stopped rollout left the split to the abort


def test_an_abort_recorded_before_the_split_moves_stops_the_bake_too(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    state = endpoints.describe(aws["sagemaker"], dev_target.endpoint_name)

    def record_abort(_seconds):
        if len(weight_calls) == 2:  # what `abort` writes first, before it moves the split
            aborted = Progress(
                Phase.ABORTED, 50, state.config_name, progress.timestamp(0), progress.timestamp(0)
            )
            progress.write(aws["sagemaker"], state.arn, aborted)

    runner, _ = rollout(aws, dev_target, FakeClock(on_sleep=record_abort))
    assert runner.run() is Outcome.ABORTED
    assert len(weight_calls) == 2  # the abort moves the traffic, not the stopped rollout


def test_a_rerun_after_an_abort_starts_over_and_says_so(aws, dev_target, weight_calls):
    stand_up(aws, dev_target, weights={"stable": 50, "canary": 50})
    assert rollout(aws, dev_target)[0].abort() is Outcome.COMPLETED
    runner, output = rollout(aws, dev_target)
    assert runner.run() is Outcome.COMPLETED
    assert "progress: aborted at 50 %" in output.getvalue()
    assert weight_calls[1:] == [{"stable": 75, "canary": 25}, {"stable": 50, "canary": 50},
                                {"stable": 0, "canary": 100}]  # fmt: skip


def test_a_split_moved_by_hand_during_a_bake_stops_the_rollout_as_a_failure(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)

    def move(_seconds):
        if len(weight_calls) == 1:
            endpoints.set_canary_percent(aws["sagemaker"], dev_target.endpoint_name, 40)

    with pytest.raises(OpsError, match=r"the split moved to 40.0 % canary outside this rollout"):
        rollout(aws, dev_target, FakeClock(on_sleep=move))[0].run()
    assert recorded(aws, dev_target).phase is Phase.BAKING


def test_a_rollout_that_cannot_record_its_progress_moves_no_traffic(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)

    def denied(**_):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no AddTags"}}, "AddTags")

    aws["sagemaker"].meta.events.register("before-call.sagemaker.AddTags", denied)
    with pytest.raises(ClientError, match="no AddTags"):
        rollout(aws, dev_target)[0].run()
    assert weight_calls == [] and canary_percent(aws, dev_target) == 20


def test_a_new_endpoint_configuration_during_a_bake_stops_the_rollout(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[dev_target.endpoint_name]

    def pulumi_up(_seconds):  # moto has no UpdateEndpoint: what one leaves behind, with the same weights
        if len(weight_calls) == 1:
            endpoint.endpoint_config_name = "next"

    with pytest.raises(OpsError, match=r"outside this rollout \(endpoint configuration next\)"):
        rollout(aws, dev_target, FakeClock(on_sleep=pulumi_up))[0].run()
    assert len(weight_calls) == 1 and recorded(aws, dev_target) is None  # the record is the old config's


def test_dry_run_prints_the_plan_and_changes_nothing(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    runner, output = rollout(aws, dev_target)
    assert runner.run(dry_run=True) is Outcome.PLANNED
    assert weight_calls == []
    text = output.getvalue()
    assert "modelfleet-dev-fraud-scorer" in text and "canary at 20.0 %" in text
    assert "dry run: nothing changed" in text and recorded(aws, dev_target) is None


def test_missing_alarms_refuse_the_start_and_the_dry_run_before_any_traffic_moves(
    aws, dev_target, weight_calls
):
    deploy(aws["sagemaker"], dev_target)
    for dry_run in (True, False):
        with pytest.raises(
            OpsError, match=r"^refused, no traffic moved: the canary cannot be judged: 10 alarm"
        ):
            rollout(aws, dev_target)[0].run(dry_run=dry_run)
    assert weight_calls == [] and recorded(aws, dev_target) is None


def test_an_alarm_already_in_alarm_refuses_the_start(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    alarm = dev_target.alarm_names[4]
    aws["cloudwatch"].set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")
    with pytest.raises(OpsError) as refused:
        rollout(aws, dev_target)[0].run()
    assert f"alarm {alarm} is in ALARM" in str(refused.value)
    assert "the canary keeps its 20.0 %" in str(refused.value) and "--force --reason" in str(refused.value)
    assert weight_calls == [] and canary_percent(aws, dev_target) == 20


def forced(aws, target, reason: str, clock=None) -> tuple[Rollout, io.StringIO]:
    runner, output = rollout(aws, target, clock)
    runner.forced_reason = reason
    return runner, output


def test_a_forced_start_prints_and_records_its_reason_and_leaves_missing_alarms_unwatched(aws, dev_target):
    deploy(aws["sagemaker"], dev_target)
    healthy_traffic(aws, dev_target)
    runner, output = forced(aws, dev_target, "INC-7: alarms are being recreated (see #ops)")
    assert runner.run() is Outcome.COMPLETED
    text = output.getvalue()
    assert (
        "! forced: INC-7: alarms are being recreated (see #ops) (not watched in this run: 10 alarm(s)" in text
    )
    assert recorded(aws, dev_target).forced_reason == "INC-7: alarms are being recreated see ops"


def test_a_forced_start_still_rolls_back_on_an_alarm_it_watches(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    flapping, watched = dev_target.alarm_names[4], dev_target.alarm_names[0]
    aws["cloudwatch"].set_alarm_state(AlarmName=flapping, StateValue="ALARM", StateReason="flaps")

    def fire(_seconds):
        aws["cloudwatch"].set_alarm_state(AlarmName=watched, StateValue="ALARM", StateReason="test")

    runner, output = forced(aws, dev_target, "the disk alarm flaps", FakeClock(on_sleep=fire))
    assert runner.run() is Outcome.ROLLED_BACK
    assert f"alarm {watched} is in ALARM" in output.getvalue()
    assert f"alarm {flapping} is in ALARM" not in output.getvalue().split("→")[-1]  # unwatched in the bakes
    assert weight_calls == [{"stable": 75, "canary": 25}, {"stable": 100, "canary": 0}]
    assert recorded(aws, dev_target).phase is Phase.ROLLED_BACK


def test_an_alarm_deleted_during_a_bake_fails_the_gate(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    gone = dev_target.alarm_names[2]
    runner, output = rollout(aws, dev_target, FakeClock(on_sleep=lambda _: aws["cloudwatch"].delete_alarms(
        AlarmNames=[gone])))  # fmt: skip
    assert runner.run() is Outcome.ROLLED_BACK
    assert f"1 alarm(s) not found ({gone})" in output.getvalue()


def test_an_endpoint_stuck_updating_times_out_clearly_and_nothing_changes(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    sagemaker_backends[ACCOUNT][REGION].endpoints[dev_target.endpoint_name].endpoint_status = "Updating"
    clock = FakeClock()
    with pytest.raises(
        OpsError, match=r"timed out: endpoint modelfleet-dev-fraud-scorer is still Updating after 1800 s"
    ):
        rollout(aws, dev_target, clock)[0].run()
    assert weight_calls == []
    assert 1800 <= sum(clock.slept) <= 1800 + 15


def test_a_guardrail_deployment_in_progress_is_refused(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[dev_target.endpoint_name]
    endpoint.endpoint_status = "Updating"
    endpoint.pending_deployment_summary = {"EndpointConfigName": "next", "StageStatus": "Deploying"}
    with pytest.raises(OpsError, match="blue/green deployment in progress"):
        rollout(aws, dev_target)[0].run()
    assert weight_calls == []


def test_a_failing_smoke_test_stops_before_any_traffic_moves(aws, dev_target, weight_calls):
    stand_up(aws, dev_target)
    sagemakerruntime_backends[ACCOUNT][REGION].results_queue[:] = [("oops", "text/plain", "canary", "")]
    with pytest.raises(OpsError, match="smoke test of the canary failed: content type 'text/plain'"):
        rollout(aws, dev_target)[0].run()
    assert weight_calls == []


def test_abort_returns_all_traffic_to_stable_and_is_idempotent(aws, dev_target, weight_calls):
    stand_up(aws, dev_target, weights={"stable": 50, "canary": 50})
    runner, output = rollout(aws, dev_target)
    assert runner.abort(dry_run=True) is Outcome.PLANNED
    assert weight_calls == [] and canary_percent(aws, dev_target) == 50
    assert "dry run, nothing changed" in output.getvalue()
    assert rollout(aws, dev_target)[0].abort() is Outcome.COMPLETED
    assert canary_percent(aws, dev_target) == 0
    assert recorded(aws, dev_target).phase is Phase.ABORTED
    assert rollout(aws, dev_target)[0].abort() is Outcome.UNCHANGED
    assert weight_calls == [{"stable": 100, "canary": 0}]


def test_a_missing_endpoint_is_a_clear_error(aws, dev_target, weight_calls):
    with pytest.raises(
        OpsError, match="endpoint modelfleet-dev-fraud-scorer does not exist: deploy the stack"
    ):
        rollout(aws, dev_target)[0].run()
