"""Runtimes in the catalog: each runtime's block, its weights, its framework, and whether it fits its GPUs."""

from __future__ import annotations

import pytest

from infra.contracts.runtimes import CONTRACTS, Runtime, runtime_of_framework
from infra.settings.catalog import FrameworkSettings
from infra.settings.platform import load_settings
from tests.settings.test_catalog import model
from tests.settings.test_cluster import config, eks_model, problems

QWEN_7B = {"num_hidden_layers": 28, "num_key_value_heads": 4, "head_dim": 128}
LLAMA_70B = {"num_hidden_layers": 80, "num_key_value_heads": 8, "head_dim": 128}
WEIGHTS = {
    "stable": {"model_data": "s3://acme-models/chat/v1/", "instance_count": 2, "weight": 90},
    "canary": {"model_data": "s3://acme-models/chat/v2/", "instance_count": 2, "weight": 10},
}


def llm(**vllm) -> dict:
    entry = eks_model(gpus=vllm.get("tensor_parallel_size", 1))
    entry.update(name="chat", runtime="vllm", variants=WEIGHTS,
                 vllm={"parameters_billion": 7.6, "architecture": QWEN_7B, "max_model_len": 8192, **vllm})  # fmt: skip
    return entry


def embedder(**tei) -> dict:
    return eks_model() | {"runtime": "tei", "variants": WEIGHTS, "tei": {"parameters_billion": 0.6, **tei}}


def test_an_llm_and_an_embedder_on_the_pool_are_valid():
    settings = load_settings("dev", config(models=[llm(), embedder() | {"name": "embed"}]))
    chat, embed = settings.eks_models
    assert (chat.runtime, embed.runtime) == (Runtime.VLLM, Runtime.TEI)
    assert chat.vllm.max_model_len == 8192 and embed.tei.task == "embed"


@pytest.mark.parametrize(
    ("entry", "path", "text"),
    [
        (eks_model() | {"runtime": "vllm"}, "modelfleet:models[0].vllm", "is required with runtime vllm"),
        (llm() | {"tei": {"parameters_billion": 1}}, "modelfleet:models[0].tei",
         "applies to runtime tei only (this model's runtime is vllm)"),
        (llm() | {"variants": {"stable": {"model_data": "s3://acme-models/chat/v1/model.tar.gz", "instance_count": 2}}},
         "modelfleet:models[0].variants.stable.model_data", "loads weights from a directory: end the S3 URI with '/'"),
        (llm(tensor_parallel_size=2) | {"eks": {"pool": "g5", "gpus": 1}}, "modelfleet:models[0].eks.gpus",
         "set eks.gpus to 2 (got 1)"),
        (llm(max_model_len=100), "modelfleet:models[0].vllm.max_model_len", "must be between 256 and 1048576 (got 100)"),
        (llm(dtype="int3"), "modelfleet:models[0].vllm.dtype", "must be one of bfloat16, float16, float32 (got 'int3')"),
        (embedder() | {"eks": {"pool": "g5", "gpus": 2}}, "modelfleet:models[0].eks.gpus",
         "a tei replica serves from one GPU"),
        (embedder() | {"eks": {"pool": "g5", "max_inflight_per_replica": 16}},
         "modelfleet:models[0].eks.max_inflight_per_replica",
         "applies to runtime modelfleet only: a tei model scales on its own queue (tei.target_queue_per_replica)"),
        (embedder(task="classify"), "modelfleet:models[0].tei.task", "must be one of embed, rerank (got 'classify')"),
        (llm() | {"runtime": "triton"}, "modelfleet:models[0].runtime", "must be one of modelfleet, vllm, tei (got 'triton')"),
    ],
)  # fmt: skip
def test_a_bad_runtime_setting_names_its_key_path(entry, path, text):
    found = problems(config(models=[entry]))
    assert any(p.startswith(path) and text in p for p in found), found


def test_a_70b_fp16_model_on_a_24gb_pool_is_refused_with_types_that_fit():
    entry = llm(parameters_billion=70, dtype="float16", architecture=LLAMA_70B)
    (found,) = problems(config(models=[entry]))
    assert found.startswith(
        "modelfleet:models[0].vllm: does not fit g5.xlarge: it needs 130.4 GiB of weights"
    )
    assert "instance types that fit: g5.48xlarge (tensor_parallel_size 8)" in found
    assert "ml." not in found  # an EKS pool's types are EC2's names


def test_the_kv_cache_for_the_asked_concurrency_counts_in_the_fit():
    assert load_settings("dev", config(models=[llm(full_context_sequences=2)]))
    (found,) = problems(config(models=[llm(full_context_sequences=16)]))
    assert "GiB of KV cache" in found and found.startswith("modelfleet:models[0].vllm: does not fit")


def test_the_fit_is_checked_on_the_pools_least_capable_node():
    pools = [{"name": "g5", "instance_types": ["g5.12xlarge", "g5.xlarge"]}]
    (found,) = problems(config(pools=pools, models=[llm(parameters_billion=14, architecture=LLAMA_70B)]))
    assert "does not fit g5.xlarge" in found


def test_a_sagemaker_llm_of_its_own_endpoint_is_sent_to_a_shared_one_and_still_fit_checked():
    entry = model(instance_type="ml.g5.xlarge", runtime="vllm", variants={"stable": WEIGHTS["stable"] | {"weight": 100}},
                  vllm={"parameters_billion": 70, "dtype": "float16", "architecture": LLAMA_70B, "max_model_len": 4096})  # fmt: skip
    found = problems(config(models=[entry]))
    assert any(p.startswith("modelfleet:models[0].vllm: does not fit ml.g5.xlarge") and "ml.p4d.24xlarge" in p
               for p in found), found  # fmt: skip
    refusal = (
        "modelfleet:models[0].runtime: runtime vllm on backend sagemaker runs as an inference component: "
        "place it on a shared endpoint"
    )
    assert any(p.startswith(refusal) for p in found), found


def test_a_framework_implements_its_runtime_only():
    entry = model(image=None, framework={"name": "huggingface-tei", "version": "1.4"})
    found = problems(config(models=[entry]))
    assert any(p.startswith("modelfleet:models[0].framework.name: framework huggingface-tei implements runtime "
                            "tei, not modelfleet: set runtime: tei") for p in found), found  # fmt: skip


def test_every_sagemaker_framework_implements_exactly_one_runtime():
    names = FrameworkSettings.model_fields["name"].annotation.__args__
    assert all(runtime_of_framework(name) is not None for name in names)
    claimed = [f for c in CONTRACTS.values() for f in c.sagemaker_frameworks]
    assert sorted(claimed) == sorted(set(claimed)) == sorted(names)


def test_a_wrong_or_retired_signal_name_is_refused_with_the_runtimes_signals():
    found = problems(config(models=[llm(scale_on=["vllm:gpu_cache_usage_perc", "queue_len"])]))
    assert found == [
        "modelfleet:models[0].vllm.scale_on[0]: vllm:gpu_cache_usage_perc is no longer exported; use "
        "vllm:kv_cache_usage_perc (signals of runtime vllm: vllm:num_requests_waiting, vllm:kv_cache_usage_perc)",
        "modelfleet:models[0].vllm.scale_on[1]: vllm exports no signal 'queue_len' (signals of runtime vllm: "
        "vllm:num_requests_waiting, vllm:kv_cache_usage_perc)",
    ]
    (twice,) = problems(config(models=[embedder(scale_on=["te_queue_size", "te_queue_size"])]))
    assert twice.startswith("modelfleet:models[0].tei.scale_on: names each signal once")
