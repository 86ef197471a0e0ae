"""The model registry gate (pure): which packages a stack deploys, and whether each may be deployed.

A catalog variant may name a versioned model package (``model_package_arn``).
Only an ``Approved`` package is deployed: ``pulumi preview``/``up`` of a prod
stack reads each package's status through a provider invoke
(``aws-native:sagemaker:getModelPackage``) and fails on any other status, and
``modelfleet rollout``/``promote`` ask the registry again through boto3 before
they move traffic. Both say which package and which status, in these words.
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.contracts.model_packages import APPROVED
from infra.settings.catalog import ModelBase

INVOKE = "aws-native:sagemaker:getModelPackage"  # the provider invoke the program reads


def packages(models: Iterable[ModelBase]) -> dict[str, str]:
    """Package ARN -> ``<model>/<variant>`` that deploys it, for every variant naming one."""
    return {
        variant.model_package_arn: f"{model.name}/{name}"
        for model in models
        for name, variant in model.variants.with_shadow()
        if variant.model_package_arn
    }


def approval_problem(arn: str, status: str | None, where: str) -> str | None:
    """Why the package must not be deployed (None when it is approved)."""
    if status == APPROVED:
        return None
    return (
        f"model package {arn} ({where}) is {status or 'of unknown status'}, not {APPROVED}: "
        "approve it in the model registry (UpdateModelPackage ModelApprovalStatus=Approved) first"
    )
