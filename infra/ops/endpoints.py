"""A SageMaker endpoint's traffic split, read and changed with boto3.

``describe_endpoint`` says where the split stands and which endpoint configuration
is deployed; with the progress recorded in the endpoint's tags (``progress``) that
is all a rerun needs to resume. Every weight update is checked first
(non-negative, not all zero) and every wait is bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from infra.ops.clock import Clock
from infra.ops.drivers.base import CANARY, STABLE, EndpointState
from infra.ops.errors import OpsError

WAITING = frozenset({"Creating", "Updating", "SystemUpdating"})
BROKEN = frozenset({"Failed", "OutOfService", "Deleting", "RollingBack", "UpdateRollbackFailed"})


def state_from(description: Mapping[str, Any]) -> EndpointState:
    """An ``EndpointState`` from a ``describe_endpoint`` response (pure)."""
    weights, counts = {}, {}
    for variant in description.get("ProductionVariants", []):
        name = variant["VariantName"]
        weights[name] = float(variant.get("DesiredWeight", variant.get("CurrentWeight", 0.0)))
        counts[name] = int(variant.get("CurrentInstanceCount") or variant.get("DesiredInstanceCount") or 0)
    return EndpointState(
        name=description["EndpointName"],
        status=description["EndpointStatus"],
        weights=weights,
        instances=counts,
        guardrail_in_progress="PendingDeploymentSummary" in description,
        failure_reason=description.get("FailureReason"),
        arn=description.get("EndpointArn", ""),
        config_name=description.get("EndpointConfigName", ""),
    )


def weights_for(canary_percent: float) -> dict[str, float]:
    """Both variants' weights for a canary share; weights always sum to 100."""
    check_percent(canary_percent)
    return {STABLE: 100.0 - canary_percent, CANARY: float(canary_percent)}


def check_percent(canary_percent: float) -> None:
    if not 0 <= canary_percent <= 100:
        raise ValueError(f"a canary share is 0-100 % (got {canary_percent})")


def check_weights(weights: Mapping[str, float]) -> None:
    """SageMaker's rule: weights are non-negative and at least one is positive."""
    if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
        raise ValueError(f"invalid variant weights {dict(weights)}: non-negative, not all zero")


def describe(client: Any, endpoint_name: str) -> EndpointState:
    try:
        return state_from(client.describe_endpoint(EndpointName=endpoint_name))
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "Could not find endpoint" in message:
            raise OpsError(f"endpoint {endpoint_name} does not exist: deploy the stack first") from None
        raise


def wait_in_service(
    client: Any, endpoint_name: str, timeout_seconds: float, clock: Clock, poll_seconds: float = 15
) -> EndpointState:
    """The endpoint's state once ``InService``; refuse a running guardrail; give up at the timeout."""
    deadline = clock.now() + timeout_seconds
    while True:
        state = describe(client, endpoint_name)
        if state.guardrail_in_progress:
            raise OpsError(
                f"endpoint {endpoint_name} has a blue/green deployment in progress (pulumi up): "
                "wait until it finishes, then run again"
            )
        if state.status == "InService":
            return state
        if state.status in BROKEN or state.status not in WAITING:
            reason = f": {state.failure_reason}" if state.failure_reason else ""
            raise OpsError(f"endpoint {endpoint_name} is {state.status}{reason}")
        remaining = deadline - clock.now()
        if remaining <= 0:
            raise OpsError(
                f"timed out: endpoint {endpoint_name} is still {state.status} after "
                f"{timeout_seconds:.0f} s (rollout.in_service_timeout_seconds)"
            )
        clock.sleep(min(poll_seconds, remaining))


def set_canary_percent(client: Any, endpoint_name: str, canary_percent: float) -> dict[str, float]:
    """Move the split with ``UpdateEndpointWeightsAndCapacities``; capacity stays with autoscaling."""
    weights = weights_for(canary_percent)
    check_weights(weights)
    client.update_endpoint_weights_and_capacities(
        EndpointName=endpoint_name,
        DesiredWeightsAndCapacities=[{"VariantName": v, "DesiredWeight": w} for v, w in weights.items()],
    )
    return weights
