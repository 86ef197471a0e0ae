"""A placed model's inference component in the SageMaker API's own shape (pure).

``component_specs`` describes a component as the stack builds it (aws-native's
shape). ``modelfleet rollout`` talks to the API directly: it compares the live
``Specification`` (``DescribeInferenceComponent``) with the stack file's, and
sends ``UpdateInferenceComponent`` with both shaped here, so the version a
rollout deploys is the version the stack file declares, by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.specs.component_specs import ComponentSpec, api_deployment_config

# What ``modelfleet rollout`` owns of a component after create (the stack ignores changes to it).
VERSION_KEYS = ("Container", "ComputeResourceRequirements", "StartupParameters")


def specification(spec: ComponentSpec) -> dict[str, Any]:
    """The component's ``Specification``: container, reservation per copy, startup timeouts."""
    container: dict[str, Any] = {}
    if spec.container.get("image"):
        container["Image"] = spec.container["image"]
    if spec.container.get("artifact_url"):
        container["ArtifactUrl"] = spec.container["artifact_url"]
    container["Environment"] = dict(spec.container.get("environment") or {})
    requirements: dict[str, Any] = {
        "NumberOfCpuCoresRequired": spec.reservation.cpu_cores,
        "MinMemoryRequiredInMb": spec.reservation.memory_mib,
    }
    if spec.reservation.accelerators:
        requirements["NumberOfAcceleratorDevicesRequired"] = spec.reservation.accelerators
    return {
        "Container": container,
        "ComputeResourceRequirements": requirements,
        "StartupParameters": {
            "ModelDataDownloadTimeoutInSeconds": spec.startup_seconds,
            "ContainerStartupHealthCheckTimeoutInSeconds": spec.startup_seconds,
        },
    }


def rollback_alarm_names(spec: ComponentSpec) -> list[str]:
    """The alarms SageMaker watches during a rolling update, in the stack's order."""
    return [alarm.name for alarm in spec.alarms if alarm.rollback]


def deployment_config(spec: ComponentSpec) -> dict[str, Any]:
    """``DeploymentConfig``: the stack's rolling update, rolled back by the model's rollback alarms."""
    return api_deployment_config(spec.rolling_update, rollback_alarm_names(spec))


def update_request(spec: ComponentSpec) -> dict[str, Any]:
    """The whole ``UpdateInferenceComponent`` request that deploys the stack file's version."""
    return {
        "InferenceComponentName": spec.component_name,
        "Specification": specification(spec),
        "DeploymentConfig": deployment_config(spec),
    }


def live_specification(described: Mapping[str, Any]) -> dict[str, Any]:
    """A ``DescribeInferenceComponent`` ``Specification`` in the shape of ``specification``.

    Describe answers the image as ``DeployedImage.SpecifiedImage`` (what was asked for,
    before SageMaker resolved it to a digest); keys the stack never sets are left out.
    """
    container = dict(described.get("Container") or {})
    image = container.get("Image") or (container.get("DeployedImage") or {}).get("SpecifiedImage")
    shaped: dict[str, Any] = {}
    if image:
        shaped["Image"] = image
    if container.get("ArtifactUrl"):
        shaped["ArtifactUrl"] = container["ArtifactUrl"]
    shaped["Environment"] = dict(container.get("Environment") or {})
    found = described.get("ComputeResourceRequirements") or {}
    requirements = {
        key: found[key]
        for key in ("NumberOfCpuCoresRequired", "MinMemoryRequiredInMb", "NumberOfAcceleratorDevicesRequired")
        if found.get(key)
    }
    startup = described.get("StartupParameters") or {}
    return {
        "Container": shaped,
        "ComputeResourceRequirements": requirements,
        "StartupParameters": dict(startup),
    }


def differences(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The keys (``Container.Environment.X`` ...) where the live specification is not the desired one."""
    found: list[str] = []

    def walk(want: Any, have: Any, path: str) -> None:
        if isinstance(want, Mapping) and isinstance(have, Mapping):
            for key in sorted(set(want) | set(have)):
                walk(want.get(key), have.get(key), f"{path}.{key}" if path else key)
        elif want != have:  # 8 and 8.0 cores are the same reservation
            found.append(path)

    walk({k: desired.get(k) or {} for k in VERSION_KEYS}, {k: live.get(k) or {} for k in VERSION_KEYS}, "")
    return found
