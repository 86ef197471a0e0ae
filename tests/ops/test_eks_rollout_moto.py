"""The canary rollout of an EKS model against moto in-process: its load balancer, listener and target
groups as the stack names them, real boto3 calls, a fake clock, no real waiting.

moto (5.2.5) keeps a listener's weighted forward action and sums ``AWS/ApplicationELB``
datapoints, but serves no percentile: the p99 ``TargetResponseTime`` readings come through
the driver's ``p99`` seam instead, set per test. The smoke test goes to a TEI stand-in on
127.0.0.1 through the driver's ``url_for`` seam (plain HTTP, so no certificate is checked).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
import pytest
from moto import mock_aws
from rich.console import Console

from infra.cli.commands import main
from infra.ops.drivers.base import ModelTarget
from infra.ops.drivers.eks import EksDriver, check_alb_weights, forward_weights, target_group_dimension
from infra.ops.progress import Phase
from infra.ops.rollout import Outcome, Rollout
from infra.ops.target import load_project, resolve
from infra.stackfiles.edit import StackDocument
from tests.ops.conftest import REGION, ROLLOUT, FakeClock, edit_stack

MODEL = "doc-embedder"
STACK_WEIGHTS = {"stable": 90, "canary": 10}  # what the dev stack file gives doc-embedder


@pytest.fixture
def project(project_copy, monkeypatch):
    edit_stack(project_copy, "dev", MODEL, {"rollout": ROLLOUT})
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    return project_copy


@pytest.fixture
def target(project) -> ModelTarget:
    return resolve(load_project(project), "dev", MODEL)


class Latency:
    """The p99 seam: TargetResponseTime p99 per variant, in ms, as a test sets it."""

    def __init__(self) -> None:
        self.p99: dict[str, float | None] = {"stable": 120.0, "canary": 125.0}

    def __call__(self, _cloudwatch, scopes, _start, _end) -> dict[str, float | None]:
        return {variant: self.p99.get(variant) for variant in scopes}


@pytest.fixture
def aws(target) -> Iterator[dict[str, Any]]:
    with mock_aws():
        clients = {s: boto3.client(s, region_name=REGION) for s in ("ec2", "elbv2", "cloudwatch", "acm")}
        clients["groups"] = stand_up(clients, target)
        yield clients


def stand_up(aws: dict[str, Any], target: ModelTarget) -> dict[str, str]:
    """What ModelLoadBalancer deploys, named and tagged the same way, and the model's alarms (OK)."""
    ec2, elbv2 = aws["ec2"], aws["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")
        ["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]  # fmt: skip
    label = target.endpoint_name
    # Another model's balancer in the same region: found by tags, the right one is picked.
    for name, tag in (("mf-other", "modelfleet-dev-other-lb"), ("mf-doc", f"{label}-lb")):
        balancer = elbv2.create_load_balancer(
            Name=name, Subnets=subnets, Scheme="internal", Tags=[{"Key": "Name", "Value": tag}]
        )["LoadBalancers"][0]
    groups = {
        variant: elbv2.create_target_group(
            Name=f"mf-{variant}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
            Tags=[{"Key": "Name", "Value": f"{label}-{variant}"}, {"Key": "variant", "Value": variant}],
        )["TargetGroups"][0]["TargetGroupArn"]
        for variant in target.variants
    }  # fmt: skip
    certificate = aws["acm"].request_certificate(DomainName="*.dev.ml.acme.internal.example")
    elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Port=443, Protocol="HTTPS",
        Certificates=[{"CertificateArn": certificate["CertificateArn"]}],
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": groups[v], "Weight": w} for v, w in STACK_WEIGHTS.items()
        ]}}],
    )  # fmt: skip
    for name in target.alarm_names:
        aws["cloudwatch"].put_metric_alarm(
            AlarmName=name, Namespace="AWS/ApplicationELB", MetricName="RequestCount", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
    return {**groups, "balancer": balancer["LoadBalancerArn"]}


def put_requests(aws, variant: str, requests: float, errors: float, minutes=range(-1, 61)) -> None:
    """RequestCount and HTTPCode_Target_5XX_Count per minute for a variant's target group."""
    balancer = aws["groups"]["balancer"].split(":loadbalancer/", 1)[1]
    dimensions = [
        {"Name": "LoadBalancer", "Value": balancer},
        {"Name": "TargetGroup", "Value": target_group_dimension(aws["groups"][variant])},
    ]
    origin = datetime.now(UTC).timestamp()
    data = []
    for minute in minutes:
        at = datetime.fromtimestamp(origin + 60 * minute, UTC)
        data += [
            {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": requests, "Timestamp": at},
            {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dimensions, "Value": errors,
             "Timestamp": at},
        ]  # fmt: skip
    aws["cloudwatch"].put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def healthy_traffic(aws) -> None:
    put_requests(aws, "stable", 1000, 0)
    put_requests(aws, "canary", 100, 0)


def live_split(aws) -> dict[str, int]:
    """The listener's forward weights per variant, as ELB has them now."""
    (listener,) = aws["elbv2"].describe_listeners(LoadBalancerArn=aws["groups"]["balancer"])["Listeners"]
    weights = forward_weights(listener["DefaultActions"])
    return {v: weights[arn] for v, arn in aws["groups"].items() if arn in weights}


@pytest.fixture
def weight_calls(aws) -> list[dict[str, int]]:
    """The split after every ModifyListener, read back from ELB, each checked against ELB's rules."""
    calls: list[dict[str, int]] = []

    def after(**_):
        split = live_split(aws)
        check_alb_weights(split)
        assert "stable" in split and set(split) <= {"stable", "canary"}
        calls.append(split)

    aws["elbv2"].meta.events.register("after-call.elastic-load-balancing-v2.ModifyListener", after)
    return calls


def driver(aws, latency: Latency | None = None, standin=None) -> EksDriver:
    return EksDriver(
        clients={s: aws[s] for s in ("elbv2", "cloudwatch", "acm")},
        p99=latency or Latency(),
        url_for=(lambda _dns: standin.url) if standin else "https://{}".format,
    )


def rollout(aws, target, clock=None, **seams) -> tuple[Rollout, io.StringIO]:
    output = io.StringIO()
    runner = Rollout(target, driver(aws, **seams), Console(file=output, width=200), clock or FakeClock())
    return runner, output


def test_a_healthy_rollout_takes_every_step_and_a_rerun_does_nothing(aws, target, weight_calls, standin):
    healthy_traffic(aws)
    clock = FakeClock()
    runner, output = rollout(aws, target, clock, standin=standin)
    assert runner.run() is Outcome.COMPLETED
    assert weight_calls == [
        {"stable": 75, "canary": 25},
        {"stable": 50, "canary": 50},
        {"stable": 0, "canary": 100},
    ]
    assert sum(clock.slept) >= 3 * ROLLOUT["bake_seconds"]  # every step baked in full
    text = output.getvalue()
    assert "smoke test: canary answered" in text and "canary at 10.0 %" in text
    state = driver(aws).read_weights(target)
    assert driver(aws).read_progress(target, state).phase is Phase.COMPLETED

    again, output = rollout(aws, target, standin=standin)
    assert again.run() is Outcome.UNCHANGED
    assert len(weight_calls) == 3 and "nothing to do" in output.getvalue()


@pytest.mark.parametrize("failing_step", [1, 2])
def test_an_alarm_at_step_k_takes_the_canary_out_of_the_listener(aws, target, weight_calls, failing_step):
    healthy_traffic(aws)
    alarm = target.alarm_names[-1]

    def fire(**_):
        if len(weight_calls) == failing_step:
            aws["cloudwatch"].set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")

    aws["elbv2"].meta.events.register("after-call.elastic-load-balancing-v2.ModifyListener", fire)
    runner, output = rollout(aws, target)
    assert runner.run(skip_smoke=True) is Outcome.ROLLED_BACK
    assert len(weight_calls) == failing_step + 1
    assert weight_calls[-1] == live_split(aws) == {"stable": 100}  # 0 %: out of the forward action
    assert f"alarm {alarm} is in ALARM" in output.getvalue()
    state = driver(aws).read_weights(target)
    assert state.canary_percent() == 0 and state.weights == {"stable": 100.0, "canary": 0.0}
    assert driver(aws).read_progress(target, state).phase is Phase.ROLLED_BACK


def test_a_canary_with_more_target_5xx_than_stable_is_rolled_back(aws, target, weight_calls):
    put_requests(aws, "stable", 1000, 1)
    put_requests(aws, "canary", 200, 30)
    runner, output = rollout(aws, target)
    assert runner.run(skip_smoke=True) is Outcome.ROLLED_BACK
    assert weight_calls == [{"stable": 75, "canary": 25}, {"stable": 100}]
    assert "canary 5XX rate 15.00 % exceeds stable's 0.10 %" in output.getvalue()


def test_a_slower_canary_p99_is_rolled_back(aws, target, weight_calls):
    """Through the p99 seam: moto has no percentiles to give."""
    healthy_traffic(aws)
    latency = Latency()
    latency.p99 = {"stable": 100.0, "canary": 400.0}
    runner, output = rollout(aws, target, latency=latency)
    assert runner.run(skip_smoke=True) is Outcome.ROLLED_BACK
    assert weight_calls == [{"stable": 75, "canary": 25}, {"stable": 100}]
    assert "canary p99 400.0 ms exceeds stable's 100.0 ms" in output.getvalue()


def test_an_interrupted_rollout_resumes_from_the_listener_and_its_tags(aws, target, weight_calls):
    healthy_traffic(aws)

    def interrupt(_seconds):
        if len(weight_calls) == 2:  # baking the 50 % step
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rollout(aws, target, FakeClock(on_sleep=interrupt))[0].run(skip_smoke=True)
    assert live_split(aws) == {"stable": 50, "canary": 50}
    state = driver(aws).read_weights(target)
    recorded = driver(aws).read_progress(target, state)
    assert (recorded.phase, recorded.step_percent) == (Phase.BAKING, 50)

    runner, output = rollout(aws, target)
    assert runner.run(skip_smoke=True) is Outcome.COMPLETED
    assert weight_calls[2:] == [{"stable": 0, "canary": 100}]  # 50 % baked again, then on
    assert "resumed" in output.getvalue()
    done = driver(aws).read_progress(target, driver(aws).read_weights(target))
    assert done.started == recorded.started  # one rollout, resumed


def test_a_record_of_another_deployment_is_ignored(aws, target, project):
    healthy_traffic(aws)
    assert rollout(aws, target)[0].run(skip_smoke=True) is Outcome.COMPLETED
    # A new canary version in the stack file: the completed record is an older deployment's.
    edit_stack(project, "dev", MODEL, {"variants.canary.model_data": "s3://acme-ml-artifacts-dev/doc/new/"})
    newer = resolve(load_project(project), "dev", MODEL)
    assert driver(aws).read_progress(newer, driver(aws).read_weights(newer)) is None
    runner, output = rollout(aws, newer)
    assert runner.run(skip_smoke=True) is Outcome.COMPLETED  # the 100 % step is baked again
    assert "bake again (resumed)" in output.getvalue()


def test_a_dry_run_changes_nothing(aws, target, weight_calls):
    runner, output = rollout(aws, target)
    assert runner.run(dry_run=True) is Outcome.PLANNED
    assert weight_calls == [] and live_split(aws) == STACK_WEIGHTS
    assert "dry run: nothing changed" in output.getvalue()
    assert runner.abort(dry_run=True) is Outcome.PLANNED and live_split(aws) == STACK_WEIGHTS


def test_abort_returns_all_traffic_to_stable(aws, target, weight_calls):
    runner, _ = rollout(aws, target)
    assert runner.abort() is Outcome.COMPLETED
    assert weight_calls == [{"stable": 100}]
    state = driver(aws).read_weights(target)
    assert driver(aws).read_progress(target, state).phase is Phase.ABORTED
    assert rollout(aws, target)[0].abort() is Outcome.UNCHANGED


def test_a_smoke_test_pins_the_variant_with_the_header(aws, target, standin, monkeypatch):
    sent: list[httpx.Request] = []
    client = httpx.AsyncClient

    def observed(*args, **kwargs):
        async def record(request):
            sent.append(request)

        kwargs.setdefault("event_hooks", {}).setdefault("request", []).append(record)
        return client(*args, **kwargs)

    monkeypatch.setattr(httpx, "AsyncClient", observed)
    result = driver(aws, standin=standin).smoke(target, "canary")
    assert result.ok and result.status == 200 and result.invoked_variant == "canary", result.problems
    assert [r.headers["X-Modelfleet-Variant"] for r in sent] == ["canary"]
    assert sent[0].url.path == "/v1/embeddings"  # TEI, as the catalog says


def test_smoke_over_https_names_the_certificates_host(aws, target):
    eks = driver(aws)
    assert eks._server_name(target) == f"{MODEL}.dev.ml.acme.internal.example"


def test_promote_writes_the_live_split_into_the_stack_file(aws, target, project, monkeypatch, capsys):
    """After a rollout the file says what serves live, version by version, at each promote edit."""
    healthy_traffic(aws)
    monkeypatch.chdir(project)
    assert rollout(aws, target)[0].run(skip_smoke=True) is Outcome.COMPLETED
    canary_version = dict(target.model.variants.items())["canary"].model_data
    model = ("--stack", "dev", "--model", MODEL)

    assert main(["promote", *model]) == 0  # shift: stable takes the canary's version
    variants = file_variants(project)
    assert variants["stable"]["model_data"] == variants["canary"]["model_data"] == canary_version
    # Live, the canary's version has all traffic (on the canary's target group, until pulumi up
    # rolls stable onto it and the traffic moves): the file gives that version all of it too.
    assert share_of(canary_version, variants) == 100 == share_of_live(aws, canary_version, variants)

    capsys.readouterr()
    assert main(["promote", *model]) == 1  # remove: refused while the listener forwards to the canary
    assert "still forwards to the canary" in capsys.readouterr().err

    assert main(["rollout", "abort", *model]) == 0  # stable now runs the canary's version
    assert live_split(aws) == {"stable": 100}
    assert main(["promote", *model]) == 0  # remove
    variants = file_variants(project)
    assert set(variants) == {"stable"} and variants["stable"]["weight"] == 100
    assert {v: w for v, w in live_split(aws).items()} == {v: s["weight"] for v, s in variants.items()}


def file_variants(root) -> dict[str, dict[str, Any]]:
    document = StackDocument.load(load_project(root), "dev")
    index = document.index_of("modelfleet:models", MODEL)
    return document.get(("modelfleet:models", index, "variants"))


def share_of(version: str, variants: dict[str, dict[str, Any]]) -> float:
    total = sum(v.get("weight", 100) for v in variants.values())
    return 100 * sum(v.get("weight", 100) for v in variants.values() if v["model_data"] == version) / total


def share_of_live(aws, version: str, variants: dict[str, dict[str, Any]]) -> float:
    """The live share of ``version``: the canary's target group still serves the version it had."""
    split = live_split(aws)
    serving = {"canary": version}  # the canary's pods were not touched by the edit
    return 100 * sum(w for v, w in split.items() if serving.get(v) == version) / sum(split.values())
