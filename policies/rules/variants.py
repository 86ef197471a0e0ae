"""How SageMaker resources refer to each other across a stack.

An endpoint names its configuration; an autoscaling target names the endpoint and
variant in its ``resourceId``. A configuration's generated name may be unknown
in a real preview, so the ``model`` tag is the fallback link.

A configuration's shadow variant (``shadowProductionVariants``) runs instances like a
production variant, so it is priced and counted against quotas like one; it takes no
scaling target and answers no one, so rules about serving traffic skip it.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.rules._support import as_list, of_type, tags_of

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINTS = ("aws-native:sagemaker:Endpoint", "aws:sagemaker/endpoint:Endpoint")
TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@dataclass(frozen=True)
class Variant:
    """One provisioned production variant, with what the stack says about its scaling."""

    config: object  # the EndpointConfiguration PolicyResource
    endpoint_name: str | None
    name: str
    instance_type: str
    initial_count: int
    weight: float
    target: object | None  # the appautoscaling Target, if any
    has_policy: bool
    shadow: bool = False  # a shadow variant: a copy of production's traffic, answering no one

    @property
    def resource_id(self) -> str:
        return f"endpoint/{self.endpoint_name}/variant/{self.name}"

    @property
    def max_count(self) -> int:
        return (
            int(self.target.props.get("maxCapacity", self.initial_count))
            if self.target
            else self.initial_count
        )


def _endpoint_name(resources, config) -> str | None:
    endpoints = of_type(resources, *ENDPOINTS)
    config_name = config.props.get("name")
    model = tags_of(config.props).get("model")
    for endpoint in endpoints:
        if config_name and endpoint.props.get("endpointConfigName") == config_name:
            return endpoint.props.get("endpointName") or endpoint.props.get("name")
    for endpoint in endpoints:
        if model and tags_of(endpoint.props).get("model") == model:
            return endpoint.props.get("endpointName") or endpoint.props.get("name")
    return None


def provisioned_variants(resources) -> list[Variant]:
    """Every instance-backed variant in the stack (serverless ones have no instance type)."""
    targets = {
        t.props.get("resourceId"): t
        for t in of_type(resources, TARGET)
        if t.props.get("scalableDimension") == VARIANT_DIMENSION
    }
    scaled = {p.props.get("resourceId") for p in of_type(resources, SCALING_POLICY)}
    found = []
    for config in of_type(resources, CONFIG):
        endpoint = _endpoint_name(resources, config)
        production = [(v, False) for v in as_list(config.props.get("productionVariants"))]
        shadows = [(v, True) for v in as_list(config.props.get("shadowProductionVariants"))]
        for variant, shadow in production + shadows:
            if not variant.get("instanceType"):
                continue
            resource_id = f"endpoint/{endpoint}/variant/{variant.get('variantName')}"
            found.append(
                Variant(
                    config=config,
                    endpoint_name=endpoint,
                    name=variant.get("variantName", "?"),
                    instance_type=variant["instanceType"],
                    initial_count=int(variant.get("initialInstanceCount") or 1),
                    weight=float(variant.get("initialVariantWeight", 1)),
                    target=targets.get(resource_id),
                    has_policy=resource_id in scaled,
                    shadow=shadow,
                )
            )
    return found


# Shared endpoints: one aws-native configuration whose variant names no model, and the inference
# components placed on it, each with its own copy-scaling target.
NATIVE_CONFIG = "aws-native:sagemaker:EndpointConfig"
COMPONENT = "aws-native:sagemaker:InferenceComponent"
COPY_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
COMPONENT_PREFIX = "inference-component/"


def shadow_variant_names(config) -> set[str]:
    """The VariantNames of a configuration's shadow variants."""
    return {str(v.get("variantName")) for v in as_list(config.props.get("shadowProductionVariants"))}


def hosts_components(config) -> bool:
    """Whether an aws-native configuration hosts inference components: an instance variant with no model."""
    variants = as_list(config.props.get("productionVariants"))
    return any(v.get("instanceType") and not v.get("modelName") for v in variants)


def config_of(resources, endpoint):
    """The configuration (either provider's) an endpoint names, if the stack holds it."""
    name = endpoint.props.get("endpointConfigName")
    if not name:
        return None
    for config in of_type(resources, NATIVE_CONFIG, CONFIG):
        if name in (config.props.get("endpointConfigName"), config.props.get("name")):
            return config
    return None


def copy_targets(resources) -> dict[str, object]:
    """Inference component name -> its copy-scaling target."""
    return {
        str(t.props.get("resourceId")).removeprefix(COMPONENT_PREFIX): t
        for t in of_type(resources, TARGET)
        if t.props.get("scalableDimension") == COPY_DIMENSION
    }


def copy_target_of(resources, component, targets: dict[str, object] | None = None):
    """A component's copy-scaling target: by its name, else by the ``model`` tag both carry."""
    targets = copy_targets(resources) if targets is None else targets
    found = targets.get(component.props.get("inferenceComponentName"))
    model = tags_of(component.props).get("model")
    if found is None and model:
        found = next((t for t in targets.values() if tags_of(t.props).get("model") == model), None)
    return found
