"""What serves a model: the runtime, and each runtime's own settings (``vllm:``, ``tei:``).

``runtime:`` names the serving contract a model's container keeps: ``modelfleet``
(our container, or on SageMaker a framework DLC keeping SageMaker's inference
contract), ``vllm`` (OpenAI-compatible LLM serving) or ``tei`` (text embeddings
and rerankers). On SageMaker, ``framework:`` is then the Deep Learning Container
that implements that contract; on EKS the image does. Each LLM or embedding
runtime takes a block of its own, validated here with key paths; the contract
itself (port, paths, metric names, flags) is ``infra.contracts.runtimes``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from infra.contracts.runtimes import Runtime, signal_problem
from infra.settings.types import Strict
from infra.specs.gpu_fit import TENSOR_PARALLEL_SIZES, UTILIZATION


def _signal_of(runtime: Runtime) -> AfterValidator:
    """One scaling signal, checked against the runtime's contract (and its retired names)."""

    def check(name: str) -> str:
        if problem := signal_problem(runtime, name):
            raise PydanticCustomError("signal", problem)
        return name

    return AfterValidator(check)


def _once(names: list[str]) -> list[str]:
    if len(set(names)) != len(names):
        raise PydanticCustomError("signal", "names each signal once (got {got})", {"got": ", ".join(names)})
    return names


class LlmArchitecture(Strict):
    """The three numbers of the model's config.json that size its KV cache."""

    num_hidden_layers: int = Field(ge=1, le=1024, description="config.json num_hidden_layers")
    num_key_value_heads: int = Field(
        ge=1, le=1024, description="config.json num_key_value_heads (num_attention_heads without GQA)"
    )
    head_dim: int = Field(
        ge=8, le=1024, description="config.json head_dim, else hidden_size / num_attention_heads"
    )


class VllmSettings(Strict):
    """A large language model behind vLLM's OpenAI-compatible server."""

    served_model_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$",
        description="the name clients pass as `model`; default: the catalog name",
    )
    parameters_billion: float = Field(gt=0, le=2000, description="parameter count, in billions")
    dtype: Literal["bfloat16", "float16", "float32"] = Field(
        "bfloat16", description="compute dtype (vLLM --dtype)"
    )
    quantization: Literal["fp8", "awq", "gptq"] | None = Field(
        None, description="quantized weights (vLLM --quantization); they set the bytes per weight"
    )
    kv_cache_dtype: Literal["auto", "fp8"] = Field(
        "auto", description="KV cache values: the compute dtype, or fp8 for half the memory"
    )
    architecture: LlmArchitecture = Field(description="sizes the KV cache in the GPU fit check")
    max_model_len: int = Field(ge=256, le=1_048_576, description="longest prompt + completion, tokens")
    max_num_seqs: int = Field(64, ge=1, le=4096, description="sequences a replica batches at once")
    full_context_sequences: int = Field(
        1,
        ge=1,
        le=4096,
        description="sequences of max_model_len the KV cache must hold at once (the fit check)",
    )
    tensor_parallel_size: Literal[TENSOR_PARALLEL_SIZES] = Field(  # type: ignore[valid-type]
        1, description="GPUs one replica splits the model across; equals eks.gpus"
    )
    gpu_memory_utilization: float = Field(
        UTILIZATION, ge=0.5, le=0.95, description="share of each GPU's memory vLLM may claim"
    )
    startup_timeout_seconds: int | None = Field(
        None, ge=60, le=7200, description="how long loading may take; default: the runtime's budget"
    )
    target_waiting_per_replica: float = Field(
        4, gt=0, le=10_000, description="scale out above this many queued requests per replica"
    )
    target_kv_cache_usage: float = Field(
        0.8, gt=0, le=1, description="scale out above this share of the KV cache in use (0-1)"
    )
    scale_on: Annotated[list[Annotated[str, _signal_of(Runtime.VLLM)]], AfterValidator(_once)] | None = Field(
        None,
        min_length=1,
        description="the signals autoscaling reads; default: vllm:num_requests_waiting and "
        "vllm:kv_cache_usage_perc",
    )


class TeiSettings(Strict):
    """A text embedding or reranker model behind Text Embeddings Inference."""

    task: Literal["embed", "rerank"] = Field("embed", description="embeddings or reranking")
    parameters_billion: float = Field(gt=0, le=50, description="parameter count, in billions")
    dtype: Literal["float16", "float32"] = Field("float16", description="TEI --dtype")
    max_batch_tokens: int = Field(16_384, ge=512, le=1_048_576, description="tokens per batch (TEI)")
    max_concurrent_requests: int = Field(512, ge=1, le=100_000, description="requests in flight before 429")
    max_client_batch_size: int = Field(32, ge=1, le=4096, description="inputs one request may carry")
    target_queue_per_replica: float = Field(
        32, gt=0, le=100_000, description="scale out above this many queued requests per replica"
    )
    scale_on: Annotated[list[Annotated[str, _signal_of(Runtime.TEI)]], AfterValidator(_once)] | None = Field(
        None, min_length=1, description="the signals autoscaling reads; default: te_queue_size"
    )
    startup_timeout_seconds: int | None = Field(
        None, ge=60, le=7200, description="how long loading may take; default: the runtime's budget"
    )
