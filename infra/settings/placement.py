"""What a model placed on a shared endpoint may set, and whether one copy fits the endpoint's instances.

A placed model runs as an inference component: the shared endpoint owns the
instances, their scaling, routing and network, so the keys that size or shape
an endpoint of its own do not apply. SageMaker routes each request to one
component by name and splits no traffic between components, so a placed model
has no canary variant: a new version replaces the copies by a rolling update
(``component.rolling_update``, driven by ``modelfleet rollout``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.contracts import instances, runtimes
from infra.contracts.runtimes import Runtime
from infra.specs import component_fit

if TYPE_CHECKING:
    from infra.settings.catalog import SageMakerModel

Found = list[tuple[tuple[str, ...], str]]
# Keys of a model of its own endpoint, and why a placed model cannot set them.
ENDPOINT_KEYS = {
    "instance_type": "the shared endpoint's instance_type hosts every copy",
    "autoscaling": "copies scale by component.min_copies/max_copies and their targets",
    "serverless": "a shared endpoint runs instances",
    "off_hours": "a shared endpoint's components scale on traffic, down to zero if acknowledged",
    "deployment": "a new version rolls out by component.rolling_update",
    "network_isolation": "the shared endpoint sets it for all its components",
    "registry_access": "a component's container takes model_data from S3",
}


def component_problems(model: SageMakerModel, shape: instances.InstanceType | None) -> Found:
    """Every reason ``model`` cannot run as a component; ``shape`` is the shared endpoint's (if known)."""
    found: Found = []
    if model.component is None:
        found.append((("component",), "is required on a shared endpoint: what each copy reserves"))
    for key in sorted(ENDPOINT_KEYS.keys() & model.model_fields_set):
        found.append(((key,), f"does not apply on a shared endpoint: {ENDPOINT_KEYS[key]}"))
    if model.data_capture.sampling_percent > 0:
        reason = "is not offered on shared endpoints: capture is set per endpoint, not per component"
        found.append((("data_capture", "sampling_percent"), reason))
    if model.variants.canary is not None:
        reason = (
            "a shared endpoint routes each request to one component and splits no traffic: roll a new "
            "version out by changing variants.stable (a rolling update, modelfleet rollout)"
        )
        found.append((("variants", "canary"), reason))
    if model.variants.stable.model_package_arn:
        reason = "a component's container takes model_data from S3, not a model package"
        found.append((("variants", "stable", "model_package_arn"), reason))
    found += _runtime_problems(model)
    reservation = model.reservation()
    if shape is not None and reservation is not None and not found:
        found += [
            (("component", key), why) for key, why in component_fit.reservation_problems(reservation, shape)
        ]
        if reservation.accelerators:
            found += model.gpu_fit_problem(shape, ("component",))
    return found


def _runtime_problems(model: SageMakerModel) -> Found:
    """Which container serves the component: our image for runtime modelfleet, the pinned LMI for vllm."""
    found: Found = list(model._runtime_problems())
    llm = runtimes.SAGEMAKER_LLM_CONTAINERS.get(model.runtime)
    if model.runtime is Runtime.MODELFLEET:
        found += model._framework_runtime_problems()
        if (model.image is None) == (model.framework is None):
            found.append((("image",), "set exactly one of image or framework"))
        data = model.variants.stable.model_data or ""
        if data.endswith("/"):
            reason = "an inference component loads one gzip-compressed tar archive: name the model.tar.gz"
            found.append((("variants", "stable", "model_data"), reason))
    elif llm is not None:
        if model.image is not None:
            reason = (
                f"runtime {model.runtime.value} on SageMaker runs AWS's {llm.framework} container, "
                "resolved by the SDK: leave image out"
            )
            found.append((("image",), reason))
        if model.framework is not None and model.framework.name != llm.framework:
            reason = (
                f"runtime {model.runtime.value} on a shared endpoint runs {llm.framework} (it loads the "
                f"weights directory from S3 itself); got {model.framework.name}"
            )
            found.append((("framework", "name"), reason))
        accelerators = model.component.accelerators if model.component else None
        if model.vllm is not None and accelerators not in (None, model.vllm.tensor_parallel_size):
            reason = (
                f"a copy uses one GPU per tensor-parallel rank: set it to "
                f"{model.vllm.tensor_parallel_size} (vllm.tensor_parallel_size), or leave it out "
                f"(got {accelerators})"
            )
            found.append((("component", "accelerators"), reason))
    else:
        reason = f"runtime {model.runtime.value} is not offered on SageMaker yet: serve it with backend eks"
        found.append((("runtime",), reason))
    return found
