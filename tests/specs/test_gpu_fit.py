"""The GPU memory fit: weights, KV cache and working memory against what CUDA reports."""

from __future__ import annotations

import pytest

from infra.contracts import instances
from infra.specs import gpu_fit

LLAMA_70B_KV = gpu_fit.kv_bytes_per_token(80, 8, 128, 2)  # config.json of a 70B GQA model


def test_weights_are_parameters_times_bytes_per_value():
    assert gpu_fit.weights_gib(70, "float16") == pytest.approx(130.39, abs=0.01)
    assert gpu_fit.weights_gib(8, "fp8") == pytest.approx(7.45, abs=0.01)
    assert gpu_fit.weights_gib(8, "awq") == pytest.approx(gpu_fit.weights_gib(8, "bfloat16") / 4)


def test_kv_cache_per_token_counts_k_and_v_in_every_layer():
    assert LLAMA_70B_KV == 2 * 80 * 8 * 128 * 2 == 327_680  # 320 KiB a token


def test_usable_memory_is_what_cuda_reports_not_the_marketed_size():
    a10g = instances.lookup("ml.g5.xlarge")
    assert gpu_fit.usable_gib(a10g) == pytest.approx(22.49, abs=0.01)  # 23,028 MiB, not 24 GiB
    assert gpu_fit.budget_gib(a10g, 0.9) == pytest.approx(20.24, abs=0.01)


def test_a_70b_fp16_model_does_not_fit_one_a10g_and_the_refusal_names_what_does():
    need = gpu_fit.MemoryNeed(gpu_fit.weights_gib(70, "float16"), LLAMA_70B_KV * 8192 / gpu_fit.GIB, 1)
    shape = instances.lookup("ml.g5.xlarge")
    assert not gpu_fit.fits(need, shape, 0.9)
    why = gpu_fit.refusal(need, shape, 0.9, split=True, ec2=True)
    assert why.startswith("does not fit g5.xlarge: it needs 130.4 GiB of weights")
    assert "A10G GPUs offer 20.2 GiB each" in why
    # Every suggestion really fits, at the split it names.
    for suggestion in gpu_fit.fitting_types(need, 0.9):
        name, _, note = suggestion.partition(" ")
        split = int(note.strip("()").split()[-1]) if note else 1
        assert gpu_fit.fits(need.with_tensor_parallel(split), instances.lookup(f"ml.{name}"), 0.9), suggestion
    assert "ml.p4d.24xlarge" in gpu_fit.refusal(need, shape, 0.9, split=True, ec2=False)


def test_an_8b_model_fits_one_l4_until_the_kv_cache_asks_too_much():
    per_seq = gpu_fit.kv_bytes_per_token(32, 8, 128, 2) * 8192 / gpu_fit.GIB  # 1 GiB a full sequence
    weights, l4 = gpu_fit.weights_gib(8, "bfloat16"), instances.lookup("ml.g6.xlarge")
    assert gpu_fit.fits(gpu_fit.MemoryNeed(weights, per_seq, 1), l4, 0.9)
    assert not gpu_fit.fits(gpu_fit.MemoryNeed(weights, 4 * per_seq, 1), l4, 0.9)


def test_more_ranks_than_the_instance_has_gpus_is_refused_as_such():
    need = gpu_fit.MemoryNeed(10, 1, 4)
    why = gpu_fit.refusal(need, instances.lookup("ml.g5.2xlarge"), 0.9, split=True, ec2=False)
    assert why.startswith("needs 4 GPUs per replica and ml.g5.2xlarge has 1")


def test_no_suggestion_when_nothing_in_the_catalog_fits():
    need = gpu_fit.MemoryNeed(gpu_fit.weights_gib(2000, "float32"), 0, 1)
    assert gpu_fit.fitting_types(need, 0.9) == []
    why = gpu_fit.refusal(need, instances.lookup("ml.p5.48xlarge"), 0.9, split=True, ec2=False)
    assert why.endswith("no GPU instance type in the catalog fits: quantize it or shorten max_model_len")
