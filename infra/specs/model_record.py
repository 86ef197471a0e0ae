"""The one record of a deployed model, whichever backend serves it (pure, from the settings).

The stack exports ``models``: this record per model, plus what only a deployment
knows (an EKS load balancer's DNS name). The day-2 tools cannot read a real
stack's outputs offline, so they call the same function on the stack file: the
names they act on are the names the stack gave, by construction.
"""

from __future__ import annotations

from typing import Any

from infra.contracts import serving
from infra.settings.catalog import EksModel, ModelBase, SageMakerModel
from infra.specs import alarm_specs, component_specs, naming, sagemaker_specs

CONSOLE = "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"


def dashboard_url(region: str, name: str) -> str:
    return CONSOLE.format(region=region, name=name)


def model_record(environment: str, region: str, model: ModelBase) -> dict[str, Any]:
    """backend, team, variants with weights and sizes, alarm names, dashboard, and how to call it."""
    record: dict[str, Any] = {
        "backend": str(model.backend),  # type: ignore[attr-defined]
        "team": model.team,
        "variants": {
            name: {"weight": variant.weight, "instance_count": variant.instance_count}
            for name, variant in model.variants.items()
        },
    }
    if isinstance(model, SageMakerModel) and model.placed:
        record |= component_record(environment, region, model)
    elif isinstance(model, SageMakerModel):
        spec = sagemaker_specs.endpoint_spec(environment, region, model)  # what the component builds
        endpoint, dashboard = spec.endpoint_name, spec.dashboard_name
        record |= {
            "endpoint_name": endpoint,
            "invoke_url": f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint}"
            f"{serving.INVOKE_PATH}",
            "alarm_names": [alarm.name for alarm in spec.alarms],
            "dashboard": {"name": dashboard, "url": dashboard_url(region, dashboard)},
        }
        if spec.shadow is not None:  # not a production variant: it answers no one
            record["shadow"] = {
                "variant_name": spec.shadow.name,
                "copy_percent": spec.shadow.weight,
                "instance_count": spec.shadow.instance_count,
            }
    elif isinstance(model, EksModel):
        label = naming.name(environment, model.name)
        record |= {
            "load_balancer_name": label,
            "namespace": model.name,
            "alarm_names": [s.name for s in alarm_specs.load_balancer_alarms(environment, model, label)],
            "dashboard": {"name": "modelfleet serving (Grafana)", "url": None},
        }
    return record


def component_record(environment: str, region: str, model: SageMakerModel) -> dict[str, Any]:
    """A model placed on a shared endpoint: requests name the endpoint and its inference component."""
    spec = component_specs.component_spec(environment, model)
    endpoint = component_specs.shared_endpoint_name(environment, model.endpoint or "")
    return {
        "endpoint_name": endpoint,
        "shared_endpoint": model.endpoint,
        "inference_component": spec.component_name,
        "invoke_url": f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint}"
        f"{serving.INVOKE_PATH}",
        "copies": {"min": spec.scaling.min_copies, "max": spec.scaling.max_copies},
        "alarm_names": [alarm.name for alarm in spec.alarms],
        "dashboard": {"name": endpoint, "url": dashboard_url(region, endpoint)},
    }
