"""A model package group per team in the model registry, which only that team's roles publish to and approve.

Versions a team registers there are what a catalog variant's ``model_package_arn``
names; prod deploys one only once it is Approved (``infra.specs.registry``). The
group's resource policy admits the team's roles (``modelfleet:teams``) on the
group and its versions, and nothing else; other principals in the account still
need identity policies of their own to touch it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.specs import iam, naming


@dataclass
class TeamModelRegistryArgs:
    """Which teams get a group, and who each team is in IAM."""

    environment: str  # names the groups modelfleet-<env>-<team>
    teams: Mapping[str, Sequence[str]]  # team -> its role ARNs (modelfleet:teams)
    tags: Mapping[str, str]  # the stack's tags; each group adds its team


class TeamModelRegistry(pulumi.ComponentResource):
    """One model package group per team, each with a resource policy naming that team's roles."""

    groups: dict[str, aws.sagemaker.ModelPackageGroup]

    def __init__(self, name: str, args: TeamModelRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:sagemaker:TeamModelRegistry", name, None, opts)
        self.groups = {}
        for team, roles in sorted(args.teams.items()):
            group = aws.sagemaker.ModelPackageGroup(
                f"{name}-{team}",
                model_package_group_name=naming.name(args.environment, team),
                model_package_group_description=f"Model versions of team {team}; prod deploys Approved ones",
                tags={**args.tags, "team": team},
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.sagemaker.ModelPackageGroupPolicy(
                f"{name}-{team}-policy",
                model_package_group_name=group.model_package_group_name,
                resource_policy=group.arn.apply(
                    lambda arn, roles=tuple(roles): json.dumps(iam.model_package_group_policy(arn, roles))
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.groups[team] = group
        self.register_outputs({"groups": {team: group.arn for team, group in self.groups.items()}})
