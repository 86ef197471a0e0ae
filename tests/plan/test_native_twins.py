"""A shared endpoint's aws-native configuration, exported to scanners as its Terraform twin."""

from __future__ import annotations

from infra.plan import native_twins
from infra.plan.tfnames import tf_type, tf_values


def test_the_shared_endpoint_config_becomes_an_endpoint_configuration_scanners_know(shipped_plans):
    (native,) = shipped_plans["prod"].of_type(native_twins.ENDPOINT_CONFIG)
    twin = native_twins.twin(native)
    assert tf_type(twin.type) == "aws_sagemaker_endpoint_configuration"
    values = tf_values(twin.type, twin.inputs)  # raises on a name pulumi-aws does not declare
    assert values["name"] == native.inputs["endpointConfigName"]
    assert values["execution_role_arn"] == native.inputs["executionRoleArn"]
    (variant,) = values["production_variants"]
    assert variant["instance_type"] == "ml.g5.12xlarge"
    assert variant["managed_instance_scaling"] == [
        {"status": "ENABLED", "min_instance_count": 2, "max_instance_count": 4}
    ]
    assert variant["routing_config"] == [{"routing_strategy": "LEAST_OUTSTANDING_REQUESTS"}]
    assert "kms_key_arn" not in values  # instance store: checkov's CKV_AWS_98 is suppressed with the reason
    assert values["tags"]["shared-endpoint"] == "gpu-shared"


def test_other_resources_are_their_own_twin(shipped_plans):
    resource = shipped_plans["prod"].of_type("aws-native:sagemaker:Endpoint")[0]
    assert native_twins.twin(resource) is resource
