"""node_launch_template under Pulumi's mocks: IMDSv2 only, hop limit 1, an encrypted gp3 data volume.

A helper, not a component: it declares the template under the component that
calls it, so the test calls it from a small component of its own.
"""

from __future__ import annotations

import pulumi
import pytest

from infra.components.eks.node_launch_template import DATA_DEVICE, node_launch_template
from tests.components.support import TAGS, Recorded, record_component

HOLDER = "test:eks:Holder"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str, ami_family: str, volume_gib: int):
        super().__init__(HOLDER, name, None, None)
        node_launch_template(f"{name}-template", ami_family, volume_gib, TAGS, self)
        self.register_outputs({})


def build(ami_family: str = "al2023", volume_gib: int = 100) -> Recorded:
    return record_component(lambda: Holder("pool", ami_family, volume_gib))


@pytest.fixture(scope="module")
def template() -> dict:
    return build().plan.get(TEMPLATE, "pool-template").inputs


def test_the_template_is_a_child_of_the_caller():
    recorded = build()
    (template,) = recorded.plan.of_type(TEMPLATE)
    assert template.parent == recorded.component(HOLDER).urn
    assert len(recorded.plan.resources) == 2


def test_imdsv2_is_required_and_out_of_pods_reach(template):
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",  # IMDSv2 only
        "httpPutResponseHopLimit": 1,  # pods (one hop further) cannot reach the node's credentials
        "instanceMetadataTags": "disabled",
    }


def test_data_volume_is_encrypted_gp3_and_deleted_with_the_node(template):
    (mapping,) = template["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"] == {
        "volumeSize": 100,
        "volumeType": "gp3",
        "encrypted": "true",
        "deleteOnTermination": "true",
    }


@pytest.mark.parametrize(
    ("family", "device"), [("al2023", "/dev/xvda"), ("standard", "/dev/xvda"), ("bottlerocket", "/dev/xvdb")]
)
def test_the_volume_is_the_one_images_live_on(family, device):
    (mapping,) = build(family, 80).plan.get(TEMPLATE, "pool-template").inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == device == DATA_DEVICE[family]
    assert mapping["ebs"]["volumeSize"] == 80


def test_new_versions_become_the_default_and_everything_is_tagged(template):
    assert template["updateDefaultVersion"] is True
    assert template["tags"] == TAGS
    assert {s["resourceType"]: s["tags"] for s in template["tagSpecifications"]} == {
        "instance": TAGS,
        "volume": TAGS,
        "network-interface": TAGS,
    }


def test_nothing_managed_node_groups_refuse_in_a_launch_template(template):
    # EKS rejects a node group whose template sets these; they belong to the node group.
    forbidden = {"iamInstanceProfile", "instanceType", "imageId", "networkInterfaces", "userData"}
    assert forbidden & set(template) == set()
