"""Each serving runtime's contract, in one place: what the platform may rely on a runtime doing.

Port, health and readiness paths, how long loading may take, where metrics are and
which of them autoscaling reads, the request each runtime answers and which
SageMaker frameworks implement it. Pod specs, probes, the load balancer's health
check, scrape config, the autoscaler, the dashboards, the smoke test and the
SageMaker side all read these; nothing else spells them. Metrics are served on the
HTTP port (TEI's HTTP image ignores --prometheus-port), which the PodMonitor scrapes.

Sources, read at the versions pinned in ``infra/specs/stack_images.py``:
- vLLM 0.34.0: ``engine/arg_utils.py`` (engine flags), ``entrypoints/common/cli_args.py``
  (``--port`` 8000), ``entrypoints/launchers/`` (the socket listens only once the
  engine has loaded, so ``/health`` answers readiness too; ``--shutdown-timeout`` drains
  on SIGTERM), ``v1/metrics/loggers.py`` (metric names: ``vllm:kv_cache_usage_perc``
  replaced ``vllm:gpu_cache_usage_perc``, which is gone, as is
  ``vllm:time_per_output_token_seconds``, now ``vllm:inter_token_latency_seconds``).
- Text Embeddings Inference 1.9.3: ``router/src/main.rs`` (flags; ``--dtype`` float16 or
  float32), ``router/src/http/server.rs`` (routes; the model loads before the port
  listens; ``/metrics`` on the main port: ``--prometheus-port`` is the gRPC image's),
  ``router/src/shutdown.rs`` (SIGTERM waits for requests in flight).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from infra.contracts import serving


class Runtime(StrEnum):
    MODELFLEET = "modelfleet"
    VLLM = "vllm"
    TEI = "tei"


class Request(StrEnum):
    """The request a runtime answers: what smoke and loadtest send."""

    INVOCATIONS = "invocations"  # POST /invocations with a JSON or CSV body (SageMaker's contract)
    CHAT = "chat"  # POST /v1/chat/completions (OpenAI)
    EMBEDDINGS = "embeddings"  # POST /v1/embeddings (OpenAI)
    RERANK = "rerank"  # POST /rerank (TEI)


# Where each request is sent (POST), and OpenAI's model list, which names what vLLM serves.
REQUEST_PATHS: dict[Request, str] = {
    Request.INVOCATIONS: serving.INVOKE_PATH,
    Request.CHAT: "/v1/chat/completions",
    Request.EMBEDDINGS: "/v1/embeddings",
    Request.RERANK: "/rerank",
}
MODELS_PATH = "/v1/models"


@dataclass(frozen=True)
class ScalingSignal:
    """A Prometheus series autoscaling reads, and how it is read."""

    metric: str  # the exported name, as Prometheus stores it
    aggregate: str  # how the model's pods combine: sum (a queue) or avg (a share)

    @property
    def metric_type(self) -> str:
        """KEDA's metricType: a summed queue is divided per replica, an average share is not."""
        return "AverageValue" if self.aggregate == "sum" else "Value"

    def query(self, selector: str) -> str:
        """PromQL over the pods ``selector`` matches (e.g. ``namespace="chat",variant="stable"``)."""
        return f"{self.aggregate}({self.metric}{{{selector}}})"


@dataclass(frozen=True)
class RuntimeContract:
    """What one runtime promises the platform."""

    runtime: Runtime
    port: int  # the HTTP port the container listens on
    health_path: str  # liveness: the process is alive
    ready_path: str  # readiness: the model is loaded and answers
    metrics_path: str  # Prometheus exposition
    startup_budget_seconds: int  # loading time the startup probe allows by default
    requests: tuple[Request, ...]  # what it answers, the first being what smoke sends
    signals: tuple[ScalingSignal, ...]  # what autoscaling reads, first the primary one
    sagemaker_frameworks: tuple[str, ...]  # SageMaker DLCs (framework.name) that implement it


MODELFLEET = RuntimeContract(
    runtime=Runtime.MODELFLEET,
    port=serving.PORT,
    health_path=serving.HEALTH_PATH,
    ready_path=serving.HEALTH_PATH,  # /ping answers 200 only once the model is loaded
    metrics_path=serving.METRICS_PATH,
    startup_budget_seconds=600,
    requests=(Request.INVOCATIONS,),
    signals=(ScalingSignal(serving.METRIC_INFLIGHT, "sum"),),  # requests in flight
    sagemaker_frameworks=("pytorch", "tensorflow", "xgboost", "sklearn", "sagemaker-tritonserver"),
)

VLLM = RuntimeContract(
    runtime=Runtime.VLLM,
    port=8000,
    health_path="/health",
    ready_path="/health",  # the port listens only once the engine has loaded the weights
    metrics_path="/metrics",
    startup_budget_seconds=1800,  # tens of GB of weights, then CUDA graph capture
    requests=(Request.CHAT,),
    signals=(
        ScalingSignal("vllm:num_requests_waiting", "sum"),  # requests queued for a batch slot
        ScalingSignal("vllm:kv_cache_usage_perc", "avg"),  # share of the KV cache in use, 0-1
    ),
    sagemaker_frameworks=("vllm", "djl-lmi", "huggingface-llm"),
)

