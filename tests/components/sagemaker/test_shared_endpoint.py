"""SharedEndpoint and its InferenceComponent children under Pulumi's mocks, built from plain specs."""

from __future__ import annotations

import json

import pulumi_aws_native as aws_native
import pytest

from infra.components.sagemaker.model_network import HttpsOnlyNetwork
from infra.components.sagemaker.shared_endpoint import SharedEndpoint, SharedEndpointArgs
from infra.specs import component_specs
from tests.components.support import ACCOUNT, REGION, TAGS, Recorded, known, record_component
from tests.conftest import stack_settings

COMPONENT = "modelfleet:sagemaker:SharedEndpoint"
CHILD = "modelfleet:sagemaker:InferenceComponent"
IC = "aws-native:sagemaker:InferenceComponent"
CONFIG = "aws-native:sagemaker:EndpointConfig"
ENDPOINT = "aws-native:sagemaker:Endpoint"
POLICY_DOC = "aws:iam/rolePolicy:RolePolicy"


def build(stack: str) -> Recorded:
    settings = stack_settings(stack)
    (shared,) = settings.shared_endpoints
    spec = component_specs.shared_endpoint_spec(
        stack, settings.region, settings.owner, shared, settings.placed_on(shared.name)
    )
    return record_component(
        lambda: SharedEndpoint(
            "shared",
            SharedEndpointArgs(
                spec=spec,
                environment=stack,
                region=REGION,
                account_id=known(ACCOUNT),
                partition="aws",
                network=HttpsOnlyNetwork(known("vpc-1"), "10.0.0.0/16", [known("subnet-a")], known("pl-s3")),
                vpc_arn=known(f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-1"),
                alerts_topic_arn=known(f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"),
                native_provider=aws_native.Provider("native", region=REGION),
                tags=TAGS,
            ),
        )
    )


@pytest.fixture(scope="module")
def prod() -> Recorded:
    return build("prod")


def test_every_component_is_a_child_and_waits_for_the_endpoint(prod):
    root = prod.component(COMPONENT)
    children = [r for r in prod.plan.children(root.urn) if r.type == CHILD]
    assert len(children) == 2
    (endpoint,) = prod.plan.of_type(ENDPOINT)
    for ic in prod.plan.of_type(IC):
        assert endpoint.urn in ic.depends_on  # the endpoint's name is an Output of the endpoint
        assert prod.provider_of(ic) is not None  # aws-native, pinned to the stack's region


def test_the_config_is_named_by_its_content_and_the_endpoint_uses_it(prod):
    (config,) = prod.plan.of_type(CONFIG)
    (endpoint,) = prod.plan.of_type(ENDPOINT)
    name = config.inputs["endpointConfigName"]
    assert name.startswith("modelfleet-prod-shared-gpu-shared-") and len(name) <= 63
    assert endpoint.inputs["endpointConfigName"] == name
    assert endpoint.inputs["retainAllVariantProperties"] is True


def test_the_role_reads_the_weights_directory_and_lists_only_it(prod):
    (policy,) = prod.plan.of_type(POLICY_DOC)
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    reads = statements["ReadArtifacts"]["Resource"]
    assert "arn:aws:s3:::acme-ml-artifacts-prod/support-assistant/qwen2.5-7b-instruct/2026-11-20/*" in reads
    assert "arn:aws:s3:::acme-ml-artifacts-prod/ticket-router/v7/*" in reads
    listing = statements["ListWeights0"]
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Resource"] == ["arn:aws:s3:::acme-ml-artifacts-prod"]
    prefixes = listing["Condition"]["StringLike"]["s3:prefix"]
    assert prefixes == [
        "support-assistant/qwen2.5-7b-instruct/2026-11-20/",
        "support-assistant/qwen2.5-7b-instruct/2026-11-20/*",
    ]
    pulls = statements["PullImages"]["Resource"]
    assert any(arn.endswith(":repository/djl-inference") for arn in pulls)  # AWS's LMI image
    assert any(arn.endswith(":repository/modelfleet-serving") for arn in pulls)


def test_components_are_tagged_with_their_team_and_model(prod):
    tags = {ic.inputs["inferenceComponentName"]: ic.tags for ic in prod.plan.of_type(IC)}
    assert tags["modelfleet-prod-ticket-router"]["model"] == "ticket-router"
    assert all(t["team"] == "customer-experience" for t in tags.values())


def test_an_endpoint_of_classic_models_only_keeps_network_isolation():
    settings = stack_settings("prod")
    (shared,) = settings.shared_endpoints
    router = [m for m in settings.placed_on(shared.name) if m.name == "ticket-router"]
    spec = component_specs.shared_endpoint_spec("prod", REGION, "ml-platform", shared, router)
    assert spec.network_isolation is True and spec.weight_prefixes == ()


def test_the_shared_instances_have_alarms_of_their_own(prod):
    fleet = [
        a for a in prod.plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["name"].startswith("modelfleet-prod-shared-gpu-shared-fleet-")
    ]  # fmt: skip
    assert {a.inputs["metricName"] for a in fleet} == {"CPUUtilization", "DiskUtilization"}
    for alarm in fleet:
        assert alarm.inputs["namespace"] == "/aws/sagemaker/Endpoints"
        assert alarm.inputs["dimensions"] == {
            "EndpointName": "modelfleet-prod-shared-gpu-shared",
            "VariantName": "AllTraffic",
        }
    cpu = next(a for a in fleet if a.inputs["metricName"] == "CPUUtilization")
    assert cpu.inputs["threshold"] == 80 * 48  # summed over the instance's vCPUs
