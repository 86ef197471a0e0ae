"""Stateful production resources cannot be deleted by a stray ``pulumi destroy``."""

from __future__ import annotations

from policies.rules._support import resource_rule, truthy


def _switched_on(switch: str):
    def check(props, _config):
        if not truthy(props.get(switch)):
            yield f"deletion protection is off ({switch})"

    return check


DELETION_PROTECTION = resource_rule(
    "deletion-protection",
    "EKS clusters, load balancers and log groups are protected against deletion",
    {
        "aws:eks/cluster:Cluster": _switched_on("deletionProtection"),
        "aws:lb/loadBalancer:LoadBalancer": _switched_on("enableDeletionProtection"),
        "aws:cloudwatch/logGroup:LogGroup": _switched_on("deletionProtectionEnabled"),
    },
)

RULES = [DELETION_PROTECTION]
