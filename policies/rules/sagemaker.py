"""Production SageMaker endpoints: observable, guarded, redundant and autoscaled.

These hold in prod; per-stack policy config relaxes them elsewhere.
"""

from __future__ import annotations

from infra.specs.capacity import canary_scales
from policies.rules._support import as_list, resource_rule, stack_rule
from policies.rules.variants import ENDPOINTS, TARGET, provisioned_variants

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def _data_capture_on(props, config):
    if not any(v.get("instanceType") for v in as_list(props.get("productionVariants"))):
        return  # serverless endpoints cannot capture data
    capture = props.get("dataCaptureConfig") or {}
    if not capture or capture.get("enableCapture") is False:
        yield "data capture is off: requests and predictions are not recorded for monitoring"
    elif int(capture.get("initialSamplingPercentage") or 0) < config["min_sampling_percent"]:
        yield (
            f"data capture samples {capture.get('initialSamplingPercentage')} % of requests "
            f"(at least {config['min_sampling_percent']} % required)"
        )


def _guardrails(props, config):
    deployment = props.get("deploymentConfig") or {}
    rollout = deployment.get("blueGreenUpdatePolicy") or deployment.get("rollingUpdatePolicy")
    alarms = as_list((deployment.get("autoRollbackConfiguration") or {}).get("alarms"))
    if not rollout:
        yield "endpoint updates have no deployment guardrail (blue/green or rolling update policy)"
    if len(alarms) < config["min_rollback_alarms"]:
        least = config["min_rollback_alarms"]
        yield f"endpoint rolls back on {len(alarms)} alarms (at least {least} required)"


def _min_instances(props, config):
    least = config["min_instances"]
    for variant in as_list(props.get("productionVariants")):
        if variant.get("instanceType") and int(variant.get("initialInstanceCount") or 1) < least:
            yield (
                f"variant {variant.get('variantName')} starts with {variant.get('initialInstanceCount')} "
                f"instance(s); at least {least} spread across AZs survive an AZ or instance loss"
            )
    if props.get("serviceNamespace") == "sagemaker" and int(props.get("minCapacity") or 0) < least:
        where, floor = props.get("resourceId"), props.get("minCapacity")
        yield f"autoscaling can scale {where} in to {floor} (at least {least})"


def _autoscaled(resources, _config):
    for variant in provisioned_variants(resources):
        if variant.endpoint_name is None:
            continue  # a configuration no endpoint uses serves nothing
        if not canary_scales(variant.weight):
            continue  # draining: no scaling target, so that a later `pulumi up` can remove it
        if variant.target is None or not variant.has_policy:
            missing = "scalable target" if variant.target is None else "scaling policy"
            yield f"variant {variant.resource_id} has no {missing}", variant.config.urn


DATA_CAPTURE_ENABLED = resource_rule(
    "sagemaker-data-capture-enabled",
    "Provisioned SageMaker endpoints capture a sample of requests and predictions",
    [CONFIG],
    _data_capture_on,
    config={"min_sampling_percent": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1}},
)
DEPLOYMENT_GUARDRAILS = resource_rule(
    "sagemaker-deployment-guardrails",
    "SageMaker endpoints update through a guardrail that rolls back on alarms",
    ENDPOINTS,
    _guardrails,
    config={"min_rollback_alarms": {"type": "integer", "minimum": 0, "default": 1}},
)
MIN_INSTANCES = resource_rule(
    "sagemaker-variant-min-instances",
    "Every provisioned SageMaker variant runs on at least N instances, also after scale-in",
    [CONFIG, TARGET],
    _min_instances,
    config={"min_instances": {"type": "integer", "minimum": 1, "default": 2}},
)
VARIANT_AUTOSCALING = stack_rule(
    "sagemaker-variant-autoscaling",
    "Every provisioned SageMaker variant has a scalable target and a scaling policy",
    _autoscaled,
)

RULES = [DATA_CAPTURE_ENABLED, DEPLOYMENT_GUARDRAILS, MIN_INSTANCES, VARIANT_AUTOSCALING]
