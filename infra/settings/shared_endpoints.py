"""Shared SageMaker endpoints (``modelfleet:shared_endpoints``) and the models placed on them.

A shared endpoint is one fleet of instances that hosts several models as
inference components. Each placed model (``endpoint: <name>`` plus a
``component:`` block) reserves accelerators, vCPUs and memory per copy, and
scales its own copies, down to zero when acknowledged. SageMaker's managed
instance scaling then adds and removes instances for the copies.

Limits are SageMaker's own (botocore's sagemaker model and the
``AWS::SageMaker::InferenceComponent`` schema): a copy reserves at least 0.25
vCPU and 128 MB; a rolling update waits 0-3600 s between batches and runs
600-28800 s at most; managed instance scaling may go down to 0 instances.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from infra.contracts import instances
from infra.settings.types import Strict, TagValue

MAX_COPIES = 100  # most copies one component may scale to (our bound, like MAX_INSTANCES)
MAX_SHARED_INSTANCES = 100  # most instances a shared endpoint's managed scaling may reach
# SageMaker's routing strategies for a production variant (botocore enum RoutingStrategy).
ROUTING = {
    "least_outstanding_requests": "LEAST_OUTSTANDING_REQUESTS",
    "random": "RANDOM",
    "prefix_aware": "PREFIX_AWARE",
    "kv_aware": "KV_AWARE",
}


def _shared_name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", value):
        raise PydanticCustomError(
            "name",
            "must be 3-24 lowercase letters, digits or '-', starting with a letter (got '{got}')",
            {"got": value},
        )
    return value


def _hosting_instance(value: str) -> str:
    if instances.lookup(value) is None:
        raise PydanticCustomError(
            "instance", "'{got}' {why}", {"got": value, "why": instances.explain_unknown(value)}
        )
    return value


class SharedEndpointSettings(Strict):
    """One endpoint whose instances several models share as inference components."""

    name: Annotated[str, AfterValidator(_shared_name)] = Field(
        description="what models name in `endpoint:`; the endpoint is modelfleet-<env>-shared-<name>"
    )
    team: TagValue | None = Field(None, description="owning team, tagged on it; default: modelfleet:owner")
    instance_type: Annotated[str, AfterValidator(_hosting_instance)] = Field(
        description="every instance of the endpoint, e.g. ml.g5.12xlarge"
    )
    min_instances: int = Field(
        1, ge=0, le=MAX_SHARED_INSTANCES, description="managed instance scaling's floor; 0 scales to zero"
    )
    max_instances: int = Field(
        ge=1, le=MAX_SHARED_INSTANCES, description="managed instance scaling's ceiling"
    )
    initial_instances: int | None = Field(
        None, ge=1, le=MAX_SHARED_INSTANCES, description="instances at creation (SageMaker: at least 1)"
    )
    routing: Literal["least_outstanding_requests", "random", "prefix_aware", "kv_aware"] = Field(
        "least_outstanding_requests", description="how SageMaker picks a copy for each request"
    )
    scale_in_cooldown_minutes: int = Field(
        10, ge=1, le=1440, description="how long an instance stays idle before scaling in releases it"
    )

    @model_validator(mode="after")
    def _bounds(self) -> SharedEndpointSettings:
        initial = self.initial
        if not self.min_instances <= self.max_instances:
            raise PydanticCustomError(
                "bounds",
                "min_instances ({low}) must not exceed max_instances ({high})",
                {"low": self.min_instances, "high": self.max_instances},
            )
        if initial > self.max_instances:
            raise PydanticCustomError(
                "bounds",
                "initial_instances ({got}) must not exceed max_instances ({high})",
                {"got": initial, "high": self.max_instances},
            )
        return self

    @property
    def initial(self) -> int:
        """Instances at creation: InitialInstanceCount is at least 1, even when scaling to zero."""
        return self.initial_instances or max(1, self.min_instances)

    @property
    def shape(self) -> instances.InstanceType:
        found = instances.lookup(self.instance_type)
        assert found is not None  # checked by the field's validator
        return found


class CapacitySize(Strict):
    """A rolling update's batch: a number of copies, or a share of the component's capacity."""

    type: Literal["copies", "capacity_percent"] = Field("copies", description="copies, or % of capacity")
    value: int = Field(1, ge=1, le=100, description="copies, or percent (5-50 for a batch)")

    @property
    def aws_type(self) -> str:
        """SageMaker's InferenceComponentCapacitySizeType."""
        return "COPY_COUNT" if self.type == "copies" else "CAPACITY_PERCENT"


