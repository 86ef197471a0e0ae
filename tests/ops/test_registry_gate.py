"""rollout and promote ask the model registry first (moto keeps each package's approval status)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from infra.ops import registry_gate
from tests.conftest import stack_settings

SPEC = {
    "Containers": [{"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/support-summarizer:7"}],
    "SupportedContentTypes": ["application/json"],
    "SupportedResponseMIMETypes": ["application/json"],
}


@pytest.fixture
def sagemaker():
    with mock_aws():
        yield boto3.client("sagemaker", region_name="eu-west-1")


def publish(sagemaker, statuses: list[str]) -> str:
    """Versions 1..n of prod's support-summarizer package; the last one is what prod deploys."""
    sagemaker.create_model_package_group(ModelPackageGroupName="support-summarizer")
    arn = ""
    for status in statuses:
        arn = sagemaker.create_model_package(
            ModelPackageGroupName="support-summarizer",
            ModelApprovalStatus=status,
            InferenceSpecification=SPEC,
        )["ModelPackageArn"]
    return arn


def summarizer():
    return next(m for m in stack_settings("prod").models if m.name == "support-summarizer")


def test_an_approved_package_passes(sagemaker):
    arn = publish(sagemaker, ["Rejected"] * 6 + ["Approved"])
    assert arn.endswith("/support-summarizer/7")  # the version prod's stack file names
    assert registry_gate.statuses(sagemaker, summarizer()) == {arn: "Approved"}
    assert registry_gate.refusal(sagemaker, summarizer()) is None


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_an_unapproved_package_is_refused_naming_it_and_its_status(sagemaker, status):
    arn = publish(sagemaker, ["Approved"] * 6 + [status])
    assert registry_gate.refusal(sagemaker, summarizer()) == (
        f"model package {arn} (support-summarizer/stable) is {status}, not Approved: approve it in the "
        "model registry (UpdateModelPackage ModelApprovalStatus=Approved) first"
    )


def test_a_package_the_registry_does_not_have_is_refused(sagemaker):
    refusal = registry_gate.refusal(sagemaker, summarizer())
    assert refusal is not None and "is of unknown status" in refusal


def test_a_model_without_packages_asks_nothing(sagemaker):
    fraud = next(m for m in stack_settings("prod").models if m.name == "fraud-scorer")
    assert registry_gate.statuses(sagemaker, fraud) == {}


def test_rollout_is_refused_before_any_traffic_moves(sagemaker, monkeypatch, capsys):
    """Through the CLI: the driver asks the registry, and an unapproved version changes nothing."""
    from infra.cli.commands import main
    from infra.ops.drivers.sagemaker import SageMakerDriver

    arn = publish(sagemaker, ["Approved"] * 6 + ["PendingManualApproval"])
    monkeypatch.setattr(SageMakerDriver, "_aws", lambda self, service, target: sagemaker)
    code = main(["rollout", "--stack", "prod", "--model", "support-summarizer"])
    err = capsys.readouterr().err
    assert code != 0 and f"model package {arn} (support-summarizer/stable) is PendingManualApproval" in err
    assert not sagemaker.list_endpoints()["Endpoints"]  # refused before reading or changing anything
