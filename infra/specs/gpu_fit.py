"""Whether a model fits its GPUs, before anything is deployed (pure arithmetic; tested without mocks).

A served LLM needs, on each of its ``tensor_parallel_size`` GPUs, its share of the
weights and of the KV cache, plus room for activations and CUDA graphs. vLLM
claims ``gpu_memory_utilization`` of each GPU's memory for all of that and fails
at start when the weights leave no room for one sequence of ``max_model_len``
tokens; an embedding server needs its weights and a working margin. This module
does that arithmetic with the memory CUDA reports (not the marketed size), so a
70B model on one 24 GB A10G is refused at ``modelfleet plan``, not at 3 a.m.

The KV cache per token is 2 (K and V) x layers x KV heads x head size x bytes per
value, from the model's ``config.json`` (``num_hidden_layers``,
``num_key_value_heads``, ``head_dim``, or ``hidden_size / num_attention_heads``).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.contracts import instances

GIB = 1024**3
# Bytes per stored value, by the dtype names vLLM's --dtype/--quantization and TEI's --dtype use.
DTYPE_BYTES: dict[str, float] = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "fp8": 1,
    "awq": 0.5,  # 4-bit weights; scales and zeros add a few percent, inside the margin below
    "gptq": 0.5,
}
# Per GPU, besides weights and KV cache: the activation peak vLLM profiles at start, CUDA
# graphs and the CUDA context. An estimate: vLLM measures the real figure when it starts.
OVERHEAD_GIB_PER_GPU = 2.0
# Memory per GPU as CUDA reports it (nvidia-smi's total), by GPU model and marketed GB:
# a "24 GB" A10G holds 23,028 MiB, so the marketed size would promise 1.5 GiB too many.
USABLE_MIB: dict[tuple[str, int], int] = {
    ("T4", 16): 15_360,
    ("A10G", 24): 23_028,
    ("L4", 24): 23_034,
    ("L40S", 48): 46_068,
    ("A100", 40): 40_960,
    ("A100", 80): 81_920,
    ("H100", 80): 81_559,
    ("H200", 141): 143_771,
}
TENSOR_PARALLEL_SIZES = (1, 2, 4, 8)
UTILIZATION = 0.9  # the share of each GPU a runtime may claim, unless the model says otherwise


def usable_gib(shape: instances.InstanceType) -> float:
    """One GPU's memory as CUDA sees it (the marketed size minus 6 % when the model is not listed)."""
    assert shape.gpu_model is not None, shape.name
    mib = USABLE_MIB.get((shape.gpu_model, shape.gpu_memory_gib))
    return mib / 1024 if mib else shape.gpu_memory_gib * 0.94


def kv_bytes_per_token(layers: int, kv_heads: int, head_dim: int, value_bytes: float) -> float:
    """K and V for one token across every layer."""
    return 2 * layers * kv_heads * head_dim * value_bytes


@dataclass(frozen=True)
class MemoryNeed:
    """What a model asks of each GPU it is split across."""

    weights_gib: float  # all the weights, before the split
    kv_cache_gib: float  # the KV cache the model must hold at once, before the split
    tensor_parallel_size: int  # GPUs the weights and cache are split across

    @property
    def per_gpu_gib(self) -> float:
        return (self.weights_gib + self.kv_cache_gib) / self.tensor_parallel_size + OVERHEAD_GIB_PER_GPU

    def with_tensor_parallel(self, size: int) -> MemoryNeed:
        return MemoryNeed(self.weights_gib, self.kv_cache_gib, size)

    def describe(self) -> str:
        split = f" / {self.tensor_parallel_size} GPUs" if self.tensor_parallel_size > 1 else ""
        return (
            f"{self.weights_gib:.1f} GiB of weights + {self.kv_cache_gib:.1f} GiB of KV cache{split} "
            f"+ {OVERHEAD_GIB_PER_GPU:g} GiB working memory = {self.per_gpu_gib:.1f} GiB per GPU"
        )


def weights_gib(parameters_billion: float, dtype: str) -> float:
    return parameters_billion * 1e9 * DTYPE_BYTES[dtype] / GIB


def budget_gib(shape: instances.InstanceType, utilization: float) -> float:
    """What the runtime may use of one GPU."""
    return usable_gib(shape) * utilization


def fits(need: MemoryNeed, shape: instances.InstanceType, utilization: float) -> bool:
    return need.tensor_parallel_size <= shape.gpus and need.per_gpu_gib <= budget_gib(shape, utilization)


def fitting_types(need: MemoryNeed, utilization: float, split: bool = True, limit: int = 4) -> list[str]:
    """The smallest size of each GPU family that fits, cheapest GPUs first, with the split it needs.

    With ``split`` the suggestion may raise tensor parallelism up to the instance's GPUs;
    without it (an embedding server uses one GPU) only the need as given is tried.
    """
    found: dict[str, tuple[float, str]] = {}
    for shape in sorted(instances.INSTANCE_TYPES.values(), key=lambda s: (s.gpus, s.vcpus)):
        if not shape.gpus or shape.family in found:
            continue
        sizes = (
            [t for t in TENSOR_PARALLEL_SIZES if t <= shape.gpus] if split else [need.tensor_parallel_size]
        )
        for size in sizes:
            if fits(need.with_tensor_parallel(size), shape, utilization):
                note = (
                    f" (tensor_parallel_size {size})" if split and size != need.tensor_parallel_size else ""
                )
                found[shape.family] = (
                    shape.gpus * usable_gib(shape),
                    f"{shape.name.removeprefix('ml.')}{note}",
                )
                break
    return [name for _, name in sorted(found.values())][:limit]


def refusal(
    need: MemoryNeed, shape: instances.InstanceType, utilization: float, split: bool, ec2: bool
) -> str | None:
    """Why ``need`` cannot run on ``shape``, with the types that fit; None when it fits.

    ``ec2`` names instance types as EC2 does (an EKS pool's), else as SageMaker does (``ml.``).
    """
    if fits(need, shape, utilization):
        return None
    name = shape.name.removeprefix("ml.") if ec2 else shape.name
    suggestions = [s if ec2 else f"ml.{s}" for s in fitting_types(need, utilization, split=split)]
    hint = (
        f"; instance types that fit: {', '.join(suggestions)}"
        if suggestions
        else "; no GPU instance type in the catalog fits: quantize it or shorten max_model_len"
    )
    if need.tensor_parallel_size > shape.gpus:
        return f"needs {need.tensor_parallel_size} GPUs per replica and {name} has {shape.gpus}{hint}"
    return (
        f"does not fit {name}: it needs {need.describe()}, and its {shape.gpu_model} GPUs offer "
        f"{budget_gib(shape, utilization):.1f} GiB each at {utilization:g} utilization{hint}"
    )
