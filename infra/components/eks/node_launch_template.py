"""The launch template every node group uses: IMDSv2 only, encrypted gp3 root volume.

A hop limit of 1 keeps pods away from the instance's credentials: pods get
their own through EKS Pod Identity instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

# Bottlerocket boots from a small OS volume; images and containers live on the data volume.
DATA_DEVICE = {"al2023": "/dev/xvda", "bottlerocket": "/dev/xvdb", "standard": "/dev/xvda"}


def node_launch_template(
    name: str, ami_family: str, volume_gib: int, tags: Mapping[str, str], parent: pulumi.Resource
) -> aws.ec2.LaunchTemplate:
    return aws.ec2.LaunchTemplate(
        name,
        description="EKS nodes: IMDSv2 required, encrypted gp3 volume",
        update_default_version=True,
        metadata_options={
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": 1,
            "instance_metadata_tags": "disabled",
        },
        block_device_mappings=[
            {
                "device_name": DATA_DEVICE[ami_family],
                "ebs": {
                    "volume_size": volume_gib,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            }
        ],
        tag_specifications=[
            {"resource_type": kind, "tags": dict(tags)}
            for kind in ("instance", "volume", "network-interface")
        ],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
