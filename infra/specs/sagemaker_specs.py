"""What a SageMaker endpoint is made of, as plain data (no Pulumi; tested without mocks).

The blue/green guardrail in aws-native's shape, which properties an update keeps,
and the artifact and image ARNs a model's execution role may read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.settings.catalog import DeploymentSettings, ModelSettings
from infra.specs import iam, images

# Autoscaling owns instance counts; weights and capture settings come from the stack.
EXCLUDED_FROM_RETENTION = ("DesiredWeight", "DataCaptureConfig")
CAPTURE_CONTENT_TYPES = {"json_content_types": ["application/json"], "csv_content_types": ["text/csv"]}


def deployment_config(deployment: DeploymentSettings, rollback_alarms: Sequence[Any]) -> dict[str, Any]:
    """The blue/green guardrail in aws-native's shape (pure apart from alarm name Outputs)."""
    routing: dict[str, Any] = {
        "type": deployment.strategy.upper(),
        "wait_interval_in_seconds": deployment.wait_seconds,
    }
    step = {"type": "CAPACITY_PERCENT", "value": deployment.step_percent}
    if deployment.strategy == "canary":
        routing["canary_size"] = step
    elif deployment.strategy == "linear":
        routing["linear_step_size"] = step
    return {
        "blue_green_update_policy": {
            "traffic_routing_configuration": routing,
            "termination_wait_in_seconds": deployment.termination_wait_seconds,
            "maximum_execution_timeout_in_seconds": deployment.max_execution_timeout_seconds,
        },
        "auto_rollback_configuration": {"alarms": [{"alarm_name": name} for name in rollback_alarms]},
    }


def repository_arns(model: ModelSettings, partition: str) -> list[str]:
    uris = [model.image_uri, *(v.image for _, v in model.variants.items())]
    if model.registry_access:
        uris.append(model.registry_access.image_repository)
    parsed = [images.parse_ecr(uri) for uri in uris if uri]
    return sorted({image.repository_arn(partition) for image in parsed if image})


def artifact_arns(model: ModelSettings, partition: str) -> list[str]:
    uris = [v.model_data for _, v in model.variants.items() if v.model_data]
    if model.registry_access:
        uris.append(model.registry_access.artifact_s3_prefix.rstrip("/") + "/")
    return sorted({iam.s3_object_arn(uri, partition) for uri in uris})
