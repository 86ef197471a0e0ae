"""Production SageMaker endpoints: observable, guarded, redundant and autoscaled.

These hold in prod; per-stack policy config relaxes them elsewhere.

A shared endpoint (an aws-native configuration whose variant names no model)
hosts inference components. It takes no blue/green guardrail of its own: each
component updates by a rolling update that rolls back on its alarms, so the
guardrail is checked on every component instead. Its instances are managed
instance scaling's, so its floor is ``minInstanceCount``; each component's
copies may scale in to zero only when the component says why callers can
bear a cold start (the ``scale-to-zero-acknowledged`` tag). Data capture is
set per endpoint and not offered for components, so the capture rule covers
endpoints of their own only.
"""

from __future__ import annotations

from infra.specs.capacity import canary_scales
from policies.rules._support import as_list, of_type, resource_rule, stack_rule, tags_of
from policies.rules.variants import (
    COMPONENT,
    ENDPOINTS,
    NATIVE_CONFIG,
    TARGET,
    VARIANT_DIMENSION,
    config_of,
    copy_target_of,
    copy_targets,
    hosts_components,
    provisioned_variants,
    shadow_variant_names,
)

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SCALE_TO_ZERO_TAG = "scale-to-zero-acknowledged"  # why a component's callers can bear a cold start


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


def _endpoint_guardrail(props, config):
    deployment = props.get("deploymentConfig") or {}
    rollout = deployment.get("blueGreenUpdatePolicy") or deployment.get("rollingUpdatePolicy")
    alarms = as_list((deployment.get("autoRollbackConfiguration") or {}).get("alarms"))
    if not rollout:
        yield "endpoint updates have no deployment guardrail (blue/green or rolling update policy)"
    if len(alarms) < config["min_rollback_alarms"]:
        least = config["min_rollback_alarms"]
        yield f"endpoint rolls back on {len(alarms)} alarms (at least {least} required)"


def _component_guardrail(props, config):
    deployment = props.get("deploymentConfig") or {}
    rolling = deployment.get("rollingUpdatePolicy") or {}
    alarms = as_list((deployment.get("autoRollbackConfiguration") or {}).get("alarms"))
    name = props.get("inferenceComponentName")
    if not rolling:
        yield f"inference component {name} updates without a rolling update policy"
    else:
        missing = [k for k in ("maximumBatchSize", "waitIntervalInSeconds") if rolling.get(k) is None]
        if missing:
            yield f"inference component {name}'s rolling update sets no {' or '.join(missing)}"
    least = max(1, config["min_rollback_alarms"])
    if len(alarms) < least:
        yield f"inference component {name} rolls back on {len(alarms)} alarms (at least {least} required)"


ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _variant_watched(alarm) -> str | None:
    """The VariantName an alarm's metric (or its rate's metrics) is filtered to."""
    dimensions = [alarm.props.get("dimensions") or {}]
    for query in as_list(alarm.props.get("metricQueries")):
        dimensions.append(((query.get("metric") or {}).get("dimensions")) or {})
    return next((d["VariantName"] for d in dimensions if d.get("VariantName")), None)


def _shadow_rollback_alarms(resources, endpoint, hosted):
    """A shadow answers no one: an update must not roll back on its alarms."""
    if hosted is None:  # a generated config name unknown in preview: link by the model tag
        model = tags_of(endpoint.props).get("model")
        hosted = next(
            (c for c in of_type(resources, CONFIG) if model and tags_of(c.props).get("model") == model), None
        )
    shadows = shadow_variant_names(hosted) if hosted is not None else set()
    if not shadows:
        return
    deployment = endpoint.props.get("deploymentConfig") or {}
    rollback = {
        a.get("alarmName") for a in as_list((deployment.get("autoRollbackConfiguration") or {}).get("alarms"))
    }
    for alarm in of_type(resources, ALARM):
        variant = _variant_watched(alarm)
        if alarm.props.get("name") in rollback and variant in shadows:
            yield (
                f"endpoint rolls back on alarm {alarm.props.get('name')}, which watches shadow variant "
                f"{variant}: a shadow answers no one, so its alarms notify and never roll back"
            )