class RollingUpdateSettings(Strict):
    """How a new version replaces a component's copies, batch by batch, rolling back on the model's alarms."""

    batch: CapacitySize = Field(default_factory=CapacitySize, description="copies replaced per batch")
    wait_seconds: int = Field(300, ge=0, le=3600, description="bake time after each batch")
    rollback_batch: CapacitySize | None = Field(
        None, description="copies restored per batch on rollback; default: all at once (blue/green)"
    )
    max_execution_timeout_seconds: int = Field(
        3600, ge=600, le=28_800, description="longest the update may run before SageMaker rolls it back"
    )

    @model_validator(mode="after")
    def _percent(self) -> RollingUpdateSettings:
        # The API documents a capacity-percent batch as 5 % to 50 % of the copy count.
        for key, size in (("batch", self.batch), ("rollback_batch", self.rollback_batch)):
            if size is not None and size.type == "capacity_percent" and not 5 <= size.value <= 50:
                raise PydanticCustomError(
                    "batch",
                    "{key}: a capacity_percent batch is 5-50 % of the copies (got {got})",
                    {"key": key, "got": size.value},
                )
        return self


class ComponentSettings(Strict):
    """What one copy of a placed model reserves, how many copies it runs, and how it scales and updates."""

    accelerators: int | None = Field(
        None, ge=1, le=8, description="GPUs per copy; default: vllm.tensor_parallel_size, else none"
    )
    cpu_cores: float = Field(ge=0.25, le=192, description="vCPUs reserved per copy")
    memory_mib: int = Field(ge=128, le=2_097_152, description="memory reserved per copy, MiB")
    min_copies: int = Field(1, ge=0, le=MAX_COPIES, description="fewest copies; 0 scales to zero when idle")
    max_copies: int = Field(ge=1, le=MAX_COPIES, description="most copies autoscaling may run")
    target_invocations_per_copy: int | None = Field(
        None, ge=1, le=1_000_000, description="target tracking: invocations per copy per minute"
    )
    target_concurrent_requests_per_copy: float | None = Field(
        None, ge=0.5, le=10_000, description="target tracking: concurrent requests per copy (10 s metric)"
    )
    scale_to_zero_acknowledged: TagValue | None = Field(
        None,
        min_length=10,
        description="why callers can bear minutes of cold start (a tag value); prod needs it at min_copies 0",
    )
    scale_in_cooldown_seconds: int = Field(300, ge=0, le=3600, description="wait after scaling in")
    scale_out_cooldown_seconds: int = Field(60, ge=0, le=3600, description="wait after scaling out")
    rolling_update: RollingUpdateSettings = Field(
        default_factory=RollingUpdateSettings, description="how a new version replaces the copies"
    )

    @model_validator(mode="after")
    def _scaling(self) -> ComponentSettings:
        if self.min_copies > self.max_copies:
            raise PydanticCustomError(
                "copies",
                "min_copies ({low}) must not exceed max_copies ({high})",
                {"low": self.min_copies, "high": self.max_copies},
            )
        if self.target_invocations_per_copy is None and self.target_concurrent_requests_per_copy is None:
            raise PydanticCustomError(
                "scaling",
                "set target_invocations_per_copy or target_concurrent_requests_per_copy: "
                "a component scales its copies by one of them",
            )
        return self

    @property
    def scales_to_zero(self) -> bool:
        return self.min_copies == 0
