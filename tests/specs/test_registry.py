"""The registry gate's words (pure): which packages a stack deploys and why one may not be."""

from __future__ import annotations

from infra.specs import registry
from tests.conftest import stack_settings

PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/support-summarizer/7"


def test_prod_deploys_one_package_and_names_where():
    risk = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/modelfleet-prod-risk"
    assert registry.packages(stack_settings("prod").models) == {
        PACKAGE: "support-summarizer/stable",
        f"{risk}/3": "fraud-graph/stable",
        f"{risk}/4": "fraud-graph/canary",
    }
    assert registry.packages(stack_settings("dev").models) == {}


def test_only_approved_passes_and_the_refusal_names_package_and_status():
    assert registry.approval_problem(PACKAGE, "Approved", "m/stable") is None
    for status in ("PendingManualApproval", "Rejected"):
        problem = registry.approval_problem(PACKAGE, status, "support-summarizer/stable")
        assert problem.startswith(
            f"model package {PACKAGE} (support-summarizer/stable) is {status}, not Approved"
        )
    assert "of unknown status" in registry.approval_problem(PACKAGE, None, "m/stable")
