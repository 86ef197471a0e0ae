"""Least privilege: no IAM policy allows every action of a service, or of all of AWS."""

from __future__ import annotations

from fnmatch import fnmatchcase

from policies.rules._support import as_list, resource_rule, statements

POLICY_TYPES = (
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)


def _documents(props):
    if "policy" in props:
        yield props["policy"]
    for inline in as_list(props.get("inlinePolicies")):
        yield inline.get("policy")


def _wildcards(props, config):
    allowed = config["allowed_actions"]
    for doc in _documents(props):
        for statement in statements(doc):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                yield "an Allow statement uses NotAction, which grants everything not listed"
            for action in as_list(statement.get("Action")):
                broad = action == "*" or str(action).endswith(":*")
                if broad and not any(fnmatchcase(action, pattern) for pattern in allowed):
                    yield f"allows every action of {action!r}; list the actions the workload needs"


IAM_NO_WILDCARD_ACTIONS = resource_rule(
    "iam-no-wildcard-actions",
    "IAM policies list actions instead of granting '*' or 'service:*'",
    POLICY_TYPES,
    _wildcards,
    config={
        "allowed_actions": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "wildcard actions accepted anyway, each with a reason in the config's review",
        }
    },
)

RULES = [IAM_NO_WILDCARD_ACTIONS]
