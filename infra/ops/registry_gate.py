"""Ask the model registry before moving traffic: every package a model deploys must be Approved.

``rollout`` and ``promote`` call ``refusal`` first; the program asks the same of
prod's preview (``infra.specs.registry``), and both use its words. A package that
cannot be read is refused too: an unknown status is not an approval.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.ops import registry_pin
from infra.settings.catalog import ModelBase, VariantSettings
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


def copies_refusal(sagemaker: Any, model: ModelBase) -> str | None:
    """For a backend that runs copies of its packages (``registry_pin``): the first variant whose
    stack-file artifact or image is not its package's (None: all agree)."""
    for name, variant in model.variants.items():
        if variant.model_package_arn and (problem := _copy_problem(sagemaker, model, name, variant)):
            return problem
    return None


def _copy_problem(sagemaker: Any, model: ModelBase, name: str, variant: VariantSettings) -> str | None:
    """Whether the stack file's artifact and image are still the package's."""
    assert variant.model_package_arn is not None
    try:
        found = registry_pin.contents(sagemaker, variant.model_package_arn)
    except registry_pin.RegistryError as error:
        return str(error)
    if found.problem:
        return found.problem
    theirs = {"model_data": found.model_data, "image": found.image}
    ours = {"model_data": variant.model_data, "image": variant.image or model.image_uri}
    differ = [key for key in theirs if theirs[key] != ours[key]]
    if not differ:
        return None
    shown = "; ".join(f"{key} {ours[key]} in the stack file, {theirs[key]} in the package" for key in differ)
    return (
        f"{model.name}/{name} names model package {variant.model_package_arn}, but {shown}: run "
        f"modelfleet registry pin --model {model.name} --variant {name} to copy the package's"
    )
