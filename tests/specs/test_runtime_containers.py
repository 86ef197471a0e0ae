"""Each runtime's containers in a model pod, read whole without Pulumi."""

from __future__ import annotations

import json

import pytest

from infra.contracts import runtimes, serving
from infra.settings.catalog import parse_model
from infra.specs import runtime_containers
from infra.specs.k8s_pods import pod_spec
from tests.settings.test_catalog import DIGEST, model

WEIGHTS = {"stable": {"model_data": "s3://acme-models/chat/v1/", "instance_count": 2, "weight": 100}}
QWEN = {"num_hidden_layers": 28, "num_key_value_heads": 4, "head_dim": 128}


def eks(**changes):
    entry = model(name="chat", backend="eks", eks={"pool": "g6", **changes.pop("eks", {})}, **changes)
    return parse_model(entry, region="eu-west-1")


def llm(**vllm):
    tp = vllm.get("tensor_parallel_size", 1)
    block = {"parameters_billion": 7.6, "architecture": QWEN, "max_model_len": 16384, **vllm}
    return eks(runtime="vllm", variants=WEIGHTS, vllm=block, eks={"gpus": tp, "drain_seconds": 90})


def flag(args, name):
    return args[args.index(name) + 1]


def test_vllm_arguments_are_the_engine_settings():
    args = runtime_containers.vllm_args(
        llm(quantization="fp8", kv_cache_dtype="fp8", max_num_seqs=48), "s3://m/x/"
    )
    assert args[0] == "s3://m/x/"  # vllm serve's positional model
    assert flag(args, "--max-model-len") == "16384" and flag(args, "--max-num-seqs") == "48"
    assert flag(args, "--quantization") == "fp8" and flag(args, "--kv-cache-dtype") == "fp8"
    assert flag(args, "--gpu-memory-utilization") == "0.9" and flag(args, "--dtype") == "bfloat16"
    assert flag(args, "--served-model-name") == "chat"  # the catalog name unless set
    assert flag(args, "--shutdown-timeout") == "90"
    # The streamer's CPU buffer stays inside the pod's memory (8 GiB by default): a third of it.
    assert json.loads(flag(args, "--model-loader-extra-config")) == {"memory_limit": 8 * 1024**3 // 3}
    plain = runtime_containers.vllm_args(llm(), "s3://m/x/")
    assert "--quantization" not in plain and "--kv-cache-dtype" not in plain


def test_tensor_parallel_ranks_get_gpus_and_more_shared_memory():
    parts = runtime_containers.parts(llm(tensor_parallel_size=4), "s3://m/x/", DIGEST, "eu-west-1")
    assert parts.container["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert flag(parts.container["args"], "--tensor-parallel-size") == "4"
    shm = next(v for v in parts.volumes if v["name"] == "dshm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
    assert parts.init_containers == []  # the streamer reads S3 itself


@pytest.mark.parametrize(("runtime", "own"), [("vllm", None), ("vllm", 3600), ("tei", None), ("tei", 90)])
def test_the_startup_probe_covers_the_loading_budget(runtime, own):
    block = {"startup_timeout_seconds": own} if own else {}
    entry = (llm(**block) if runtime == "vllm"
             else eks(runtime="tei", variants=WEIGHTS, tei={"parameters_billion": 0.3, **block}))  # fmt: skip
    probe = runtime_containers.probes(entry)["startupProbe"]
    budget = own or runtimes.contract(runtime).startup_budget_seconds
    assert budget <= probe["periodSeconds"] * probe["failureThreshold"] < budget + probe["periodSeconds"]


def test_tei_syncs_its_weights_then_serves_them_on_the_contracts_port():
    entry = eks(runtime="tei", variants=WEIGHTS, tei={"parameters_billion": 0.335, "max_batch_tokens": 32768})
    parts = runtime_containers.parts(entry, "s3://acme-models/embed/v1/", DIGEST, "eu-west-1")
    (sync,) = parts.init_containers
    assert sync["command"] == [
        "aws",
        "s3",
        "sync",
        "s3://acme-models/embed/v1/",
        "/data/model",
        "--only-show-errors",
    ]
    args = parts.container["args"]
    assert flag(args, "--model-id") == "/data/model" and flag(args, "--max-batch-tokens") == "32768"
    assert int(flag(args, "--port")) == runtimes.TEI.port == parts.container["ports"][0]["containerPort"]
    weights = next(v for v in parts.volumes if v["name"] == "weights")
    assert weights["emptyDir"] == {"sizeLimit": "3Gi"}  # 0.335 B float32 weights and the tokenizer
    assert {"name": "weights", "mountPath": "/data", "readOnly": True} in parts.container["volumeMounts"]


def test_our_container_keeps_its_archive_and_contract():
    entry = eks(environment={"LOG_LEVEL": "info"})
    parts = runtime_containers.parts(entry, "s3://acme-models/fraud/v1/model.tar.gz", DIGEST, "eu-west-1")
    (fetch,) = parts.init_containers
    assert fetch["command"][:4] == ["aws", "s3", "cp", "s3://acme-models/fraud/v1/model.tar.gz"]
    env = {e["name"]: e["value"] for e in parts.container["env"]}
    assert env[serving.ENV_ARCHIVE] == fetch["command"][4] and env["LOG_LEVEL"] == "info"
    assert parts.container["startupProbe"]["httpGet"]["path"] == serving.HEALTH_PATH
    assert "args" not in parts.container


def test_every_container_of_every_runtime_is_hardened():
    pods = [
        pod_spec(llm(), "stable", "s3://m/x/", DIGEST, "eu-west-1"),
        pod_spec(eks(), "stable", "s3://m/x/model.tar.gz", DIGEST, "eu-west-1"),
        pod_spec(eks(runtime="tei", variants=WEIGHTS, tei={"parameters_billion": 0.1}), "stable", "s3://m/x/",
                 DIGEST, "eu-west-1"),
    ]  # fmt: skip
    for pod in pods:
        for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
            assert container["securityContext"] == runtime_containers.HARDENED
        mounted = {m["name"] for c in pod["spec"]["containers"] for m in c["volumeMounts"]}
        assert mounted <= {v["name"] for v in pod["spec"]["volumes"]}


def test_our_container_queues_a_request_for_at_most_half_its_p99_objective():
    entry = eks(slo={"p99_latency_ms": 120, "error_rate_percent": 1})
    parts = runtime_containers.parts(entry, "s3://acme-models/fraud/v1/model.tar.gz", DIGEST, "eu-west-1")
    env = {e["name"]: e["value"] for e in parts.container["env"]}
    assert env[serving.ENV_QUEUE_DEADLINE_MS] == "60"
