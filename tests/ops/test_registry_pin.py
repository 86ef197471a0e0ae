"""``modelfleet registry pin`` and the eks half of the registry gate, against moto's model registry.

moto keeps model package groups, versions with their InferenceSpecification, and
approval statuses, and filters ListModelPackages by group and status.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from infra.ops import registry_gate, registry_pin
from infra.ops.target import load_project
from infra.settings.catalog import parse_model
from infra.stackfiles.edit import StackDocument
from tests.conftest import stack_settings

GROUP = "modelfleet-prod-risk"  # prod's fraud-graph follows the risk team's group
REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud-graph"
DIGESTS = {3: "2b4d6f8a0c1e3a5c7e9b1d3f5a7c9e0b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c",
           4: "9e7c5a3f1d0b8e6c4a2f0d9b7e5c3a1f8d6b4e2c0a9f7d5b3e1c8a6f4d2b0e9c",
           5: "5" * 64}  # fmt: skip


@pytest.fixture
def sagemaker():
    with mock_aws():
        yield boto3.client("sagemaker", region_name="eu-west-1")


def publish(sagemaker, statuses: list[str], *, digest_in_image: bool = True) -> list[str]:
    """Versions 1..n of the group, each with its own artifact and image (versions 3-5 by the digests above)."""
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    arns = []
    for version, status in enumerate(statuses, start=1):
        digest = "sha256:" + DIGESTS.get(version, f"{version:064d}")
        container = {
            "Image": f"{REPO}@{digest}" if digest_in_image else f"{REPO}:v{version}",
            "ModelDataUrl": f"s3://acme-ml-artifacts-prod/fraud-graph/v{version}/model.tar.gz",
        }
        if not digest_in_image:
            container["ImageDigest"] = digest
        arns.append(
            sagemaker.create_model_package(
                ModelPackageGroupName=GROUP,
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [container],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
            )["ModelPackageArn"]
        )
    return arns


def graph_entry(project_copy) -> tuple[StackDocument, int, dict]:
    document = StackDocument.load(load_project(project_copy), "prod")
    index = document.index_of("modelfleet:models", "fraud-graph")
    return document, index, document.get(("modelfleet:models", index))


def fraud_graph():
    return next(m for m in stack_settings("prod").models if m.name == "fraud-graph")


def test_latest_approved_is_the_highest_approved_version(sagemaker):
    arns = publish(sagemaker, ["Approved", "Approved", "Rejected", "Approved", "PendingManualApproval"])
    assert registry_pin.latest_approved(sagemaker, GROUP) == arns[3]


def test_a_group_without_an_approved_version_is_refused(sagemaker):
    publish(sagemaker, ["Rejected", "PendingManualApproval"])
    with pytest.raises(registry_pin.RegistryError, match=f"group {GROUP} has no Approved version"):
        registry_pin.latest_approved(sagemaker, GROUP)


def test_contents_pin_the_image_by_the_registered_digest(sagemaker):
    arns = publish(sagemaker, ["Approved"] * 4, digest_in_image=False)
    found = registry_pin.contents(sagemaker, arns[3])
    assert found.image == f"{REPO}@sha256:{DIGESTS[4]}" and found.problem is None
    assert found.model_data == "s3://acme-ml-artifacts-prod/fraud-graph/v4/model.tar.gz"


def test_an_image_without_a_digest_cannot_run_on_eks(sagemaker):
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": f"{REPO}:latest", "ModelDataUrl": "s3://b/m/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    assert "has no digest" in registry_pin.contents(sagemaker, arn).problem


def test_pin_moves_the_canary_to_the_latest_approved_version_with_its_artifact_and_image(
    sagemaker, project_copy
):
    arns = publish(sagemaker, ["Approved", "Approved", "Approved", "Approved", "Approved"])
    _, _, entry = graph_entry(project_copy)
    edit = registry_pin.pin_edit(sagemaker, entry, "canary", copies=True)
    assert edit.version == arns[4]
    assert edit.changes == {
        "model_package_arn": arns[4],
        "model_data": "s3://acme-ml-artifacts-prod/fraud-graph/v5/model.tar.gz",
        "image": f"{REPO}@sha256:{DIGESTS[5]}",
    }


def test_pin_of_an_up_to_date_stable_changes_nothing(sagemaker, project_copy):
    publish(sagemaker, ["Approved", "Approved", "Approved", "Rejected"])
    _, _, entry = graph_entry(project_copy)
    edit = registry_pin.pin_edit(sagemaker, entry, "stable", copies=True)
    assert edit.version.endswith(f"/{GROUP}/3") and edit.changes == {}


def test_the_cli_writes_a_valid_stack_file_and_dry_run_writes_nothing(
    sagemaker, project_copy, monkeypatch, capsys
):
    from infra.cli.commands import main

    publish(sagemaker, ["Approved"] * 5)  # the command's own client reaches the same moto registry
    monkeypatch.chdir(project_copy)
    stack_file = project_copy / "stacks" / "Pulumi.prod.yaml"
    before = stack_file.read_text()
    assert main(["registry", "pin", "--stack", "prod", "--model", "fraud-graph", "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert (
        f'+          model_package_arn: "arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/5"'
        in shown
    )
    assert stack_file.read_text() == before
    assert main(["registry", "pin", "--stack", "prod", "--model", "fraud-graph"]) == 0
    _, _, entry = graph_entry(project_copy)
    canary = entry["variants"]["canary"]
    assert canary["model_package_arn"].endswith(f"/{GROUP}/5")
    assert canary["model_data"].endswith("/v5/model.tar.gz") and canary["image"].endswith(DIGESTS[5])
    assert "# Our own container on EKS" in stack_file.read_text()  # comments kept


def test_the_cli_refuses_in_one_line_when_nothing_is_approved(sagemaker, project_copy, monkeypatch, capsys):
    from infra.cli.commands import main

    publish(sagemaker, ["Rejected"])
    monkeypatch.chdir(project_copy)
    assert main(["registry", "pin", "--stack", "prod", "--model", "fraud-graph"]) == 1
    err = capsys.readouterr().err
    assert f"group {GROUP} has no Approved version" in err and "Traceback" not in err


def test_the_gate_passes_an_eks_model_whose_copies_match_its_packages(sagemaker):
    publish(sagemaker, ["Approved"] * 4)
    assert registry_gate.refusal(sagemaker, fraud_graph()) is None
    assert registry_gate.copies_refusal(sagemaker, fraud_graph()) is None


def test_the_gate_refuses_an_eks_model_whose_artifact_differs_from_its_package(sagemaker):
    publish(sagemaker, ["Approved"] * 4)
    data = fraud_graph().model_dump(mode="json", exclude_none=True)
    data["variants"]["canary"]["model_data"] = (
        "s3://acme-ml-artifacts-prod/fraud-graph/v4-retrained/model.tar.gz"
    )
    refusal = registry_gate.copies_refusal(sagemaker, parse_model(data))
    assert refusal is not None
    assert refusal.startswith(f"fraud-graph/canary names model package arn:aws:sagemaker:eu-west-1:123456789012:"
                              f"model-package/{GROUP}/4, but model_data ")  # fmt: skip
    assert "modelfleet registry pin --model fraud-graph --variant canary" in refusal


def test_the_eks_driver_refuses_an_unapproved_package_first(sagemaker, monkeypatch):
    from infra.ops.drivers.eks import EksDriver

    arns = publish(sagemaker, ["Approved", "Approved", "Approved", "PendingManualApproval"])
    monkeypatch.setattr(EksDriver, "_aws", lambda self, service, target: sagemaker)
    target = type("Target", (), {"model": fraud_graph()})()
    refusal = EksDriver().registry_refusal(target)
    assert refusal is not None and refusal.startswith(
        f"model package {arns[3]} (fraud-graph/canary) is Pending"
    )


def test_the_eks_driver_refuses_stale_copies_and_sagemaker_never_asks_for_them(sagemaker, monkeypatch):
    from infra.ops.drivers.eks import EksDriver
    from infra.ops.drivers.registry import copies_packages

    publish(sagemaker, ["Approved"] * 3 + ["Approved"], digest_in_image=True)
    data = fraud_graph().model_dump(mode="json", exclude_none=True)
    data["variants"]["stable"]["image"] = f"{REPO}@sha256:{'0' * 64}"
    monkeypatch.setattr(EksDriver, "_aws", lambda self, service, target: sagemaker)
    target = type("Target", (), {"model": parse_model(data)})()
    assert "fraud-graph/stable names model package" in EksDriver().registry_refusal(target)
    assert copies_packages("eks") and not copies_packages("sagemaker")
