"""The EKS driver's pure parts: the weights it writes, the split it reads, what its record is keyed by,
and the commands it refuses. Against moto: tests/ops/test_eks_rollout_moto.py."""

from __future__ import annotations

import pytest

from infra.cli.commands import main
from infra.ops import clients
from infra.ops.drivers.base import NotSupportedYet
from infra.ops.drivers.eks import (
    MAX_WEIGHT,
    Balancer,
    EksDriver,
    alb_weights,
    check_alb_weights,
    deployment_key,
    forward_weights,
)
from infra.ops.errors import InvalidInput, OpsError
from infra.ops.steps import TOLERANCE
from infra.settings.catalog import EksModel
from infra.settings.platform import load_settings
from infra.specs.model_record import model_record
from infra.stackfiles.read import read_project, read_stack_config
from tests.conftest import ROOT

GROUPS = {
    "stable": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mf-a/1111111111111111",
    "canary": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mf-b/2222222222222222",
}
BALANCER = Balancer(
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/mf-c/3333333333333333",
    "internal-mf-c.eu-west-1.elb.amazonaws.com", "vpc-1",
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/mf-c/3333333333333333/4444",
    GROUPS,
)  # fmt: skip


def doc_embedder() -> tuple[EksModel, dict]:
    project = read_project(ROOT)
    settings = load_settings("dev", read_stack_config(project, project.stack_file("dev")).values)
    model = next(m for m in settings.models if m.name == "doc-embedder")
    assert isinstance(model, EksModel)
    return model, model_record("dev", settings.region, model)


@pytest.mark.parametrize("percent", [*range(101), 0.4, 12.5, 99.6])
def test_every_share_gives_weights_elb_accepts_and_reads_back_as_that_share(percent):
    weights = alb_weights(percent)
    check_alb_weights(weights)
    assert all(0 <= w <= MAX_WEIGHT for w in weights.values()) and weights["stable"] >= 0
    read = {v: weights.get(v, 0) for v in ("stable", "canary")}
    assert abs(100 * read["canary"] / sum(read.values()) - round(percent)) <= TOLERANCE
    assert ("canary" in weights) == (round(percent) > 0)  # a canary at 0 leaves the forward action


@pytest.mark.parametrize("percent", [-1, 100.5, 250])
def test_a_share_outside_0_to_100_is_refused(percent):
    with pytest.raises(ValueError, match="0-100"):
        alb_weights(percent)


@pytest.mark.parametrize("weights", [{"stable": 0}, {"stable": 1000}, {"stable": -1, "canary": 2}])
def test_weights_elb_would_refuse_are_never_sent(weights):
    with pytest.raises(ValueError, match="invalid target group weights"):
        check_alb_weights(weights)


def test_the_split_is_read_from_the_forward_action():
    weighted = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": GROUPS["stable"], "Weight": 75}, {"TargetGroupArn": GROUPS["canary"], "Weight": 25},
    ]}}]  # fmt: skip
    assert forward_weights(weighted) == {GROUPS["stable"]: 75, GROUPS["canary"]: 25}
    assert forward_weights([{"Type": "forward", "TargetGroupArn": GROUPS["stable"]}]) == {GROUPS["stable"]: 1}
    with pytest.raises(OpsError, match="not a forward"):
        forward_weights([{"Type": "fixed-response"}])


def test_the_record_is_keyed_by_the_target_groups_and_the_variants_versions():
    model, _ = doc_embedder()
    key = deployment_key(model, BALANCER)
    assert key.startswith("2222222222222222.1111111111111111:") and len(key) < 256
    assert deployment_key(model, BALANCER) == key
    variants = dict(model.variants.items())
    canary = variants["canary"].model_copy(update={"model_data": "s3://acme-ml-artifacts-dev/doc/new/"})
    newer = model.model_copy(update={"variants": model.variants.model_copy(update={"canary": canary})})
    assert deployment_key(newer, BALANCER) != key  # a new canary: an older record is stale
    replaced = Balancer(*BALANCER.__dict__.values())
    replaced.target_groups["canary"] = GROUPS["canary"].replace("2222", "5555")
    assert deployment_key(model, replaced) != key


def test_resolve_names_the_load_balancer_variants_and_alarms_from_the_record():
    model, record = doc_embedder()
    target = EksDriver().resolve(
        "dev", "eu-west-1", model, record, ROOT / "stacks/Pulumi.dev.yaml", "promotion"
    )
    assert target.endpoint_name == record["load_balancer_name"] == "modelfleet-dev-doc-embedder"
    assert target.variants == ("stable", "canary") and target.alarm_names == tuple(record["alarm_names"])
    assert target.inference_component is None


def test_a_load_test_by_endpoint_is_refused_and_points_at_the_url():
    model, record = doc_embedder()
    with pytest.raises(NotSupportedYet) as refused:
        EksDriver().resolve("dev", "eu-west-1", model, record, ROOT / "stacks/Pulumi.dev.yaml", "load test")
    assert isinstance(refused.value, InvalidInput) and refused.value.capability == "load test"
    assert "modelfleet loadtest --url" in str(refused.value)


def test_a_load_test_of_an_eks_model_by_endpoint_is_one_line_exit_2_and_touches_nothing(
    project_copy, monkeypatch, capsys
):
    def no_aws(*_, **__):
        raise AssertionError("a refused command made an AWS client")

    monkeypatch.setattr(clients, "client", no_aws)
    monkeypatch.chdir(project_copy)
    before = (project_copy / "stacks/Pulumi.dev.yaml").read_bytes()
    argv = ["loadtest", "--stack", "dev", "--model", "doc-embedder", "--endpoint", "x", "--dry-run"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("✗ model 'doc-embedder' is served by eks: load test is not supported")
    assert (project_copy / "stacks/Pulumi.dev.yaml").read_bytes() == before
