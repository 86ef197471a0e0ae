"""SageMaker Model Registry's names: versioned package ARNs, group names and approval statuses.

One owner for the patterns the catalog validates, ``modelfleet registry`` writes and
the registry gate reads. From SageMaker's API reference: a versioned package's ARN
is ``arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>``,
and ``ModelPackageGroupName`` matches ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``.
"""

from __future__ import annotations

import re

APPROVED = "Approved"  # ModelApprovalStatus: Approved | Rejected | PendingManualApproval
GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
VERSIONED_ARN = re.compile(
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/(?P<group>[A-Za-z0-9-]{1,63})/(?P<version>\d+)"
)


def package_group(arn: str) -> str | None:
    """The group a versioned package ARN belongs to (None: not a versioned package ARN)."""
    found = VERSIONED_ARN.fullmatch(arn)
    return found["group"] if found else None


def package_version(arn: str) -> int | None:
    """The version number in a versioned package ARN (None: not one)."""
    found = VERSIONED_ARN.fullmatch(arn)
    return int(found["version"]) if found else None
