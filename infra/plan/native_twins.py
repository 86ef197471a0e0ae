"""aws-native resources a scanner knows under a pulumi-aws twin, translated so they are scanned too.

Terraform scanners read Terraform types only. A shared endpoint's configuration
is an ``aws-native:sagemaker:EndpointConfig`` (pulumi-aws's has no VPC config or
network isolation for inference-component endpoints), and its Terraform twin,
``aws_sagemaker_endpoint_configuration``, carries the settings scanners check:
the volume key, the execution role, the variants. This module rewrites the
aws-native inputs into pulumi-aws's names, so the export goes through the same
path as every pulumi-aws resource. What the twin cannot hold (``vpcConfig``,
``enableNetworkIsolation``) the policy pack checks instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from infra.plan.model import PlannedResource

ENDPOINT_CONFIG = "aws-native:sagemaker:EndpointConfig"
TWIN = {ENDPOINT_CONFIG: "aws:sagemaker/endpointConfiguration:EndpointConfiguration"}
# Variant keys both providers spell alike (CloudFormation's and pulumi-aws's camelCase names).
_SAME_VARIANT_KEYS = (
    "variantName",
    "instanceType",
    "initialInstanceCount",
    "modelName",
    "initialVariantWeight",
)


def _variant(native: dict[str, Any]) -> dict[str, Any]:
    variant = {k: native[k] for k in _SAME_VARIANT_KEYS if k in native}
    if scaling := native.get("managedInstanceScaling"):
        variant["managedInstanceScaling"] = {
            k: scaling[k] for k in ("status", "minInstanceCount", "maxInstanceCount") if k in scaling
        }
    if routing := native.get("routingConfig"):
        variant["routingConfigs"] = [{"routingStrategy": routing["routingStrategy"]}]
    return variant


def _endpoint_config(inputs: dict[str, Any]) -> dict[str, Any]:
    twin: dict[str, Any] = {
        "name": inputs.get("endpointConfigName"),
        "productionVariants": [_variant(v) for v in inputs.get("productionVariants", [])],
    }
    if "kmsKeyId" in inputs:
        twin["kmsKeyArn"] = inputs["kmsKeyId"]
    if "executionRoleArn" in inputs:
        twin["executionRoleArn"] = inputs["executionRoleArn"]
    if tags := inputs.get("tags"):
        twin["tags"] = {t["key"]: t["value"] for t in tags}
    return {k: v for k, v in twin.items() if v is not None}


def twin(resource: PlannedResource) -> PlannedResource:
    """``resource`` as its pulumi-aws twin, or itself when it has none."""
    if resource.type != ENDPOINT_CONFIG:
        return resource
    return dataclasses.replace(resource, type=TWIN[resource.type], inputs=_endpoint_config(resource.inputs))
