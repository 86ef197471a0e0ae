"""What the model registry holds for a variant, and the stack-file edit that pins it.

A catalog variant names a version (``model_package_arn``) and may follow a group
(``model_package_group``). ``modelfleet registry pin`` writes the group's latest
Approved version into the stack file, so every plan and deploy names exact bytes and
a PR shows which version changes. An ``eks`` model also gets the version's artifact
and image copied beside it: its pods load them directly, and the program cannot read
a package's containers (aws-native's ``getModelPackage`` returns no
``InferenceSpecification``). ``rollout`` and ``promote`` compare those copies with the
registry again (``registry_gate``), so a stack file that drifted from its package is
refused.

Everything here takes a boto3 SageMaker client; nothing reads the settings' classes,
since a variant that follows a group but pins nothing yet does not validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from infra.contracts import model_packages
from infra.specs import images


class RegistryError(Exception):
    """The registry cannot give what the stack file needs; the message says what and why."""


@dataclass(frozen=True)
class PackageContents:
    """What one package version deploys, as the registry describes it."""

    arn: str  # the versioned package ARN
    status: str | None  # its ModelApprovalStatus
    image: str | None  # its container image, by digest (None: the registry gives no digest)
    model_data: str | None  # its artifact's S3 URI (ModelDataUrl)
    problem: str | None = None  # why an eks model cannot run it as described


def latest_approved(sagemaker: Any, group: str) -> str:
    """The highest Approved version of ``group``; ``RegistryError`` when it has none."""
    arns: list[str] = []
    try:
        pages = sagemaker.get_paginator("list_model_packages").paginate(
            ModelPackageGroupName=group, ModelApprovalStatus=model_packages.APPROVED
        )
        for page in pages:
            arns += [summary["ModelPackageArn"] for summary in page.get("ModelPackageSummaryList", [])]
    except ClientError as error:
        raise RegistryError(f"cannot list model package group {group}: {_message(error)}") from None
    versioned = [arn for arn in arns if model_packages.package_version(arn) is not None]
    if not versioned:
        raise RegistryError(
            f"model package group {group} has no {model_packages.APPROVED} version: approve one first "
            "(UpdateModelPackage ModelApprovalStatus=Approved)"
        )
    return max(versioned, key=lambda arn: model_packages.package_version(arn) or 0)


def contents(sagemaker: Any, arn: str) -> PackageContents:
    """The version's status, image by digest and artifact; ``RegistryError`` when it cannot be read."""
    try:
        described = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        raise RegistryError(f"cannot read model package {arn}: {_message(error)}") from None
    containers = (described.get("InferenceSpecification") or {}).get("Containers") or []
    status = described.get("ModelApprovalStatus")
    if len(containers) != 1:
        why = f"has {len(containers)} containers; an eks model runs exactly one"
        return PackageContents(arn, status, None, None, f"model package {arn} {why}")
    container = containers[0]
    image = pinned_image(container.get("Image", ""), container.get("ImageDigest"))
    model_data = container.get("ModelDataUrl")
    problem = None
    if image is None:
        problem = (
            f"model package {arn}'s image {container.get('Image')} has no digest (Image@sha256 or "
            "ImageDigest): register the version with its image's digest"
        )
    elif not model_data:
        problem = f"model package {arn} has no ModelDataUrl: an eks model loads its artifact from S3"
    return PackageContents(arn, status, image, model_data, problem)


def pinned_image(image: str, digest: str | None) -> str | None:
    """The image by digest: as registered when it carries one, else its repository at ``digest``."""
    parsed = images.parse_ecr(image)
    if parsed is not None and parsed.digest is not None:
        return image
    if digest and digest.startswith("sha256:"):
        repository = image.split("@", 1)[0]
        if parsed is not None and parsed.tag is not None:
            repository = repository.rsplit(":", 1)[0]
        return f"{repository}@{digest}"
    return None


@dataclass(frozen=True)
class PinEdit:
    """One variant's new values: which keys of its mapping change, and to what (None: removed)."""

    variant: str
    version: str  # the package version it now names
    changes: Mapping[str, str | None]


def pin_edit(sagemaker: Any, entry: Mapping[str, Any], variant: str, copies: bool) -> PinEdit:
    """The edit that pins ``variant`` of the raw catalog ``entry`` to its group's latest Approved
    version; with ``copies`` (a backend that runs the stack file's copies, such as eks), also the
    version's artifact and image, refreshed even when the version stays."""
    settings = (entry.get("variants") or {}).get(variant)
    if not isinstance(settings, Mapping):
        raise RegistryError(f"model '{entry.get('name')}' has no variant '{variant}'")
    group, named = settings.get("model_package_group"), settings.get("model_package_arn")
    if group:
        version = latest_approved(sagemaker, str(group))
    elif named:
        version = str(named)
    else:
        raise RegistryError(
            f"variant '{variant}' of '{entry.get('name')}' names no model_package_group or "
            "model_package_arn: nothing to pin"
        )
    changes: dict[str, str | None] = {}
    if named != version:
        changes["model_package_arn"] = version
    if copies:
        found = contents(sagemaker, version)
        if found.problem:
            raise RegistryError(found.problem)
        assert found.image is not None and found.model_data is not None
        if settings.get("model_data") != found.model_data:
            changes["model_data"] = found.model_data
        # The variant's own image only where the package's differs from the model's.
        image = None if found.image == entry.get("image") else found.image
        if settings.get("image") != image:
            changes["image"] = image
    return PinEdit(variant, version, changes)


def _message(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'error')}: {details.get('Message', '')}".rstrip(": ")
