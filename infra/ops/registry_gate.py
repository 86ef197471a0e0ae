"""Ask the model registry before moving traffic: every package a model deploys must be Approved.

``rollout`` and ``promote`` call ``refusal`` first; the program asks the same of
prod's preview (``infra.specs.registry``), and both use its words. A package that
cannot be read is refused too: an unknown status is not an approval.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.settings.catalog import ModelBase
from infra.specs import registry


def statuses(sagemaker: Any, model: ModelBase) -> dict[str, str | None]:
    """Package ARN -> its ``ModelApprovalStatus`` (None when the registry cannot say)."""
    found: dict[str, str | None] = {}
    for arn in registry.packages([model]):
        try:
            found[arn] = sagemaker.describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus")
        except ClientError:
            found[arn] = None
    return found


def refusal(sagemaker: Any, model: ModelBase) -> str | None:
    """Why ``model`` must not get traffic now: its first package that is not Approved (None: all are)."""
    where = registry.packages([model])
    for arn, status in statuses(sagemaker, model).items():
        if problem := registry.approval_problem(arn, status, where[arn]):
            return problem
    return None
