"""Public registries mirrored into the account's ECR, and the nodes' right to fill the mirror.

One ECR pull-through cache rule per ``modelfleet:image_mirrors`` entry: the first
pull of ``<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>`` fetches
the upstream image into a repository ECR creates, later pulls are ECR's. Nodes pull
with their role; besides the usual read rights (the managed
``AmazonEC2ContainerRegistryPullOnly``), that first pull needs
``ecr:BatchImportUpstreamImage`` and ``ecr:CreateRepository`` (ECR user guide:
IAM permissions for pull through cache), granted here on the mirrors' prefixes only.

The repositories ECR creates use its default AES-256 encryption: encrypting them with
a KMS key takes a repository creation template with a custom role, not declared yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Mirror:
    """One pull-through cache rule."""

    prefix: str  # the ECR repository prefix the mirrored images appear under
    upstream_url: str  # the public registry's host, e.g. registry-1.docker.io
    credential_arn: (
        str | None
    )  # Secrets Manager secret (ecr-pullthroughcache/...) for registries that need one


@dataclass
class ImageMirrorsArgs:
    """The mirrors to declare and the node role that fills them."""

    mirrors: Sequence[Mirror]  # one rule each
    region: str  # the stack's region: the mirrored repositories' ARNs
    partition: str  # aws, aws-cn or aws-us-gov: the mirrored repositories' ARNs
    account_id: pulumi.Input[str]  # the registry the mirrors live in
    node_role_name: pulumi.Input[str]  # the EKS node role, which pulls (and so fills) the mirrors


def import_policy(partition: str, region: str, account_id: str, prefixes: Sequence[str]) -> str:
    """The node role's right to create and fill the mirrors' repositories, and no others."""
    repositories = [f"arn:{partition}:ecr:{region}:{account_id}:repository/{p}/*" for p in prefixes]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "FillPullThroughCache",
                    "Effect": "Allow",
                    "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                    "Resource": repositories,
                }
            ],
        }
    )


class ImageMirrors(pulumi.ComponentResource):
    """Lets the cluster run public runtime images from the account's own ECR, pinned by digest."""

    rules: dict[str, aws.ecr.PullThroughCacheRule]

    def __init__(self, name: str, args: ImageMirrorsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:ImageMirrors", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rules = {
            mirror.prefix: aws.ecr.PullThroughCacheRule(
                f"{name}-{mirror.prefix}",
                ecr_repository_prefix=mirror.prefix,
                upstream_registry_url=mirror.upstream_url,
                credential_arn=mirror.credential_arn,
                opts=child,
            )
            for mirror in args.mirrors
        }
        prefixes = [m.prefix for m in args.mirrors]
        aws.iam.RolePolicy(
            f"{name}-import",
            role=args.node_role_name,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: import_policy(args.partition, args.region, account, prefixes)
            ),
            opts=child,
        )
        registered: Mapping[str, pulumi.Output[str]] = {p: r.registry_id for p, r in self.rules.items()}
        self.register_outputs({"registry_ids": registered})
