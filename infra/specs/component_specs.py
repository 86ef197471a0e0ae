"""What a shared endpoint and its inference components are made of, as plain data (tested without mocks).

``shared_endpoint_spec`` decides, from the settings, everything the
``SharedEndpoint`` component builds: the endpoint's instances and managed
scaling, the execution role's reach, and per placed model its component: the
container (our image and model.tar.gz, or AWS's LMI container with vLLM's
engine options), the reservation, copies, scaling, rolling update and alarms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.contracts import instances, runtimes
from infra.settings.catalog import SageMakerModel
from infra.settings.shared_endpoints import ROUTING, RollingUpdateSettings, SharedEndpointSettings
from infra.specs import alarm_specs, iam, images, naming
from infra.specs.alarm_specs import AlarmSpec
from infra.specs.component_fit import Reservation
from infra.specs.sagemaker_specs import container_environment

# The longest health-check and download timeouts SageMaker accepts (StartupParameters: 60-3600 s).
MAX_STARTUP_SECONDS = 3600
RESOURCE_PREFIX = "inference-component/"  # Application Auto Scaling's resource id of a component
SHARED_VARIANT = "AllTraffic"  # a shared endpoint's one production variant, which hosts the components


@dataclass(frozen=True)
class ComponentScaling:
    """One component's copies under Application Auto Scaling."""

    min_copies: int  # the scalable target's MinCapacity; 0 scales to zero
    max_copies: int  # its MaxCapacity
    invocations_per_copy: int | None  # SageMakerInferenceComponentInvocationsPerCopy target
    concurrent_requests_per_copy: float | None  # ...ConcurrentRequestsPerCopyHighResolution target
    scale_in_cooldown_seconds: int
    scale_out_cooldown_seconds: int

    @property
    def scales_to_zero(self) -> bool:
        """Target tracking never adds the first copy: a step policy on failed invocations does."""
        return self.min_copies == 0


@dataclass(frozen=True)
class ComponentSpec:
    """One placed model as the ``InferenceComponent`` and its scaling and alarms are built."""

    model_name: str  # the catalog name: tags, alarms, the dashboard
    team: str
    component_name: str  # the physical InferenceComponentName requests and metrics use
    runtime: str  # modelfleet or vllm: what smoke and loadtest send
    container: Mapping[str, Any]  # aws-native's container: image, artifact_url, environment
    reservation: Reservation  # what one copy holds on its instance
    initial_copies: int  # copies at creation; autoscaling owns the count afterwards
    startup_seconds: int  # download and health-check timeout: the runtime's loading budget
    scaling: ComponentScaling
    rolling_update: RollingUpdateSettings  # how a new version replaces the copies
    alarms: tuple[AlarmSpec, ...]  # the rollback alarms among them
    dashboard_name: str
    p99_slo_ms: int
    scale_to_zero_acknowledged: str | None = None  # why cold starts are acceptable (min_copies 0)


@dataclass(frozen=True)
class SharedEndpointSpec:
    """One shared endpoint: its instances, managed scaling, role reach and components."""

    name: str  # the settings name models are placed by
    endpoint_name: str  # the physical endpoint name
    team: str
    instance_type: str
    min_instances: int  # managed instance scaling's floor (0: scales to zero)
    max_instances: int
    initial_instances: int  # InitialInstanceCount: at least 1
    routing: str  # SageMaker's RoutingStrategy
    scale_in_cooldown_minutes: int
    encrypt_volume: bool  # False on instance-store types: SageMaker refuses a volume key for them
    gpus: bool
    network_isolation: bool  # off only when a component's container fetches its own weights (LMI)
    artifact_arns: tuple[str, ...]  # S3 objects (and prefixes) the execution role may read
    weight_prefixes: tuple[str, ...]  # s3://bucket/prefix/ the LMI container lists and reads itself
    repository_arns: tuple[str, ...]  # ECR repositories of the components' images (ours and AWS's DLCs)
    components: tuple[ComponentSpec, ...]
    alarms: tuple[AlarmSpec, ...] = ()  # the shared instances' CPU and disk


def deployment_config(rolling: RollingUpdateSettings, rollback_alarms: list[Any]) -> dict[str, Any]:
    """The rolling update in aws-native's shape (alarm names may be Outputs)."""
    policy: dict[str, Any] = {
        "maximum_batch_size": {"type": rolling.batch.aws_type, "value": rolling.batch.value},
        "wait_interval_in_seconds": rolling.wait_seconds,
        "maximum_execution_timeout_in_seconds": rolling.max_execution_timeout_seconds,
    }
    if rolling.rollback_batch is not None:
        size = rolling.rollback_batch
        policy["rollback_maximum_batch_size"] = {"type": size.aws_type, "value": size.value}
    return {
        "rolling_update_policy": policy,
        "auto_rollback_configuration": {"alarms": [{"alarm_name": name} for name in rollback_alarms]},
    }


def api_deployment_config(rolling: RollingUpdateSettings, rollback_alarms: list[str]) -> dict[str, Any]:
    """The rolling update in the API's shape, for ``UpdateInferenceComponent`` (``modelfleet rollout``)."""
    shaped = deployment_config(rolling, rollback_alarms)
    policy = shaped["rolling_update_policy"]

    def size(value: Mapping[str, Any]) -> dict[str, Any]:
        return {"Type": value["type"], "Value": value["value"]}

    api: dict[str, Any] = {
        "MaximumBatchSize": size(policy["maximum_batch_size"]),
        "WaitIntervalInSeconds": policy["wait_interval_in_seconds"],
        "MaximumExecutionTimeoutInSeconds": policy["maximum_execution_timeout_in_seconds"],
    }
    if "rollback_maximum_batch_size" in policy:
        api["RollbackMaximumBatchSize"] = size(policy["rollback_maximum_batch_size"])
    return {
        "RollingUpdatePolicy": api,
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in rollback_alarms]},
    }


