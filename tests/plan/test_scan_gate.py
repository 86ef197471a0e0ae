"""The checkov gate: suppressions, findings and what fails `make lint` (no checkov needed)."""

from __future__ import annotations

import json

import pytest

from infra.plan.scan_gate import (
    CHECK_ID,
    TODO,
    Finding,
    Suppression,
    judge,
    load_suppressions,
    main,
    read_report,
)
from tests.conftest import ROOT

SUPPRESSIONS = ROOT / ".ci" / "checkov" / "suppressions.yaml"


def result(check: str, resource: str, file: str = "/prod.tfplan.json") -> dict:
    return {
        "check_id": check,
        "resource": resource,
        "file_path": file,
        "check_name": "a check",
        "guideline": None,
    }


def report(failed=(), passed=(), errors=()) -> dict:
    return {"check_type": "terraform_plan",
            "results": {"failed_checks": list(failed), "passed_checks": list(passed), "parsing_errors": list(errors)}}  # fmt: skip


def test_every_shipped_suppression_has_a_reason_resources_and_a_checkov_id():
    suppressions, problems = load_suppressions(SUPPRESSIONS)
    assert problems == []
    assert len(suppressions) > 10
    for suppression in suppressions:
        assert CHECK_ID.match(suppression.check)
        assert len(suppression.reason.removeprefix(TODO).strip()) > 30, suppression.check
        assert suppression.resources


def test_a_suppression_file_with_mistakes_lists_every_one(tmp_path):
    path = tmp_path / "suppressions.yaml"
    path.write_text(
        "- {check: CKV_AWS_18, resources: [aws_s3_bucket.a], reason: ''}\n"
        "- {check: not-an-id, resources: [x], reason: because}\n"
        "- {check: CKV_AWS_19, resources: [], reason: 'TODO-FIX:'}\n"
        "- {check: CKV_AWS_20, resources: [x], reason: because, stacks: prod}\n"
    )
    _, problems = load_suppressions(path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "reason is empty",
        "check must be a checkov id such as CKV_AWS_18",
        "reason is empty",
        "resources must list at least one resource pattern",
        "stacks must be a list of stack names",
    ]


def test_a_suppression_covers_its_check_its_resources_and_its_stacks_only():
    suppression = Suppression("CKV_AWS_338", ("aws_cloudwatch_log_group.*",), "tier", ("dev",))
    assert suppression.covers(Finding("CKV_AWS_338", "aws_cloudwatch_log_group.logs", "dev.tfplan.json", "t"))
    assert not suppression.covers(
        Finding("CKV_AWS_338", "aws_cloudwatch_log_group.logs", "prod.tfplan.json", "t")
    )
    assert not suppression.covers(
        Finding("CKV_AWS_66", "aws_cloudwatch_log_group.logs", "dev.tfplan.json", "t")
    )
    assert not suppression.covers(Finding("CKV_AWS_338", "aws_s3_bucket.logs", "dev.tfplan.json", "t"))


def test_judge_keeps_uncovered_failures_and_flags_unknown_and_stale_suppressions():
    failed, ran, _, _ = read_report(
        [report(failed=[result("CKV_AWS_18", "aws_s3_bucket.a"), result("CKV_AWS_91", "aws_lb.alb")],
                passed=[result("CKV_AWS_21", "aws_s3_bucket.a")])]
    )  # fmt: skip
    suppressions = [
        Suppression("CKV_AWS_18", ("aws_s3_bucket.*",), "why"),
        Suppression("CKV_AWS_21", ("aws_s3_bucket.a",), "why"),  # ran and passed: stale
        Suppression("CKV_AWS_9999", ("aws_s3_bucket.a",), "why"),  # checkov has no such check here
    ]
    open_findings, problems = judge(failed, ran, suppressions)
    assert [(f.check, f.resource, f.stack) for f in open_findings] == [("CKV_AWS_91", "aws_lb.alb", "prod")]
    assert problems == [
        "CKV_AWS_21 aws_s3_bucket.a: covers no failure any more; remove it",
        "CKV_AWS_9999: checkov ran no such check on these files",
    ]


def _scan_dir(tmp_path, types=("aws_s3_bucket",)):
    scanned = tmp_path / "scan"
    scanned.mkdir()
    resources = [{"type": t, "address": f"{t}.a"} for t in types]
    (scanned / "prod.tfplan.json").write_text(
        json.dumps({"planned_values": {"root_module": {"resources": resources}}})
    )
    return scanned


def test_main_passes_when_every_failure_is_suppressed(tmp_path, capsys):
    scanned = _scan_dir(tmp_path)
    (tmp_path / "report.json").write_text(
        json.dumps(report(failed=[result("CKV_AWS_18", "aws_s3_bucket.a")]))
    )
    (tmp_path / "s.yaml").write_text(
        "- {check: CKV_AWS_18, resources: [aws_s3_bucket.a], reason: 'TODO-FIX: log it'}\n"
    )
    (tmp_path / "types").write_text("aws_s3_bucket\naws_vpc\n")
    args = [str(tmp_path / "report.json"), str(tmp_path / "s.yaml"), "--scanned", str(scanned)]
    assert main([*args, "--terraform-types", str(tmp_path / "types")]) == 0
    assert "0 open, 1 suppressed by 1 entries (1 TODO-FIX)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("failed", "errors", "types", "expected"),
    [
        (
            [result("CKV_AWS_91", "aws_lb.alb")],
            [],
            "aws_s3_bucket",
            "FAILED CKV_AWS_91 aws_lb.alb (prod.tfplan.json)",
        ),
        ([], ["/prod.tfplan.json"], "aws_s3_bucket", "PROBLEM checkov could not parse: /prod.tfplan.json"),
        ([], [], "aws_vpc", "PROBLEM prod.tfplan.json: aws_s3_bucket is not a Terraform AWS resource type"),
    ],
)
def test_main_fails_on_an_open_finding_a_parse_error_or_a_wrong_type(
    tmp_path, capsys, failed, errors, types, expected
):
    scanned = _scan_dir(tmp_path)
    passed = [result("CKV_AWS_21", "aws_s3_bucket.a")]
    (tmp_path / "report.json").write_text(json.dumps(report(failed=failed, passed=passed, errors=errors)))
    (tmp_path / "s.yaml").write_text("[]\n")
    (tmp_path / "types").write_text(types)
    args = [str(tmp_path / "report.json"), str(tmp_path / "s.yaml"), "--scanned", str(scanned)]
    assert main([*args, "--terraform-types", str(tmp_path / "types")]) == 1
    assert expected in capsys.readouterr().out


def test_main_fails_when_checkov_checked_nothing_in_an_exported_file(tmp_path, capsys):
    scanned = _scan_dir(tmp_path)
    (scanned / "prod.k8s.yaml").write_text("")
    (tmp_path / "report.json").write_text(
        json.dumps(report(passed=[result("CKV_AWS_21", "aws_s3_bucket.a")]))
    )
    (tmp_path / "s.yaml").write_text("[]\n")
    assert main([str(tmp_path / "report.json"), str(tmp_path / "s.yaml"), "--scanned", str(scanned)]) == 1
    assert "PROBLEM prod.k8s.yaml: checkov checked nothing in it" in capsys.readouterr().out