TEI = RuntimeContract(
    runtime=Runtime.TEI,
    port=8080,  # --port: the image's own 80 needs root to bind
    health_path="/health",
    ready_path="/health",  # the port listens only once the model has loaded
    metrics_path="/metrics",
    startup_budget_seconds=600,
    requests=(Request.EMBEDDINGS, Request.RERANK),
    signals=(ScalingSignal("te_queue_size", "sum"),),  # requests queued for a batch
    sagemaker_frameworks=("huggingface-tei",),
)


@dataclass(frozen=True)
class SageMakerLlmContainer:
    """The Deep Learning Container an LLM runs in on SageMaker, and how its engine options are spelled.

    The SDK resolves the image from (framework, version); the version is pinned here because the
    SDK resolves most LLM frameworks only with an explicit version. Sources: djl-serving's
    ``serving/docs/lmi`` (``user_guides/vllm_user_guide.md``: async mode is the default since LMI
    v17; ``OPTION_<ARG>`` passes a vLLM engine argument; ``HF_MODEL_ID`` may be an S3 prefix that
    the container downloads itself; a pre-quantized model must not set ``OPTION_QUANTIZE``) and
    ``engines/python/setup/djl_python/properties_manager/vllm_rb_properties.py`` (``OPTION_DTYPE``
    takes vLLM's names; ``OPTION_MAX_ROLLING_BATCH_SIZE`` is vLLM's max_num_seqs).
    """

    framework: str  # sagemaker.core.image_uris framework name
    version: str  # the pinned DLC version
    weights: str  # the variable naming the weights' S3 prefix
    tensor_parallel: str  # GPUs one copy splits the model across
    max_model_len: str  # longest prompt + completion
    dtype: str  # compute dtype, in vLLM's names
    max_num_seqs: str  # sequences batched at once
    gpu_memory_utilization: str  # share of each GPU the engine may claim
    runtime_quantization: str  # on-the-fly quantization (fp8 only; pre-quantized weights say their own)
    kv_cache_dtype: str  # fp8 KV cache


# LMI 0.38.0 (djl-inference:0.38.0-lmi29.0.0-cu130 in the SDK's djl-lmi.json): vLLM in async mode.
LMI = SageMakerLlmContainer(
    framework="djl-lmi",
    version="0.38.0",
    weights="HF_MODEL_ID",
    tensor_parallel="OPTION_TENSOR_PARALLEL_DEGREE",
    max_model_len="OPTION_MAX_MODEL_LEN",
    dtype="OPTION_DTYPE",
    max_num_seqs="OPTION_MAX_ROLLING_BATCH_SIZE",
    gpu_memory_utilization="OPTION_GPU_MEMORY_UTILIZATION",
    runtime_quantization="OPTION_QUANTIZE",
    kv_cache_dtype="OPTION_KV_CACHE_DTYPE",
)
# What each runtime runs in on a SageMaker inference component (runtime modelfleet brings its own image).
SAGEMAKER_LLM_CONTAINERS: dict[Runtime, SageMakerLlmContainer] = {Runtime.VLLM: LMI}


CONTRACTS: dict[Runtime, RuntimeContract] = {c.runtime: c for c in (MODELFLEET, VLLM, TEI)}

# Series the dashboards read besides the scaling signals (vLLM 0.34.0 v1/metrics/loggers.py;
# TEI 1.9.3 router). A counter is scraped with the suffix _total, a histogram as _bucket series.
VLLM_TIME_TO_FIRST_TOKEN = "vllm:time_to_first_token_seconds"  # histogram
VLLM_INTER_TOKEN_LATENCY = "vllm:inter_token_latency_seconds"  # histogram
VLLM_GENERATION_TOKENS = "vllm:generation_tokens"  # counter
VLLM_PROMPT_TOKENS = "vllm:prompt_tokens"  # counter
TEI_REQUEST_DURATION = "te_request_duration"  # histogram, seconds

# Names a runtime used to export, and what replaced them (vLLM's metrics docs and source).
RETIRED_METRICS = {
    "vllm:gpu_cache_usage_perc": "vllm:kv_cache_usage_perc",  # deprecated in 0.9, removed since
    "vllm:time_per_output_token_seconds": "vllm:inter_token_latency_seconds",  # renamed in 0.11
}


def signal_problem(runtime: Runtime | str, name: str) -> str | None:
    """Why ``name`` is not a scaling signal of ``runtime`` (None when it is one)."""
    known = [s.metric for s in contract(runtime).signals]
    if name in known:
        return None
    retired = RETIRED_METRICS.get(name)
    why = (
        f"{name} is no longer exported; use {retired}" if retired else f"{runtime} exports no signal '{name}'"
    )
    return f"{why} (signals of runtime {Runtime(runtime).value}: {', '.join(known)})"


def contract(runtime: Runtime | str) -> RuntimeContract:
    return CONTRACTS[Runtime(runtime)]


def runtime_of_framework(framework: str) -> Runtime | None:
    """The runtime a SageMaker framework implements (None: not one the catalog knows)."""
    return next((c.runtime for c in CONTRACTS.values() if framework in c.sagemaker_frameworks), None)
