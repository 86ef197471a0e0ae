"""Pure day-2 logic, no AWS: step plans, gates, weights, smoke checks, promote edits, sizing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.ops import endpoints, promote, sizing
from infra.ops.gates import VariantMetrics, Verdict, evaluate
from infra.ops.progress import Phase, Progress
from infra.ops.rollout import Outcome
from infra.ops.smoke import response_problems
from infra.ops.steps import Step, plan_steps
from infra.settings.catalog import RolloutSettings

STEPS = [10, 25, 50, 100]
SETTINGS = RolloutSettings(min_invocations=100, max_error_rate_increase_points=0.5,
                           max_p99_latency_increase_percent=20)  # fmt: skip


def test_steps_start_above_the_current_share_and_end_at_100():
    assert plan_steps(0, STEPS, False) == [Step(10, True), Step(25, True), Step(50, True), Step(100, True)]
    assert plan_steps(20, STEPS, False) == [Step(25, True), Step(50, True), Step(100, True)]


def test_a_rollout_stopped_at_a_step_bakes_it_again_and_a_finished_one_does_nothing():
    assert plan_steps(25.000001, STEPS, False) == [Step(25, False), Step(50, True), Step(100, True)]
    assert plan_steps(100, STEPS, final_bake_done=True) == []
    assert plan_steps(99.999, STEPS, final_bake_done=True) == []


@pytest.mark.parametrize("percent", [100, 99.999])
def test_at_100_percent_without_a_completed_bake_the_last_step_bakes_again(percent):
    assert plan_steps(percent, STEPS, final_bake_done=False) == [Step(100, shift=False)]


@pytest.mark.parametrize("percent", [0, 10, 33.3, 100])
def test_weights_for_any_share_are_valid_and_sum_to_100(percent):
    weights = endpoints.weights_for(percent)
    endpoints.check_weights(weights)
    assert sum(weights.values()) == 100


@pytest.mark.parametrize("weights", [{"stable": 0, "canary": 0}, {"stable": -1, "canary": 101}])
def test_invalid_weights_are_refused(weights):
    with pytest.raises(ValueError, match="invalid variant weights"):
        endpoints.check_weights(weights)
    with pytest.raises(ValueError):
        endpoints.weights_for(101)


def test_state_reads_desired_weights_and_spots_a_guardrail_deployment():
    state = endpoints.state_from({
        "EndpointName": "e", "EndpointStatus": "Updating",
        "ProductionVariants": [
            {"VariantName": "stable", "CurrentWeight": 90, "DesiredWeight": 75, "CurrentInstanceCount": 3},
            {"VariantName": "canary", "CurrentWeight": 10, "DesiredWeight": 25, "CurrentInstanceCount": 1},
        ],
        "PendingDeploymentSummary": {"EndpointConfigName": "next"},
    })  # fmt: skip
    assert state.canary_percent() == 25 and state.instances == {"stable": 3, "canary": 1}
    assert state.guardrail_in_progress


def test_gates_pass_a_canary_as_good_as_stable():
    same = VariantMetrics(1000, 2, 40.0)
    assert evaluate([], same, VariantMetrics(200, 0, 44.0), SETTINGS).healthy


def test_any_alarm_fails_even_before_there_is_canary_traffic():
    decision = evaluate(["a-p99"], VariantMetrics(), VariantMetrics(), SETTINGS)
    assert not decision.healthy and decision.reasons == ["alarm a-p99 is in ALARM"]


def test_a_missing_alarm_fails_the_gates_like_one_in_alarm():
    decision = evaluate([], VariantMetrics(1000), VariantMetrics(1000), SETTINGS, alarms_missing=["a", "b"])
    assert not decision.healthy
    assert decision.reasons == ["2 alarm(s) not found (a and 1 more): is the stack deployed?"]


def test_too_little_canary_traffic_is_not_judged_and_never_healthy():
    decision = evaluate([], VariantMetrics(1000, 0, 40), VariantMetrics(20, 20, 900), SETTINGS)
    assert decision.verdict is Verdict.NOT_JUDGED and not decision.healthy
    assert (
        decision.summary()
        == "not enough canary traffic to judge: 20 of 100 invocations (rollout.min_invocations)"
    )
    firing = evaluate(["a-p99"], VariantMetrics(1000), VariantMetrics(20), SETTINGS)
    assert firing.verdict is Verdict.UNHEALTHY and firing.reasons == ["alarm a-p99 is in ALARM"]


def test_error_rate_margin_is_in_points_over_stable():
    stable = VariantMetrics(1000, 10)  # 1 %
    assert evaluate([], stable, VariantMetrics(1000, 15), SETTINGS).healthy  # 1.5 %: on the margin
    decision = evaluate([], stable, VariantMetrics(1000, 16), SETTINGS)  # 1.6 %
    assert not decision.healthy and "5XX rate 1.60 % exceeds stable's 1.00 %" in decision.reasons[0]


def test_latency_margin_is_relative_to_stable_p99():
    stable = VariantMetrics(1000, 0, 50.0)
    assert evaluate([], stable, VariantMetrics(1000, 0, 60.0), SETTINGS).healthy
    decision = evaluate([], stable, VariantMetrics(1000, 0, 60.5), SETTINGS)
    assert not decision.healthy and "p99 60.5 ms exceeds stable's 50.0 ms" in decision.reasons[0]
    assert "not compared" in evaluate([], VariantMetrics(1000), VariantMetrics(1000), SETTINGS).notes[0]


@pytest.mark.parametrize(
    ("status", "content_type", "body", "problem"),
    [
        (200, "application/json", b'{"predictions": [1]}', None),
        (500, "application/json", b"{}", "status 500, expected 200"),
        (200, "text/plain", b"1", "content type 'text/plain', expected 'application/json'"),
        (200, "application/json", b"not json", "response is not valid JSON"),
        (200, "application/json; charset=utf-8", b'{"other": 1}', "response lacks key 'predictions'"),
        (200, "application/json", b"", "empty response body"),
    ],
)
def test_smoke_response_checks(status, content_type, body, problem):
    found = response_problems(status, content_type, body, "application/json", ["predictions"])
    assert found == ([problem] if problem else [])


VARIANTS = {
    "stable": {"model_data": "s3://b/v12/model.tar.gz", "instance_count": 3, "weight": 0},
    "canary": {"model_package_arn": "arn:aws:sagemaker:eu-west-1:1:model-package/f/13", "weight": 100},
}
AT = ("modelfleet:models", 0, "variants")


def test_promote_first_gives_stable_the_canary_version_and_parks_the_canary():
    edit = promote.promote_edit(VARIANTS, AT)
    assert edit.phase == "shift"
    assert edit.deletes == [(*AT, "stable", "model_data")]
    assert edit.sets == [
        ((*AT, "stable", "model_package_arn"), "arn:aws:sagemaker:eu-west-1:1:model-package/f/13"),
        ((*AT, "stable", "weight"), 100),
        ((*AT, "canary", "weight"), 0),
    ]


def test_promote_then_removes_a_parked_canary_identical_to_stable():
    parked = {"stable": {"model_data": "s3://b/v13/m.tar.gz", "weight": 100},
              "canary": {"model_data": "s3://b/v13/m.tar.gz", "weight": 0}}  # fmt: skip
    assert promote.promote_edit(parked, AT) == promote.PromoteEdit("remove", deletes=[(*AT, "canary")])
    assert promote.next_commands("dev", "m", "remove") == ["pulumi up --stack dev"]


def record(phase: Phase, step: float = 100) -> Progress:
    moment = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    return Progress(phase, step, "modelfleet-dev-fraud-scorer-config", moment, moment)


def test_promote_checks_the_live_endpoint_is_where_each_edit_expects():
    assert "finish the rollout first" in promote.endpoint_problem("shift", 50, False, record(Phase.COMPLETED))
    assert promote.endpoint_problem("shift", 100, True, record(Phase.COMPLETED)) is None
    assert "run pulumi up first" in promote.endpoint_problem("remove", 0, True)
    assert promote.endpoint_problem("remove", 0, False) is None


@pytest.mark.parametrize("found", [None, record(Phase.BAKING), record(Phase.ABORTED)])
def test_promote_refuses_a_canary_at_100_percent_whose_last_bake_has_not_completed(found):
    problem = promote.endpoint_problem("shift", 100, False, found)
    assert "its last bake has not completed" in problem
    assert (found.describe() if found else "none recorded") in problem


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert sizing.percentile(values, 0.5) == 50 and sizing.percentile(values, 0.99) == 99
    assert sizing.percentile([7.0], 0.99) == 7.0 and sizing.percentile([], 0.5) is None


def step(rate, p99, failed=0, sent=100):
    return sizing.StepResult(rate, sent, sent - failed, 1.0, p99 / 2, p99)


def test_the_rate_at_slo_is_the_highest_below_the_first_failure():
    steps = [step(10, 5), step(20, 8), step(40, 30), step(80, 9)]  # 80 passing after 40 failed is noise
    assert sizing.rate_at_slo(steps, p99_ms=10, max_error_rate_percent=1) == 20
    assert sizing.rate_at_slo([step(10, 5, failed=2)], 10, 1) is None  # 2 % errors


def test_recommended_target_is_floor_of_rate_times_60_times_one_minus_headroom():
    assert sizing.recommend_target(20, 0.5) == 600
    assert sizing.recommend_target(33.3, 0.3) == 1398  # floor(33.3 * 60 * 0.7) = floor(1398.6)
    assert sizing.recommend_target(0.001, 0.5) == 1
    with pytest.raises(ValueError):
        sizing.recommend_target(10, 1)


def test_rate_schedule_is_geometric_and_bounded():
    assert sizing.rate_schedule(10, 2, 70) == [10, 20, 40, 70]
    assert len(sizing.rate_schedule(1, 1.01, 1e9)) == 20


def test_only_the_listed_outcomes_count_as_success():
    """A new outcome fails until someone decides it succeeds: success is never the default."""
    assert {o for o in Outcome if o.succeeded} == {Outcome.PLANNED, Outcome.UNCHANGED, Outcome.COMPLETED}
    assert not Outcome.ABORTED.succeeded and not Outcome.ROLLED_BACK.succeeded


def test_promote_of_an_eks_canary_from_a_package_copies_its_version_group_artifact_and_image():
    group = "arn:aws:sagemaker:eu-west-1:1:model-package/risk"
    variants = {
        "stable": {"model_package_group": "risk", "model_package_arn": f"{group}/3",
                   "model_data": "s3://b/v3/m.tar.gz", "weight": 90},
        "canary": {"model_package_group": "risk", "model_package_arn": f"{group}/4",
                   "model_data": "s3://b/v4/m.tar.gz", "image": "repo@sha256:" + "4" * 64, "weight": 10},
    }  # fmt: skip
    edit = promote.promote_edit(variants, AT)
    assert edit.deletes == []
    assert dict(edit.sets) == {
        (*AT, "stable", "model_data"): "s3://b/v4/m.tar.gz",
        (*AT, "stable", "model_package_arn"): f"{group}/4",
        (*AT, "stable", "model_package_group"): "risk",
        (*AT, "stable", "image"): "repo@sha256:" + "4" * 64,
        (*AT, "stable", "weight"): 100,
        (*AT, "canary", "weight"): 0,
    }
