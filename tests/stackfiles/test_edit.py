"""Round-trip stack edits: byte-identical when untouched, comments kept, nothing written unless valid."""

from __future__ import annotations

import pytest

from infra.settings.platform import SettingsError
from infra.stackfiles.edit import StackDocument, StackEditError, parse_key_path
from infra.stackfiles.read import StackFileError, read_project
from tests.conftest import ROOT, SHIPPED_STACKS, copy_project


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_an_untouched_stack_renders_byte_for_byte(stack):
    document = StackDocument.load(read_project(ROOT), stack)
    assert document.render() == document.original


def test_key_paths_parse_like_the_ones_in_error_messages():
    assert parse_key_path("modelfleet:models[2].variants.canary.weight") == (
        "modelfleet:models", 2, "variants", "canary", "weight",
    )  # fmt: skip
    with pytest.raises(StackEditError):
        parse_key_path("")


def test_an_edit_keeps_comments_order_and_flow_style(tmp_path):
    project = read_project(copy_project(tmp_path))
    document = StackDocument.load(project, "prod")
    index = document.index_of("modelfleet:models", "fraud-scorer")
    document.set(f"modelfleet:models[{index}].autoscaling.target_invocations_per_instance_per_minute", 750)
    document.set(f"modelfleet:models[{index}].variants.canary.weight", 20)
    document.set(f"modelfleet:models[{index}].variants.stable.weight", 80)
    assert document.save() is True
    before = (ROOT / "stacks/Pulumi.prod.yaml").read_text().splitlines()
    after = project.stack_file("prod").read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert [b.strip() for _, b in changed] == [
        "stable: {model_data: s3://acme-ml-artifacts-prod/fraud-scorer/v12/model.tar.gz, instance_count: 3, weight: 80}",
        "canary: {model_data: s3://acme-ml-artifacts-prod/fraud-scorer/v13/model.tar.gz, instance_count: 2, weight: 20}",
        "target_invocations_per_instance_per_minute: 750",
    ]
    assert after[0].startswith("# Production: three AZs")
    assert StackDocument.load(project, "prod").save() is False  # nothing left to change


def test_an_invalid_edit_writes_nothing_and_lists_the_problem(tmp_path):
    project = read_project(copy_project(tmp_path))
    path = project.stack_file("dev")
    before = path.read_bytes()
    document = StackDocument.load(project, "dev")
    document.set("modelfleet:models[0].variants.canary.weight", 50)
    with pytest.raises(
        SettingsError, match=r"modelfleet:models\[0\].variants: variant weights are percentages"
    ):
        document.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        p.name for p in (ROOT / "stacks").iterdir()
    )


def test_unknown_key_paths_are_errors_not_new_branches(tmp_path):
    document = StackDocument.load(read_project(copy_project(tmp_path)), "dev")
    with pytest.raises(StackEditError, match=r"no 'modelfleet:models\[9\]'"):
        document.set("modelfleet:models[9].team", "x")
    with pytest.raises(StackEditError, match="no 'modelfleet:nope'"):
        document.get("modelfleet:nope")
    assert document.get("modelfleet:nope", None) is None
    assert document.index_of("modelfleet:models", "no-such-model") is None


def test_a_missing_stack_file_is_a_clear_error():
    with pytest.raises(StackFileError, match="Pulumi.qa.yaml: no such file"):
        StackDocument.load(read_project(ROOT), "qa")
