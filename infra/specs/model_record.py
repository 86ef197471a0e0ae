"""The one record of a deployed model, whichever backend serves it (pure, from the settings).

The stack exports ``models``: this record per model, plus what only a deployment
knows (an EKS load balancer's DNS name). The day-2 tools cannot read a real
stack's outputs offline, so they call the same function on the stack file: the
names they act on are the names the stack gave, by construction.
"""

from __future__ import annotations

from typing import Any

from infra.contracts import instances, serving
from infra.settings.catalog import EksModel, ModelBase, SageMakerModel
from infra.specs import alarm_specs, naming

CONSOLE = "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"


def dashboard_name(environment: str, model: str) -> str:
    return naming.name(
        environment, model, max_length=naming.AWS_NAME_LIMITS["aws:cloudwatch/dashboard:Dashboard"]
    )


def dashboard_url(region: str, name: str) -> str:
    return CONSOLE.format(region=region, name=name)


def sagemaker_alarm_names(environment: str, model: SageMakerModel) -> list[str]:
    endpoint = naming.endpoint(environment, model.name)
    shape = instances.lookup(model.instance_type) if model.instance_type else None
    return [spec.name for spec in alarm_specs.serving_alarms(environment, model, endpoint, shape)]


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
    if isinstance(model, SageMakerModel):
        endpoint = naming.endpoint(environment, model.name)
        dashboard = dashboard_name(environment, model.name)
        record |= {
            "endpoint_name": endpoint,
            "invoke_url": f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint}"
            f"{serving.INVOKE_PATH}",
            "alarm_names": sagemaker_alarm_names(environment, model),
            "dashboard": {"name": dashboard, "url": dashboard_url(region, dashboard)},
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