def llm_environment(model: SageMakerModel, container: runtimes.SageMakerLlmContainer) -> dict[str, str]:
    """The LMI container's variables for a vllm model: weights, then the engine options of ``vllm:``."""
    llm = model.vllm
    assert llm is not None
    env = {
        container.weights: model.variants.stable.model_data or "",
        container.tensor_parallel: str(llm.tensor_parallel_size),
        container.max_model_len: str(llm.max_model_len),
        container.dtype: llm.dtype,
        container.max_num_seqs: str(llm.max_num_seqs),
        container.gpu_memory_utilization: f"{llm.gpu_memory_utilization:g}",
    }
    if llm.quantization == "fp8":  # awq and gptq weights are pre-quantized: vLLM reads their config
        env[container.runtime_quantization] = "fp8"
    if llm.kv_cache_dtype == "fp8":
        env[container.kv_cache_dtype] = "fp8"
    return env | dict(model.environment)


def component_container(model: SageMakerModel) -> dict[str, Any]:
    """The component's container: the LLM container with its variables, or our image and model.tar.gz."""
    llm = runtimes.SAGEMAKER_LLM_CONTAINERS.get(model.runtime)
    if llm is not None:
        return {"image": model.image_uri, "environment": llm_environment(model, llm)}
    stable = model.variants.stable
    return {
        "image": stable.image or model.image_uri,
        "artifact_url": stable.model_data,
        "environment": container_environment(model),
    }


def component_name(environment: str, model_name: str) -> str:
    """``modelfleet-<env>-<model>``: the InferenceComponentName requests, metrics and the day-2 tools use."""
    return naming.endpoint(environment, model_name)


def shared_endpoint_name(environment: str, shared: str) -> str:
    """``modelfleet-<env>-shared-<name>``: a shared endpoint's physical name, and its dashboard's."""
    return naming.name(environment, "shared", shared)


def component_spec(environment: str, model: SageMakerModel) -> ComponentSpec:
    component, reservation = model.component, model.reservation()
    assert component is not None and reservation is not None  # placed models have both
    name = component_name(environment, model.name)
    budget = model.vllm.startup_timeout_seconds if model.vllm else None
    return ComponentSpec(
        model_name=model.name,
        team=model.team,
        component_name=name,
        runtime=model.runtime.value,
        container=component_container(model),
        reservation=reservation,
        initial_copies=max(1, component.min_copies),
        startup_seconds=min(
            MAX_STARTUP_SECONDS, budget or runtimes.contract(model.runtime).startup_budget_seconds
        ),
        scaling=ComponentScaling(
            component.min_copies,
            component.max_copies,
            component.target_invocations_per_copy,
            component.target_concurrent_requests_per_copy,
            component.scale_in_cooldown_seconds,
            component.scale_out_cooldown_seconds,
        ),
        rolling_update=component.rolling_update,
        alarms=tuple(alarm_specs.component_alarms(environment, model, name, bool(reservation.accelerators))),
        dashboard_name=naming.dashboard(environment, model.name),
        p99_slo_ms=model.slo.p99_latency_ms,
        scale_to_zero_acknowledged=component.scale_to_zero_acknowledged,
    )


def shared_endpoint_spec(
    environment: str, region: str, owner: str, shared: SharedEndpointSettings, placed: list[SageMakerModel]
) -> SharedEndpointSpec:
    """Everything ``SharedEndpoint`` builds for ``shared`` and the models placed on it."""
    shape = instances.lookup(shared.instance_type)
    partition = iam.partition_for(region)
    llm_weights = sorted(
        m.variants.stable.model_data or "" for m in placed if m.runtime in runtimes.SAGEMAKER_LLM_CONTAINERS
    )
    archives = [
        m.variants.stable.model_data for m in placed if m.runtime not in runtimes.SAGEMAKER_LLM_CONTAINERS
    ]
    own_images = [images.parse_ecr(m.variants.stable.image or m.image_uri or "") for m in placed]
    return SharedEndpointSpec(
        name=shared.name,
        endpoint_name=shared_endpoint_name(environment, shared.name),
        team=shared.team or owner,
        instance_type=shared.instance_type,
        min_instances=shared.min_instances,
        max_instances=shared.max_instances,
        initial_instances=shared.initial,
        routing=ROUTING[shared.routing],
        scale_in_cooldown_minutes=shared.scale_in_cooldown_minutes,
        encrypt_volume=bool(shape and not shape.local_storage),
        gpus=bool(shape and shape.gpus),
        network_isolation=not llm_weights,
        artifact_arns=tuple(
            sorted({iam.s3_object_arn(uri, partition) for uri in [*archives, *llm_weights] if uri})
        ),
        weight_prefixes=tuple(llm_weights),
        repository_arns=tuple(sorted({i.repository_arn(partition) for i in own_images if i})),
        components=tuple(component_spec(environment, m) for m in placed),
        alarms=tuple(
            alarm_specs.shared_endpoint_alarms(
                environment, shared.name, shared_endpoint_name(environment, shared.name), shape
            )
        )
        if shape
        else (),
    )
