"""new-model's per-backend modules: one per backend, each the whole interface, each writing its own keys."""

from __future__ import annotations

import inspect
import io

import pytest
from ruamel.yaml import YAML

from infra.cli.commands import main
from infra.selfservice import new_model
from infra.selfservice.backends.base import ModelBackend, ModelRequest
from infra.selfservice.backends.registry import BACKENDS
from infra.selfservice.derive import Sizing
from infra.selfservice.entries import model_entry
from infra.settings.catalog import Backend
from tests.selfservice.conftest import snapshot

INTERFACE = {
    name: inspect.signature(member)
    for name, member in vars(ModelBackend).items()
    if inspect.isfunction(member) and not name.startswith("_")
}
SIZING = Sizing(40.0, False, 1200, 3, 2, 4)
DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serving@sha256:" + "a" * 64


def request(backend: str, **fields: object) -> ModelRequest:
    return ModelRequest(
        name="fraud-v2", team="risk", backend=backend, artifact="s3://bucket-1/fraud/model.tar.gz",
        p99_ms=100, peak_rps=50, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def text(entry) -> str:
    buffer, yaml = io.StringIO(), YAML(typ="rt")
    yaml.width = 1000  # one line per key, as the assertions read
    yaml.dump([entry], buffer)
    return buffer.getvalue()


def test_every_backend_has_a_self_service_module_that_says_which():
    assert set(BACKENDS) == set(Backend)
    assert all(BACKENDS[backend].backend is backend for backend in Backend)


@pytest.mark.parametrize("backend", list(Backend))
def test_each_module_has_the_whole_interface(backend):
    module = BACKENDS[backend]
    for name, signature in INTERFACE.items():
        method = getattr(type(module), name, None)
        assert method is not None, f"{type(module).__name__} lacks {name}"
        assert list(inspect.signature(method).parameters) == list(signature.parameters), name
        assert (method.__doc__ or "").strip(), f"{type(module).__name__}.{name} says nothing about why"
    assert module.scaling_unit


def test_a_sagemaker_entry_has_an_instance_type_and_a_scaling_target_and_no_eks_block():
    entry = model_entry(request("sagemaker", framework="xgboost:1.7-1", instance_type="ml.c5.xlarge"), SIZING)
    assert text(entry) == (
        "- name: fraud-v2\n"
        "  team: risk\n"
        "  backend: sagemaker\n"
        "  framework: {name: xgboost, version: 1.7-1}\n"
        "  instance_type: ml.c5.xlarge\n"
        "  variants:\n"
        "    stable: {model_data: s3://bucket-1/fraud/model.tar.gz, instance_count: 2}\n"
        "  autoscaling:  # sized for 50 req/s at peak within p99 100 ms: " + SIZING.basis + "\n"
        "    min_instances: 2\n"
        "    max_instances: 4\n"
        "    target_invocations_per_instance_per_minute: 1200\n"
        "  slo: {p99_latency_ms: 100, error_rate_percent: 1}\n"
    )


def test_an_eks_entry_has_its_pool_block_last_and_neither_instance_type_nor_target():
    entry = model_entry(request("eks", image=DIGEST, pool="g5", gpus=2), SIZING)
    assert text(entry) == (
        "- name: fraud-v2\n"
        "  team: risk\n"
        "  backend: eks\n"
        f"  image: {DIGEST}\n"
        "  variants:\n"
        "    stable: {model_data: s3://bucket-1/fraud/model.tar.gz, instance_count: 2}\n"
        "  autoscaling:  # sized for 50 req/s at peak within p99 100 ms: " + SIZING.basis + "\n"
        "    min_instances: 2\n"
        "    max_instances: 4\n"
        "  slo: {p99_latency_ms: 100, error_rate_percent: 1}\n"
        "  eks: {pool: g5, gpus: 2, pdb_min_available: 1}\n"
    )


@pytest.mark.parametrize(("floor", "kept"), [(1, 0), (2, 1), (5, 1)])
def test_the_eks_disruption_budget_keeps_one_fewer_than_the_floor_and_at_most_one(floor, kept):
    sizing = Sizing(40.0, False, 1200, 3, floor, 8)
    assert BACKENDS[Backend.EKS].block(request("eks"), sizing)["eks"]["pdb_min_available"] == kept


def test_what_each_backend_prints_on_the_autoscaling_line():
    sagemaker, eks = BACKENDS[Backend.SAGEMAKER], BACKENDS[Backend.EKS]
    assert (sagemaker.scaling_unit, sagemaker.sizing_note(SIZING)) == (
        "instances", ", target 1200 invocations/instance/min",
    )  # fmt: skip
    assert (eks.scaling_unit, eks.sizing_note(SIZING)) == ("replicas", "")


def test_only_sagemaker_asks_for_an_instance_type_and_reads_it():
    assert [ask.key for ask in BACKENDS[Backend.SAGEMAKER].asks] == ["instance_type"]
    assert BACKENDS[Backend.EKS].asks == ()
    values = {"instance_type": "ml.m5.large", "pool": "g5"}
    assert BACKENDS[Backend.SAGEMAKER].request_fields(values) == {"instance_type": "ml.m5.large"}
    assert BACKENDS[Backend.EKS].request_fields(values) == {}


def test_an_eks_model_needs_a_gpu_pool_in_the_stack(project, capsys):
    (project / "stacks" / "Pulumi.qa.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  modelfleet:tier: dev\n  modelfleet:owner: a\n"
        "  modelfleet:cost_center: CC-1\n  modelfleet:network: {cidr: 10.70.0.0/16}\n"
    )
    untouched = snapshot(project)
    argv = ["new-model", "--stack", "qa", "--name", "gpu-model", "--team", "growth", "--backend", "eks",
            "--image", DIGEST, "--artifact", "s3://bucket-1/m/model.tar.gz", "--p99-ms", "100",
            "--peak-rps", "5"]  # fmt: skip
    assert main(argv) == 2
    assert capsys.readouterr().err == "✗ stack 'qa' has no GPU pool: backend eks needs one\n"
    assert snapshot(project) == untouched


def test_flag_problems_list_each_backends_own_flags_in_backend_name_order(project, capsys):
    untouched = snapshot(project)
    answers = project / "answers.yaml"
    answers.write_text(f"config:\n  model:backend: triton\n  model:image: {DIGEST}\n")
    argv = ["new-model", "--stack", "dev", "--name", "x-model", "--team", "growth", "--answers", str(answers),
            "--artifact", "s3://bucket-1/m/model.tar.gz", "--p99-ms", "100", "--peak-rps", "5",
            "--instance-type", "ml.m5.large", "--gpus", "2", "--pool", "g5"]  # fmt: skip
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        "✗ --pool: applies to --backend eks only",
        "--gpus: applies to --backend eks only",
        "--instance-type: applies to --backend sagemaker only (an eks model runs on its --pool)",
        "--backend: sagemaker or eks (got 'triton')",
    ]
    assert [rule.key for rule in new_model.FLAG_RULES[:4]] == ["pool", "gpus", "instance_type", "framework"]
    assert snapshot(project) == untouched
