"""The EKS driver refuses every capability under its own name, and the commands say so in one line."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest

from infra.cli.commands import main
from infra.ops import clients
from infra.ops.drivers.base import EndpointState, ModelTarget, NotSupportedYet, ServingDriver
from infra.ops.drivers.eks import EksDriver
from infra.ops.errors import InvalidInput
from infra.ops.progress import Phase, Progress
from infra.settings.catalog import EksModel
from infra.settings.platform import load_settings
from infra.specs.model_record import model_record
from infra.stackfiles.read import read_project, read_stack_config
from tests.conftest import ROOT
from tests.ops.conftest import FakeClock

UNTIL = "(EKS support in the day-2 tools comes with the model-lifecycle work)"
STATE = EndpointState("x", "InService", {"stable": 100.0}, {"stable": 1}, guardrail_in_progress=False)
RECORD = Progress(Phase.BAKING, 0, "", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
# Each capability, the arguments after the target, and the name its refusal gives.
CAPABILITIES = {
    "wait_in_service": ((60, FakeClock(), 15), "waiting until the model is in service"),
    "read_weights": ((), "reading the traffic split"),
    "set_weights": ((50,), "moving the traffic split"),
    "read_progress": ((STATE,), "reading a rollout's progress"),
    "write_progress": ((STATE, RECORD), "recording a rollout's progress"),
    "read_alarms": ((["a"],), "reading the model's alarms"),
    "read_gates": ((["a"], 0.0, 60.0), "reading the rollout gates"),
    "smoke": (("canary",), "smoke test"),
    "promotion_problem": (("shift",), "checking the live model before a promote edit"),
}


def doc_embedder() -> tuple[EksModel, dict]:
    project = read_project(ROOT)
    settings = load_settings("dev", read_stack_config(project, project.stack_file("dev")).values)
    model = next(m for m in settings.models if m.name == "doc-embedder")
    assert isinstance(model, EksModel)
    return model, model_record("dev", settings.region, model)


def refusal(capability: str) -> str:
    return f"model 'doc-embedder' is served by eks: {capability} is not supported for eks models yet {UNTIL}"


def test_every_capability_of_the_interface_has_its_refusal_here():
    methods = {
        name for name, member in vars(ServingDriver).items() if inspect.isfunction(member) and name[0] != "_"
    }
    assert methods - {"resolve"} == set(CAPABILITIES)
    names = [name for _, name in CAPABILITIES.values()]
    assert len(set(names)) == len(names)  # each its own


@pytest.mark.parametrize("method", sorted(CAPABILITIES))
def test_each_capability_refuses_under_its_own_name(method):
    model, record = doc_embedder()
    target = ModelTarget(
        "dev", "eu-west-1", model, record["load_balancer_name"], tuple(record["variants"]),
        tuple(record["alarm_names"]), ROOT / "stacks/Pulumi.dev.yaml",
    )  # fmt: skip
    arguments, capability = CAPABILITIES[method]
    with pytest.raises(NotSupportedYet) as refused:
        getattr(EksDriver(), method)(target, *arguments)
    assert str(refused.value) == refusal(capability) and refused.value.capability == capability
    assert isinstance(refused.value, InvalidInput)  # exit 2, like any other invalid input


def test_resolve_refuses_under_the_commands_capability():
    model, record = doc_embedder()
    with pytest.raises(NotSupportedYet) as refused:
        EksDriver().resolve(
            "dev", "eu-west-1", model, record, ROOT / "stacks/Pulumi.dev.yaml", "canary rollout"
        )
    assert str(refused.value) == refusal("canary rollout")


MODEL = ("--stack", "dev", "--model", "doc-embedder")


@pytest.mark.parametrize(
    ("argv", "capability"),
    [
        (("rollout", *MODEL), "canary rollout"),
        (("rollout", *MODEL, "--dry-run"), "canary rollout"),
        (("rollout", "abort", *MODEL), "rollout abort"),
        (("promote", *MODEL), "promotion"),
        (("promote", *MODEL, "--force", "--reason", "INC-1"), "promotion"),
        (("smoke", *MODEL, "--variant", "stable"), "smoke test"),
        (("loadtest", *MODEL, "--endpoint", "modelfleet-dev-doc-embedder", "--dry-run"), "load test"),
    ],
)
def test_each_command_answers_an_eks_model_in_one_line_with_exit_2_and_touches_nothing(
    argv, capability, project_copy, monkeypatch, capsys
):
    """Through its driver, that is: at a --url, smoke and loadtest speak its runtime (tests/ops/test_url_*)."""

    def no_aws(*_, **__):
        raise AssertionError("an EKS model's command made an AWS client")

    monkeypatch.setattr(clients, "client", no_aws)
    monkeypatch.chdir(project_copy)
    before = (project_copy / "stacks/Pulumi.dev.yaml").read_bytes()
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    hint = "; through a port-forward to its Service: modelfleet smoke --url http://127.0.0.1:<port> "
    hint += "--stack dev --model doc-embedder"
    assert captured.err == f"✗ {refusal(capability)}{hint if argv[0] == 'smoke' else ''}\n"
    assert captured.out == ""
    assert (project_copy / "stacks/Pulumi.dev.yaml").read_bytes() == before