def _guardrails(resources, config):
    """Endpoints of their own: blue/green or rolling, with alarms; shared ones: each component's update."""
    for endpoint in of_type(resources, *ENDPOINTS):
        hosted = config_of(resources, endpoint)
        if hosted is not None and hosted.resource_type == NATIVE_CONFIG and hosts_components(hosted):
            continue  # its components carry the guardrail
        for message in _endpoint_guardrail(endpoint.props, config):
            yield message, endpoint.urn
        for message in _shadow_rollback_alarms(resources, endpoint, hosted):
            yield message, endpoint.urn
    for component in of_type(resources, COMPONENT):
        for message in _component_guardrail(component.props, config):
            yield message, component.urn


def _min_instances(props, config):
    least = config["min_instances"]
    for variant in as_list(props.get("productionVariants")):
        if not variant.get("instanceType"):
            continue
        managed = variant.get("managedInstanceScaling") or {}
        if managed.get("status") == "ENABLED":
            floor = int(managed.get("minInstanceCount") or 0)
            if floor < least:
                yield (
                    f"variant {variant.get('variantName')}'s managed instance scaling can scale in to "
                    f"{floor} instance(s) (minInstanceCount); at least {least} spread across AZs survive "
                    f"an AZ or instance loss"
                )
        elif int(variant.get("initialInstanceCount") or 1) < least:
            yield (
                f"variant {variant.get('variantName')} starts with {variant.get('initialInstanceCount')} "
                f"instance(s); at least {least} spread across AZs survive an AZ or instance loss"
            )
    # Instances only: an inference component's copies are not instances (sagemaker-component-min-copies).
    if (
        props.get("serviceNamespace") == "sagemaker"
        and props.get("scalableDimension", VARIANT_DIMENSION) == VARIANT_DIMENSION
        and int(props.get("minCapacity") or 0) < least
    ):
        where, floor = props.get("resourceId"), props.get("minCapacity")
        yield f"autoscaling can scale {where} in to {floor} (at least {least})"


def _min_copies(resources, _config):
    """A component keeps a copy unless its tag says why callers can bear a cold start."""
    targets = copy_targets(resources)
    for component in of_type(resources, COMPONENT):
        target = copy_target_of(resources, component, targets)
        if target is None:
            continue
        floor = int(target.props.get("minCapacity") or 0)
        reason = str(tags_of(component.props).get(SCALE_TO_ZERO_TAG) or "").strip()
        if floor < 1 and not reason:
            name = component.props.get("inferenceComponentName")
            yield (
                f"inference component {name} can scale in to {floor} copies: the first request after a "
                f"quiet spell waits minutes for a cold start (set component.scale_to_zero_acknowledged "
                f"to say why callers can bear it, tag {SCALE_TO_ZERO_TAG}, or min_copies >= 1)",
                target.urn,
            )


def _autoscaled(resources, _config):
    for variant in provisioned_variants(resources):
        if variant.endpoint_name is None:
            continue  # a configuration no endpoint uses serves nothing
        if variant.shadow:
            continue  # a shadow stays at its instance count: it takes no scaling target
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
DEPLOYMENT_GUARDRAILS = stack_rule(
    "sagemaker-deployment-guardrails",
    "SageMaker endpoints and inference components update through a guardrail that rolls back on alarms",
    _guardrails,
    config={"min_rollback_alarms": {"type": "integer", "minimum": 0, "default": 1}},
)
MIN_INSTANCES = resource_rule(
    "sagemaker-variant-min-instances",
    "Every provisioned SageMaker variant runs on at least N instances, also after scale-in",
    [CONFIG, NATIVE_CONFIG, TARGET],
    _min_instances,
    config={"min_instances": {"type": "integer", "minimum": 1, "default": 2}},
)
COMPONENT_MIN_COPIES = stack_rule(
    "sagemaker-component-min-copies",
    "Every inference component keeps at least one copy, unless it acknowledges scaling to zero",
    _min_copies,
)
VARIANT_AUTOSCALING = stack_rule(
    "sagemaker-variant-autoscaling",
    "Every provisioned SageMaker variant has a scalable target and a scaling policy",
    _autoscaled,
)

RULES = [
    DATA_CAPTURE_ENABLED,
    DEPLOYMENT_GUARDRAILS,
    MIN_INSTANCES,
    COMPONENT_MIN_COPIES,
    VARIANT_AUTOSCALING,
]
