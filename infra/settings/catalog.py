"""The model catalog (``modelfleet:models``): what each served model needs.

One entry per model: where its image and artifacts come from, what it runs on,
its variants (stable and an optional canary with traffic weights), autoscaling
bounds, SLOs, data capture, the deployment guardrail and an off-hours schedule.
Checks that span fields live here too, each reporting its own key path.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from infra.contracts import instances, model_packages, runtimes
from infra.contracts.runtimes import Runtime
from infra.settings.backend import Backend
from infra.settings.drift import DriftSettings
from infra.settings.placement import component_problems
from infra.settings.runtimes import TeiSettings, VllmSettings
from infra.settings.shared_endpoints import ComponentSettings
from infra.settings.types import Strict, TagValue
from infra.specs import component_fit, gpu_fit, images
from infra.specs.naming import MODEL_NAME_MAX_LENGTH

# The highest target-tracking value the catalog accepts: above it an instance would
# be promised more than 16,000 requests a second, which no sizing here can vouch for.
MAX_TARGET_INVOCATIONS_PER_MINUTE = 1_000_000
MAX_INSTANCES = 100  # most instances one variant may scale to (autoscaling bounds)
SERVERLESS_LIMITS = "serverless endpoints take no canary, data capture, autoscaling or instance type"


def _custom(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, context)


def _s3_uri(value: str) -> str:
    if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+", value):
        raise _custom("s3", "must be an S3 URI like s3://bucket/path/model.tar.gz (got '{got}')", got=value)
    return value


def _ecr_digest(value: str) -> str:
    image = images.parse_ecr(value)
    if image is not None and image.digest is not None:
        return value
    if image is not None and image.tag is not None:
        # A tag can be moved to another image; only a digest names the bytes that were tested.
        raise _custom(
            "image",
            "is pinned by tag ':{tag}', which can move; pin it by digest, "
            "{repo}@sha256:<64 hex>, so a deploy is reproducible",
            tag=image.tag,
            repo=value.rsplit(":", 1)[0],
        )
    raise _custom(
        "image",
        "must be an ECR image pinned by digest, <account>.dkr.ecr.<region>.amazonaws.com/<repo>"
        "@sha256:<64 hex>, so a deploy is reproducible (got '{got}')",
        got=value,
    )


def _model_name(value: str) -> str:
    """Length first, with its reason: a pattern that fails on length alone would not say so."""
    if len(value) > MODEL_NAME_MAX_LENGTH:
        raise _custom(
            "name",
            "must be at most {limit} characters (got {length}): the IAM role Pulumi names "
            "platform-<name>-execution-role-<7 random> must fit IAM's 64",
            limit=MODEL_NAME_MAX_LENGTH,
            length=len(value),
        )
    if not re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", value) or len(value) < 3:
        raise _custom(
            "name",
            "must be 3-{limit} lowercase letters, digits or '-', starting with a letter and "
            "ending with a letter or digit (got '{got}')",
            limit=MODEL_NAME_MAX_LENGTH,
            got=value,
        )
    return value


def _package_arn(value: str) -> str:
    if model_packages.package_group(value) is None:
        raise _custom(
            "package",
            "must be a versioned model package ARN, arn:aws:sagemaker:<region>:<account>:"
            "model-package/<group>/<version> (got '{got}')",
            got=value,
        )
    return value


def _package_group(value: str) -> str:
    if not model_packages.GROUP_NAME.fullmatch(value):
        raise _custom(
            "package",
            "must be a model package group name: 1-63 letters, digits or '-', starting and ending "
            "with a letter or digit (got '{got}')",
            got=value,
        )
    return value


def _instance_type(value: str) -> str:
    if instances.lookup(value) is None:
        raise _custom("instance", "'{got}' {why}", got=value, why=instances.explain_unknown(value))
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _custom(
            "tz", "must be an IANA time zone such as Europe/Dublin (got '{got}')", got=value
        ) from None
    return value


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,1023}", value):
        raise _custom("env", "environment variable names are letters, digits and _ (got '{got}')", got=value)
    return value


S3Uri = Annotated[str, AfterValidator(_s3_uri)]
EcrDigestUri = Annotated[str, AfterValidator(_ecr_digest)]
ModelPackageArn = Annotated[str, AfterValidator(_package_arn)]
ModelPackageGroupName = Annotated[str, AfterValidator(_package_group)]
InstanceTypeName = Annotated[str, AfterValidator(_instance_type)]
HourMinute = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, 24-hour")]


class FrameworkSettings(Strict):
    name: Literal[
        "pytorch", "tensorflow", "xgboost", "sklearn", "huggingface-llm", "huggingface-tei",
        "djl-lmi", "sagemaker-tritonserver", "vllm",
    ] = Field(description="AWS Deep Learning Container framework")  # fmt: skip
    version: str = Field(min_length=1, description="framework version, e.g. 2.3 or 1.7-1")
    py_version: str | None = Field(None, description="e.g. py311, where the framework needs one")


class VariantSettings(Strict):
    model_data: S3Uri | None = Field(None, description="the model artifact (model.tar.gz) in S3")
    model_package_arn: ModelPackageArn | None = Field(None, description="a Model Registry version")
    model_package_group: ModelPackageGroupName | None = Field(
        None,
        description="follow this registry group: modelfleet registry pin writes its latest Approved "
        "version into model_package_arn",
    )
    image: EcrDigestUri | None = Field(None, description="this variant's image, if not the model's")
    instance_count: int = Field(1, ge=1, le=100, description="instances at deploy time")
    weight: int = Field(100, ge=0, le=100, description="share of traffic, in percent")

    @model_validator(mode="after")
    def _one_source(self) -> VariantSettings:
        if self.model_data is None and self.model_package_arn is None:
            if self.model_package_group is not None:
                raise _custom(
                    "variant",
                    "follows model package group '{group}' but pins no version yet: run modelfleet "
                    "registry pin to write its latest Approved version into model_package_arn",
                    group=self.model_package_group,
                )
            raise _custom("variant", "set model_data or model_package_arn")
        if self.model_package_group is not None and self.model_package_arn is not None:
            group = model_packages.package_group(self.model_package_arn)
            if group != self.model_package_group:
                raise _custom(
                    "variant",
                    "model_package_arn is a version of group '{got}', not of model_package_group "
                    "'{group}': run modelfleet registry pin",
                    got=group,
                    group=self.model_package_group,
                )
        return self


# SageMaker copies a request to the shadow with probability shadow weight / production weight
# (ShadowProductionVariants' InitialVariantWeight, relative to the one production variant's).
# The production variant's weight is 100 whenever a shadow is allowed (no canary), so the
# shadow's weight reads directly as the percent of requests copied.
SHADOW_RULES = "SageMaker's ShadowProductionVariants"


class ShadowVariantSettings(VariantSettings):
    weight: int = Field(100, ge=1, le=100, description="percent of requests copied to the shadow (1-100)")


class VariantsSettings(Strict):
    stable: VariantSettings = Field(description="the variant serving today: takes the rest of the traffic")
    canary: VariantSettings | None = Field(None, description="a new version on a share of traffic")
    shadow: ShadowVariantSettings | None = Field(
        None, description="a new version on a copy of live traffic; serves no responses (SageMaker only)"
    )

    @model_validator(mode="after")
    def _weights(self) -> VariantsSettings:
        canary = self.canary.weight if self.canary else 0
        if self.stable.weight + canary != 100:
            shown = f"{self.stable.weight} + {canary}" if self.canary else str(self.stable.weight)
            raise _custom(
                "weights",
                "variant weights are percentages that add up to 100 (got {got})",
                got=shown,
            )
        return self

    def items(self) -> list[tuple[str, VariantSettings]]:
        """The production variants, which take traffic and answer it; never the shadow."""
        return [("stable", self.stable)] + ([("canary", self.canary)] if self.canary else [])

    def with_shadow(self) -> list[tuple[str, VariantSettings]]:
        """Every variant that is deployed: the production ones, then the shadow if there is one."""
        return self.items() + ([("shadow", self.shadow)] if self.shadow else [])


class AutoscalingSettings(Strict):
    min_instances: int = Field(ge=1, le=MAX_INSTANCES, description="fewest instances of the stable variant")
    max_instances: int = Field(ge=1, le=MAX_INSTANCES, description="most instances of each variant")
    target_invocations_per_instance_per_minute: int | None = Field(
        None,
        ge=1,
        le=MAX_TARGET_INVOCATIONS_PER_MINUTE,
        description="SageMaker target tracking (required there)",
    )
    concurrency_target: float | None = Field(
        None, ge=0.5, le=10_000, description="optional second policy: concurrent requests per model"
    )
    scale_in_cooldown_seconds: int = Field(
        300, ge=0, le=3600, description="wait after scaling in before the next"
    )
    scale_out_cooldown_seconds: int = Field(
        60, ge=0, le=3600, description="wait after scaling out before the next"
    )


# The fastest p99 any model can have: an HTTP exchange with the model server,
# unloaded, on loopback, with a one-row model takes 1.0 ms at best and 1.5 ms at the
# median (`make serve`, 300 sequential requests, 2 vCPUs); SageMaker's ModelLatency and
# the ALB's TargetResponseTime both include that exchange. An objective below the
# median asks 99 % of requests to beat what half of bare round trips do not.
MIN_P99_LATENCY_MS = 2


def _p99(value: int) -> int:
    if value < MIN_P99_LATENCY_MS:
        raise _custom(
            "slo",
            "no instance type can meet a p99 of {got} ms: the round trip to the model server "
            "alone takes {floor} ms or more (see MIN_P99_LATENCY_MS in infra/settings/catalog.py)",
            got=value,
            floor=MIN_P99_LATENCY_MS,
        )
    return value


class SloSettings(Strict):
    p99_latency_ms: Annotated[int, AfterValidator(_p99)] = Field(
        ge=1, le=60_000, description="p99 model latency objective"
    )
    error_rate_percent: float = Field(gt=0, le=100, description="5XX share of invocations")


class DataCaptureSettings(Strict):
    sampling_percent: int = Field(0, ge=0, le=100, description="share of requests captured; 0 is off")


class ServerlessSettings(Strict):
    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(2048, description="memory per invocation")
    max_concurrency: int = Field(5, ge=1, le=200, description="concurrent invocations before throttling")


class DeploymentSettings(Strict):
    strategy: Literal["canary", "linear", "all_at_once"] = Field(
        "canary", description="blue/green traffic shift"
    )
    step_percent: int = Field(10, ge=1, le=100, description="canary size or linear step, % of capacity")
    wait_seconds: int = Field(600, ge=0, le=3600, description="bake time between shifts")
    termination_wait_seconds: int = Field(600, ge=0, le=3600, description="old fleet kept for rollback")
    max_execution_timeout_seconds: int = Field(
        3600, ge=600, le=14400, description="longest a guarded update may run before it rolls back"
    )

    @model_validator(mode="after")
    def _within_aws_limits(self) -> DeploymentSettings:
        """SageMaker's own limits, so a bad guardrail fails here and not mid-deploy."""
        if self.strategy == "canary" and self.step_percent > 50:
            raise _custom(
                "step", "a canary may take at most 50 % of capacity (got {got})", got=self.step_percent
            )
        if self.strategy == "linear" and not 10 <= self.step_percent <= 50:
            raise _custom(
                "step", "linear steps must be 10-50 % of capacity (got {got})", got=self.step_percent
            )
        steps = 1 if self.strategy != "linear" else -(-100 // self.step_percent)
        waiting = steps * self.wait_seconds + self.termination_wait_seconds
        if self.strategy != "all_at_once" and self.max_execution_timeout_seconds <= waiting:
            raise _custom(
                "timeout",
                "max_execution_timeout_seconds ({timeout}) must exceed the waits it covers ({waiting} s)",
                timeout=self.max_execution_timeout_seconds,
                waiting=waiting,
            )
        return self


class OffHoursSettings(Strict):
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(
        "UTC", description="IANA time zone of the hours"
    )
    start: HourMinute = Field("08:00", description="working hours start")
    end: HourMinute = Field("20:00", description="working hours end")
    days: Literal["MON-FRI", "MON-SAT", "MON-SUN"] = Field("MON-FRI", description="working days")
    instances: int = Field(1, ge=1, le=100, description="min and max outside working hours")

    @model_validator(mode="after")
    def _order(self) -> OffHoursSettings:
        if self.start >= self.end:
            raise _custom(
                "hours",
                "start ({start}) must be before end ({end})",
                start=self.start,
                end=self.end,
            )
        return self


class AlarmSettings(Strict):
    error_4xx_rate_percent: float = Field(
        5, gt=0, le=100, description="client errors that page (bad callers)"
    )
    cpu_utilization_percent: int = Field(80, ge=1, le=100, description="of all vCPUs")
    gpu_utilization_percent: int = Field(90, ge=1, le=100, description="of all GPUs")
    gpu_memory_utilization_percent: int = Field(90, ge=1, le=100, description="GPU memory that pages")
    disk_utilization_percent: int = Field(80, ge=1, le=100, description="instance disk use that pages")
    no_invocations_minutes: int | None = Field(None, ge=5, le=1440, description="alarm on silence")


class RolloutSettings(Strict):
    """How ``modelfleet rollout`` shifts traffic to the canary, and when it gives up.

    Gates compare the canary with the stable variant over the same minutes, so a
    regression shows even when both are inside the SLO.
    """

    steps_percent: list[int] = Field(
        default_factory=lambda: [10, 25, 50, 100], description="canary share after each step; ends at 100"
    )
    bake_seconds: int = Field(600, ge=0, le=86_400, description="watch time after each step")
    poll_seconds: int = Field(30, ge=1, le=3600, description="how often gates are read while baking")
    max_error_rate_increase_points: float = Field(
        0.5, ge=0, le=100, description="canary 5XX % may exceed stable's by this many points"
    )
    max_p99_latency_increase_percent: float = Field(
        20, ge=0, le=1000, description="canary p99 ModelLatency may exceed stable's by this much"
    )
    min_invocations: int = Field(
        100, ge=0, le=10_000_000, description="canary invocations before its metrics are judged"
    )
    insufficient_data_hold_seconds: int = Field(
        1800,
        ge=0,
        le=86_400,
        description="longest extra bake while the canary has too few invocations to judge; then roll back",
    )
    in_service_timeout_seconds: int = Field(
        1800, ge=10, le=14_400, description="longest wait for the endpoint to be InService"
    )
    sample_payload: str | None = Field(None, min_length=1, description="request body for smoke tests")
    sample_content_type: str = Field("application/json", min_length=3, description="smoke payload's type")
    sample_accept: str = Field("application/json", min_length=3, description="response type smoke asks for")
    sample_response_keys: list[str] = Field(
        default_factory=list, description="top-level keys a JSON smoke response must have"
    )

    @field_validator("steps_percent")
    @classmethod
    def _steps(cls, steps: list[int]) -> list[int]:
        if not steps or any(not 1 <= s <= 100 for s in steps) or steps[-1] != 100:
            raise _custom("steps", "must be percentages from 1 to 100 ending at 100 (got {got})", got=steps)
        if any(b <= a for a, b in itertools.pairwise(steps)):
            raise _custom("steps", "must increase step by step (got {got})", got=steps)
        return steps


class RegistryAccessSettings(Strict):
    artifact_s3_prefix: S3Uri = Field(description="where the packages' artifacts live")
    image_repository: str = Field(description="ECR image URI (tag or digest) the packages use")


def acm_arn(value: str) -> str:
    if not re.fullmatch(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}", value):
        raise _custom("acm", "must be an ACM certificate ARN (got '{got}')", got=value)
    return value


def _waf_arn(value: str) -> str:
    if not re.fullmatch(
        r"arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[\w-]+/[0-9a-f-]{36}", value
    ):
        raise _custom("waf", "must be a regional WAFv2 web ACL ARN (got '{got}')", got=value)
    return value


# The scaling targets of our own container; the LLM and embedding runtimes bring their own signals.
MODELFLEET_SCALING = frozenset({"max_inflight_per_replica", "cpu_target_percent"})


class EksServingSettings(Strict):
    """How an ``eks`` model runs: its pool, what one replica needs, how it is exposed."""

    pool: str = Field(description="the GPU pool (modelfleet:gpu_pools[].name) it runs on")
    gpus: int = Field(1, ge=1, le=8, description="GPUs per replica")
    cpu: float = Field(2, gt=0, le=192, description="vCPUs requested per replica")
    memory_gib: float = Field(8, gt=0, le=2048, description="memory requested per replica")
    drain_seconds: int = Field(30, ge=1, le=600, description="how long the server drains after SIGTERM")
    max_inflight_per_replica: int = Field(
        8, ge=1, le=10_000, description="runtime modelfleet: scale out above this many requests in flight"
    )
    cpu_target_percent: int = Field(
        70, ge=10, le=100, description="runtime modelfleet: scaling target on CPU"
    )
    pdb_min_available: int = Field(1, ge=0, le=100, description="replicas kept through voluntary disruptions")
    certificate_arn: Annotated[str, AfterValidator(acm_arn)] | None = Field(
        None,
        description="ACM certificate of the load balancer's HTTPS listener; default: "
        "modelfleet:cluster.load_balancer_certificate_arn",
    )
    internet_facing: bool = Field(False, description="an internet-facing load balancer (else internal)")
    waf_acl_arn: Annotated[str, AfterValidator(_waf_arn)] | None = Field(None, description="WAFv2 web ACL")

    @model_validator(mode="after")
    def _exposure(self) -> EksServingSettings:
        if self.waf_acl_arn and not self.internet_facing:
            raise _custom("waf", "a web ACL protects internet-facing load balancers: set internet_facing too")
        return self


class ModelBase(Strict):
    """What every model has, whichever backend serves it: identity, variants, SLOs, alarms, rollout."""

    name: Annotated[str, AfterValidator(_model_name)] = Field(
        description=f"3-{MODEL_NAME_MAX_LENGTH} lowercase letters, digits or '-'"
    )
    team: TagValue = Field(min_length=1, description="owning team, tagged on its resources")
    environment: dict[Annotated[str, AfterValidator(_env_name)], str] = Field(
        default_factory=dict, description="environment variables of the serving container"
    )
    variants: VariantsSettings = Field(description="stable, and optionally canary, with weights")
    slo: SloSettings = Field(description="the latency and error budget the alarms and gates hold to")
    alarms: AlarmSettings = Field(default_factory=AlarmSettings, description="alarm thresholds")
    rollout: RolloutSettings = Field(
        default_factory=RolloutSettings, description="modelfleet rollout's steps and gates"
    )
    runtime: Runtime = Field(
        Runtime.MODELFLEET, description="the serving contract: modelfleet, vllm (LLMs) or tei (embeddings)"
    )
    vllm: VllmSettings | None = Field(None, description="the LLM and engine options of a vllm model")
    tei: TeiSettings | None = Field(None, description="the embedding model and server options of a tei model")
    data_capture: DataCaptureSettings = Field(
        default_factory=DataCaptureSettings,
        description="sample requests and predictions to the stack's capture bucket (SageMaker's "
        "data capture; on EKS our container writes the same records)",
    )
    drift: DriftSettings | None = Field(
        None, description="compare captured requests with a baseline on a schedule (needs data capture)"
    )

    def _runtime_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """Each runtime's block is given with that runtime only, and LLM weights are a directory."""
        found: list[tuple[tuple[str, ...], str]] = []
        blocks = {Runtime.VLLM: self.vllm, Runtime.TEI: self.tei}
        for runtime, block in blocks.items():
            if runtime is self.runtime and block is None:
                found.append(((runtime.value,), f"is required with runtime {runtime.value}"))
            elif runtime is not self.runtime and block is not None:
                reason = (
                    f"applies to runtime {runtime.value} only (this model's runtime is {self.runtime.value})"
                )
                found.append(((runtime.value,), reason))
        if self.runtime in blocks:
            for name, variant in self.variants.items():
                if variant.model_data and not variant.model_data.endswith("/"):
                    reason = (
                        f"runtime {self.runtime.value} loads weights from a directory: end the S3 URI "
                        f"with '/' (got '{variant.model_data}')"
                    )
                    found.append((("variants", name, "model_data"), reason))
        return found

    @property
    def captures(self) -> bool:
        """Whether requests are captured to the stack's bucket (each backend says where it can)."""
        return self.data_capture.sampling_percent > 0

    @property
    def drift_on(self) -> bool:
        """Whether the stack schedules drift runs for the model (the checks hold it to capturing models)."""
        return self.drift is not None and self.drift.on

    @property
    def served_model_name(self) -> str:
        """The name clients pass as ``model`` to an OpenAI-compatible runtime: vLLM's setting, else ours."""
        return (self.vllm.served_model_name if self.vllm else None) or self.name

    def gpu_need(self) -> gpu_fit.MemoryNeed | None:
        """What one replica asks of each GPU (None: a runtime whose memory the catalog does not size)."""
        if self.runtime is Runtime.VLLM and self.vllm is not None:
            llm, arch = self.vllm, self.vllm.architecture
            weights = gpu_fit.weights_gib(llm.parameters_billion, llm.quantization or llm.dtype)
            kv_value = gpu_fit.DTYPE_BYTES["fp8" if llm.kv_cache_dtype == "fp8" else llm.dtype]
            per_token = gpu_fit.kv_bytes_per_token(
                arch.num_hidden_layers, arch.num_key_value_heads, arch.head_dim, kv_value
            )
            kv = per_token * llm.max_model_len * llm.full_context_sequences / gpu_fit.GIB
            return gpu_fit.MemoryNeed(weights, kv, llm.tensor_parallel_size)
        if self.runtime is Runtime.TEI and self.tei is not None:
            return gpu_fit.MemoryNeed(
                gpu_fit.weights_gib(self.tei.parameters_billion, self.tei.dtype), 0.0, 1
            )
        return None

    @property
    def gpu_memory_utilization(self) -> float:
        """The share of each GPU the runtime may claim: vLLM's setting, else a 10 % margin."""
        return self.vllm.gpu_memory_utilization if self.vllm is not None else gpu_fit.UTILIZATION

    def gpu_fit_problem(
        self, shape: instances.InstanceType, where: tuple[str, ...]
    ) -> list[tuple[tuple[str, ...], str]]:
        """Refuse a model that cannot fit ``shape``'s GPUs, naming what would, at its runtime's key."""
        need = self.gpu_need()
        if need is None:
            return []
        why = gpu_fit.refusal(
            need,
            shape,
            self.gpu_memory_utilization,
            split=self.runtime is Runtime.VLLM,
            ec2=where[0] == "eks",
        )
        return [((self.runtime.value,), why)] if why else []

    def _bounds_problems(self, scaling: AutoscalingSettings) -> list[tuple[tuple[str, ...], str]]:
        found = []
        low, high = scaling.min_instances, scaling.max_instances
        stable = self.variants.stable.instance_count
        if not low <= stable <= high:
            where = ("variants", "stable", "instance_count")
            found.append((where, f"must be within autoscaling bounds {low}-{high} (got {stable})"))
        canary = self.variants.canary
        if canary and canary.instance_count > high:
            where = ("variants", "canary", "instance_count")
            found.append((where, f"must not exceed autoscaling.max_instances {high}"))
        return found


def _raise(title: str, found: list[tuple[tuple[str, ...], str]]) -> None:
    if found:
        raise ValidationError.from_exception_data(
            title, [InitErrorDetails(type=_custom("model", m), loc=loc, input=None) for loc, m in found]
        )


class SageMakerModel(ModelBase):
    """A model on its own SageMaker real-time endpoint: instances that autoscale, or serverless."""

    backend: Literal[Backend.SAGEMAKER] = Field(description="served by a SageMaker endpoint")
    image: EcrDigestUri | None = Field(None, description="serving image by digest")
    framework: FrameworkSettings | None = Field(None, description="or a Deep Learning Container")
    instance_type: InstanceTypeName | None = Field(None, description="e.g. ml.g5.xlarge")
    network_isolation: bool = Field(True, description="no network access from the container")
    autoscaling: AutoscalingSettings | None = Field(
        None, description="instance bounds and the scaling target"
    )
    deployment: DeploymentSettings = Field(
        default_factory=DeploymentSettings, description="blue/green guardrail for endpoint updates"
    )
    serverless: ServerlessSettings | None = Field(None, description="a serverless endpoint instead")
    off_hours: OffHoursSettings | None = Field(None, description="scale down outside working hours")
    registry_access: RegistryAccessSettings | None = Field(None, description="model packages it may read")
    endpoint: str | None = Field(
        None,
        description="run as an inference component of this shared endpoint (modelfleet:shared_endpoints)",
    )
    component: ComponentSettings | None = Field(
        None, description="on a shared endpoint: what a copy reserves, its copies, scaling and updates"
    )
    _image_uri: str | None = PrivateAttr(None)

    @property
    def placed(self) -> bool:
        """Whether the model runs as an inference component of a shared endpoint."""
        return self.endpoint is not None

    @property
    def captures(self) -> bool:
        """SageMaker captures on an endpoint of the model's own with instances: no component or serverless."""
        return self.data_capture.sampling_percent > 0 and not self.placed and self.serverless is None

    def reservation(self) -> component_fit.Reservation | None:
        """What one copy reserves; accelerators default to the LLM's tensor-parallel GPUs."""
        if self.component is None:
            return None
        tensor_parallel = self.vllm.tensor_parallel_size if self.vllm else 0
        accelerators = self.component.accelerators or tensor_parallel
        return component_fit.Reservation(
            self.name, accelerators, self.component.cpu_cores, self.component.memory_mib
        )

    def _drift_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """Drift compares captured requests: only a model on its own endpoint that captures can run it."""
        if not self.drift_on:
            return []
        if self.placed:
            why = "runs for models on their own endpoint; a shared endpoint's components capture no data here"
        elif self.serverless is not None:
            why = "compares captured requests, and serverless endpoints capture none: set schedule: off"
        elif self.data_capture.sampling_percent == 0:
            why = (
                "compares captured requests with the baseline: set data_capture.sampling_percent "
                "above 0, or schedule: off"
            )
        else:
            return []
        return [(("drift", "schedule"), why)]

    @property
    def image_uri(self) -> str | None:
        """The serving image: the configured digest, or the resolved DLC image."""
        return self.image or self._image_uri

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> SageMakerModel:
        context = info.context or {}
        region, hosting = context.get("region"), None
        if self.placed:
            hosting = (context.get("shared_instance_types") or {}).get(self.endpoint)
            found = component_problems(self, instances.lookup(hosting) if hosting else None)
            found += self._shadow_problems()
            shape = None
        else:
            found = [*self._source_problems(), *self._capacity_problems(), *self._runtime_problems()]
            found += self._framework_runtime_problems() + self._shadow_problems()
            if self.component is not None:
                found.append((("component",), "applies to a model placed on a shared endpoint (endpoint:)"))
            if self.runtime is not Runtime.MODELFLEET:
                reason = (
                    f"runtime {self.runtime.value} on backend sagemaker runs as an inference component: "
                    "place it on a shared endpoint (endpoint: <a modelfleet:shared_endpoints name>), or "
                    "serve it with backend eks"
                )
                found.append((("runtime",), reason))
            shape = instances.lookup(self.instance_type) if self.instance_type else None
            if shape is not None and shape.gpus:
                found += self.gpu_fit_problem(shape, ("instance_type",))
        found += self._drift_problems()
        if region and not found:
            found += self._resolve_image(region, hosting if self.placed else self.instance_type)
        _raise("SageMakerModel", found)
        return self

    def _resolve_image(self, region: str, instance_type: str | None) -> list[tuple[tuple[str, ...], str]]:
        """The DLC's URI from the SDK's tables: the model's framework, else its runtime's pinned container."""
        llm = runtimes.SAGEMAKER_LLM_CONTAINERS.get(self.runtime)
        if self.framework is not None:
            name, version, py = self.framework.name, self.framework.version, self.framework.py_version
        elif llm is not None and self.image is None:
            name, version, py = llm.framework, llm.version, None
        else:
            return []
        try:
            self._image_uri = images.deep_learning_container(
                name, version, region, instance_type or "ml.m5.large", py
            )
        except images.UnresolvableImage as exc:
            return [(("framework", "version"), f"the SageMaker SDK has no image: {exc}")]
        return []

    def _shadow_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """SageMaker's own rules for ShadowProductionVariants, at ``variants.shadow``."""
        if self.variants.shadow is None:
            return []
        where = ("variants", "shadow")
        if self.placed:
            return [(where, f"a shadow variant needs an endpoint of the model's own ({SHADOW_RULES}): "
                            f"a model on shared endpoint '{self.endpoint}' takes none")]  # fmt: skip
        if self.serverless is not None:
            return [(where, f"serverless endpoints take no shadow variant ({SHADOW_RULES})")]
        if self.variants.canary is not None:
            return [(where, f"a shadow variant needs exactly one production variant ({SHADOW_RULES}): "
                            "remove variants.canary, or finish the shadow test first (modelfleet "
                            "promote --from-shadow)")]  # fmt: skip
        return []

    def _framework_runtime_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """A Deep Learning Container implements one runtime: the model's."""
        if self.framework is None:
            return []
        implements = runtimes.runtime_of_framework(self.framework.name)
        if implements is None or implements is self.runtime:
            return []
        names = ", ".join(runtimes.contract(self.runtime).sagemaker_frameworks)
        reason = (
            f"framework {self.framework.name} implements runtime {implements.value}, not "
            f"{self.runtime.value}: set runtime: {implements.value}, or a framework of runtime "
            f"{self.runtime.value} ({names})"
        )
        return [(("framework", "name"), reason)]

    def _source_problems(self) -> list[tuple[tuple[str, ...], str]]:
        found = []
        if (self.image is None) == (self.framework is None):
            found.append((("image",), "set exactly one of image or framework"))
        for variant_name, variant in self.variants.with_shadow():
            if variant.model_data and variant.model_package_arn:
                reason = "set exactly one of model_data or model_package_arn (SageMaker reads the package's)"
                found.append((("variants", variant_name), reason))
        uses_packages = any(v.model_package_arn for _, v in self.variants.with_shadow())
        if uses_packages and self.registry_access is None:
            found.append((("registry_access",), "is required with model_package_arn (keeps IAM tight)"))
        return found

    def _capacity_problems(self) -> list[tuple[tuple[str, ...], str]]:
        if self.serverless is not None:
            misfits = {
                "variants": self.variants.canary is not None,
                "data_capture": self.data_capture.sampling_percent > 0,
                "autoscaling": self.autoscaling is not None,
                "instance_type": self.instance_type is not None,
            }
            return [((key,), SERVERLESS_LIMITS) for key, wrong in misfits.items() if wrong]
        if self.instance_type is None:
            return [(("instance_type",), "is required unless the model is serverless")]
        if self.autoscaling is None:
            return [(("autoscaling",), "is required for instance-based endpoints")]
        found = self._bounds_problems(self.autoscaling)
        if self.autoscaling.target_invocations_per_instance_per_minute is None:
            reason = "is required for SageMaker target tracking"
            found.append((("autoscaling", "target_invocations_per_instance_per_minute"), reason))
        return found


class EksModel(ModelBase):
    """A model on the EKS cluster's GPU pool: a Deployment per variant behind its own load balancer."""

    backend: Literal[Backend.EKS] = Field(description="served on the EKS cluster")
    image: EcrDigestUri = Field(description="serving image by digest")
    autoscaling: AutoscalingSettings = Field(description="min and max replicas of each variant")
    eks: EksServingSettings = Field(description="its pool, what one replica needs, how it is exposed")

    @property
    def image_uri(self) -> str:
        return self.image

    @model_validator(mode="after")
    def _consistent(self) -> EksModel:
        found = self._bounds_problems(self.autoscaling) + self._runtime_problems()
        if (
            self.vllm is not None
            and self.runtime is Runtime.VLLM
            and self.eks.gpus != self.vllm.tensor_parallel_size
        ):
            reason = (
                f"a vllm replica uses one GPU per tensor-parallel rank: set eks.gpus to "
                f"{self.vllm.tensor_parallel_size} (got {self.eks.gpus})"
            )
            found.append((("eks", "gpus"), reason))
        if self.runtime is Runtime.TEI and self.eks.gpus != 1:
            found.append((("eks", "gpus"), f"a tei replica serves from one GPU (got {self.eks.gpus})"))
        if self.runtime is not Runtime.MODELFLEET:
            signal = (
                "vllm.target_waiting_per_replica"
                if self.runtime is Runtime.VLLM
                else "tei.target_queue_per_replica"
            )
            for key in sorted(MODELFLEET_SCALING & self.eks.model_fields_set):
                reason = (
                    f"applies to runtime modelfleet only: a {self.runtime.value} model scales on its own "
                    f"queue ({signal})"
                )
                found.append((("eks", key), reason))
        if self.variants.shadow is not None:
            reason = f"a shadow variant needs backend sagemaker ({SHADOW_RULES}); an eks model takes none"
            found.append((("variants", "shadow"), reason))
        found += self._package_problems() + self._capture_problems()
        _raise("EksModel", found)
        return self

    def _package_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """A package's artifact and image run on EKS as copied into the stack file by registry pin:
        aws-native's getModelPackage returns no InferenceSpecification for the program to read."""
        found = []
        for variant_name, variant in self.variants.items():
            if not variant.model_package_arn:
                continue
            if variant.model_data is None:
                reason = (
                    "backend eks runs the package's artifact and image from the stack file: run "
                    f"modelfleet registry pin --stack <env> --model {self.name} to copy them from the "
                    "registry (sets model_data, and image where it differs from the model's)"
                )
                found.append((("variants", variant_name, "model_package_arn"), reason))
        return found

    def _capture_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """Only our own container captures on EKS; drift compares what it captured."""
        found: list[tuple[tuple[str, ...], str]] = []
        capturing = self.data_capture.sampling_percent > 0
        if capturing and self.runtime is not Runtime.MODELFLEET:
            reason = (
                f"on EKS our own container captures requests; the {self.runtime.value} runtime's "
                "image does not: set 0, or serve the model on SageMaker"
            )
            found.append((("data_capture", "sampling_percent"), reason))
        if self.drift_on and not capturing:
            reason = (
                "compares captured requests with the baseline: set data_capture.sampling_percent "
                "above 0, or schedule: off"
            )
            found.append((("drift", "schedule"), reason))
        return found


def _backend_tag(entry: Any) -> str | None:
    """``backend=<value>``: the union's tag, spelled so it never reads as a key in an error's path."""
    value = entry.get("backend") if isinstance(entry, dict) else getattr(entry, "backend", None)
    return None if value is None else f"backend={value}"


# The catalog's entry: the backend decides which class, and so which keys apply.
ModelSettings = Annotated[
    Annotated[SageMakerModel, Tag(f"backend={Backend.SAGEMAKER}")]
    | Annotated[EksModel, Tag(f"backend={Backend.EKS}")],
    Discriminator(_backend_tag),
]
MODEL_CLASSES: dict[str, type[ModelBase]] = {
    Backend.SAGEMAKER.value: SageMakerModel,
    Backend.EKS.value: EksModel,
}
MODEL_ADAPTER: TypeAdapter[SageMakerModel | EksModel] = TypeAdapter(ModelSettings)


def parse_model(data: Any, *, region: str | None = None) -> SageMakerModel | EksModel:
    """One catalog entry, validated as its backend's class (raises pydantic's ValidationError)."""
    return MODEL_ADAPTER.validate_python(data, context={"region": region} if region else None)


def catalog_problems(models: Any, tier: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks across entries, on the raw list, so they report even when an entry is invalid."""
    if not isinstance(models, list):
        return []
    found: list[tuple[tuple[str | int, ...], str]] = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(models):
        if not isinstance(entry, dict):
            continue
        name = entry.get("name")
        if isinstance(name, str) and name in first_seen:
            found.append(
                (
                    (index, "name"),
                    f"duplicate model name '{name}' (also models[{first_seen[name]}])",
                )
            )
        elif isinstance(name, str):
            first_seen[name] = index
        if tier == "prod" and entry.get("off_hours") is not None:
            found.append(((index, "off_hours"), "prod endpoints are not scaled down off-hours"))
    return found
