"""IAM and KMS policy documents as plain dicts (pure; tested without mocks).

Documents are built here, not inline in components, so that tests and the policy
pack can read exactly what is granted. Actions are always listed one by one:
no ``*`` or ``service:*`` action ever reaches a principal that touches data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

VERSION = "2012-10-17"

# What a service needs to use a customer-managed key for envelope encryption.
KMS_SERVICE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


def document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [dict(s) for s in statements]}


def allow(
    actions: Sequence[str],
    resources: Sequence[str],
    sid: str | None = None,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if sid:
        statement["Sid"] = sid
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def service_trust(service: str, account_id: str, source_arn: str | None = None) -> dict[str, Any]:
    """Trust policy for an AWS service, pinned to this account (confused-deputy guard)."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }
    )


def kms_key_policy(
    account_id: str,
    partition: str,
    service: str | None = None,
    service_condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Key policy: the account administers the key through IAM; one service may use it.

    The account-root statement is AWS's default key policy. It grants nothing by
    itself: it lets IAM policies in this account decide, and without it a key can
    become unmanageable.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if service:
        statement = allow(
            KMS_SERVICE_ACTIONS, ["*"], sid="ServiceUsesKey", condition=service_condition
        )
        statements.append({**statement, "Principal": {"Service": service}})
    return document(*statements)
