"""Each runtime's containers and volumes in a model pod on EKS, as plain data (tested without mocks).

``k8s_pods.pod_spec`` puts them in the pod every runtime shares (service account,
GPU toleration, pool selector, zone spread, hardening). What differs is here:
- ``modelfleet``: an init container copies ``model.tar.gz`` from S3; our server unpacks it.
- ``vllm``: weights stream from S3 straight into GPU memory (``--load-format
  runai_streamer``, in the official image): no copy on local disk and no download
  before loading starts, and tensor-parallel ranks share the reads. Credentials come
  from the pod's Pod Identity through the AWS SDK's default chain. The streamer's CPU
  buffer is held to a third of the pod's memory (unbounded by default, it would take
  a whole weights file). ``/dev/shm`` is a memory-backed volume (PyTorch and NCCL use
  shared memory between ranks).
- ``tei``: TEI loads from a local directory only, so an init container syncs the
  weights from S3 first (``aws s3 sync``; the Mountpoint CSI driver would read lazily
  but adds a cluster add-on for little gain at embedding-model sizes).
Probes: startup allows the runtime's loading budget; readiness and liveness use the
contract's paths. Every container runs as a non-root user with a read-only root
file system, writing only to its volumes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from infra.contracts import runtimes, serving
from infra.contracts.runtimes import Runtime
from infra.settings.catalog import EksModel
from infra.specs import gpu_fit, stack_images

NON_ROOT = 10001
ARCHIVE = "/opt/ml/artifact/model.tar.gz"  # downloaded by the init container, unpacked by the server
WEIGHTS = "/data/model"  # TEI's model directory, synced by the init container
STARTUP_PERIOD_SECONDS = {Runtime.MODELFLEET: 5, Runtime.VLLM: 10, Runtime.TEI: 5}
HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": NON_ROOT,
    "capabilities": {"drop": ["ALL"]},
}
PRE_STOP_SECONDS = 10  # the ALB stops sending before the server starts draining
FETCHER_RESOURCES = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}


@dataclass(frozen=True)
class RuntimeParts:
    """What one runtime adds to a model pod."""

    init_containers: list[dict[str, Any]]  # run to completion before the server starts
    container: dict[str, Any]  # the server
    volumes: list[dict[str, Any]]  # every volume the containers mount


def startup_seconds(model: EksModel) -> int:
    """The loading time the startup probe allows: the model's own setting, else its runtime's budget."""
    block = model.vllm if model.runtime is Runtime.VLLM else model.tei
    own = block.startup_timeout_seconds if block is not None else None
    return own or runtimes.contract(model.runtime).startup_budget_seconds


def probes(model: EksModel) -> dict[str, Any]:
    """Startup covers loading (period x failures >= the budget); then readiness and liveness."""
    contract = runtimes.contract(model.runtime)
    period = STARTUP_PERIOD_SECONDS[model.runtime]
    ready = {"httpGet": {"path": contract.ready_path, "port": "http"}, "timeoutSeconds": 2}
    alive = {"httpGet": {"path": contract.health_path, "port": "http"}, "timeoutSeconds": 2}
    if model.runtime is Runtime.VLLM:  # /health waits behind a busy engine loop
        alive["timeoutSeconds"] = 5
    return {
        "startupProbe": {**ready, "periodSeconds": period,
                         "failureThreshold": math.ceil(startup_seconds(model) / period)},
        "readinessProbe": {**ready, "periodSeconds": 5, "failureThreshold": 2},
        "livenessProbe": {**alive, "periodSeconds": 10, "failureThreshold": 3},
    }  # fmt: skip


def _resources(model: EksModel) -> dict[str, Any]:
    eks, gpu = model.eks, {"nvidia.com/gpu": str(model.eks.gpus)}
    return {
        "requests": {"cpu": str(eks.cpu), "memory": f"{eks.memory_gib}Gi", **gpu},
        "limits": {"memory": f"{eks.memory_gib}Gi", **gpu},
    }


def _env(pairs: dict[str, str], model: EksModel) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs.items()] + [
        {"name": k, "value": v} for k, v in sorted(model.environment.items())
    ]


def _server(model: EksModel, image: str, args: list[str], env: dict[str, str], mounts: list[dict]) -> dict:
    return {
        "name": "server",
        "image": image,
        **({"args": args} if args else {}),
        "ports": [{"name": "http", "containerPort": runtimes.contract(model.runtime).port}],
        "env": _env(env, model),
        "resources": _resources(model),
        **probes(model),
        "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SECONDS}}},
        "volumeMounts": mounts,
        "securityContext": HARDENED,
    }


def _fetcher(name: str, command: list[str], mount: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "image": stack_images.artifact_fetcher(),  # by digest once the table has it
        "command": command,
        "env": [{"name": "HOME", "value": "/tmp"}],
        "volumeMounts": [mount, {"name": "tmp", "mountPath": "/tmp"}],
        "securityContext": HARDENED,
        "resources": FETCHER_RESOURCES,
    }


def modelfleet_parts(model: EksModel, model_data: str, image: str) -> RuntimeParts:
    env = {
        serving.PORT_ENV: str(serving.PORT),
        serving.ENV_ARCHIVE: ARCHIVE,
        serving.ENV_DRAIN_SECONDS: str(model.eks.drain_seconds),
        serving.ENV_QUEUE_DEADLINE_MS: str(serving.queue_deadline_ms(model.slo.p99_latency_ms)),
    }
    mounts = [
        {"name": "artifact", "mountPath": "/opt/ml/artifact", "readOnly": True},
        {"name": "model", "mountPath": "/opt/ml/model"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    fetch = _fetcher("fetch-model", ["aws", "s3", "cp", model_data, ARCHIVE, "--only-show-errors"],
                     {"name": "artifact", "mountPath": "/opt/ml/artifact"})  # fmt: skip
    return RuntimeParts(
        [fetch],
        _server(model, image, [], env, mounts),
        [{"name": name, "emptyDir": {}} for name in ("artifact", "model", "tmp")],
    )


def streamer_buffer_bytes(model: EksModel) -> int:
    """The S3 streamer's CPU buffer: a third of the pod's memory, so loading never runs it out."""
    return int(model.eks.memory_gib * 1024**3 / 3)


def vllm_args(model: EksModel, model_data: str) -> list[str]:
    """``vllm serve`` arguments (the image's entrypoint): the model from S3, then the engine."""
    llm = model.vllm
    assert llm is not None
    args = [
        model_data,
        "--load-format", "runai_streamer",
        "--served-model-name", model.served_model_name,
        "--port", str(runtimes.VLLM.port),
        "--max-model-len", str(llm.max_model_len),
        "--tensor-parallel-size", str(llm.tensor_parallel_size),
        "--gpu-memory-utilization", f"{llm.gpu_memory_utilization:g}",
        "--dtype", llm.dtype,
        "--max-num-seqs", str(llm.max_num_seqs),
        # SIGTERM: finish streams for up to this long, then abort (0, the default, aborts at once).
        "--shutdown-timeout", str(model.eks.drain_seconds),
        "--model-loader-extra-config", json.dumps({"memory_limit": streamer_buffer_bytes(model)}),
    ]  # fmt: skip
    if llm.quantization:
        args += ["--quantization", llm.quantization]
    if llm.kv_cache_dtype != "auto":
        args += ["--kv-cache-dtype", llm.kv_cache_dtype]
    return args


def vllm_parts(model: EksModel, model_data: str, image: str, region: str) -> RuntimeParts:
    llm = model.vllm
    assert llm is not None
    env = {
        "HOME": "/tmp",
        "USER": "model-server",  # torch's cache paths ask for a user name; UID 10001 has no passwd entry
        "HF_HOME": "/tmp/hf",
        "VLLM_CACHE_ROOT": "/tmp/vllm",
        "AWS_REGION": region,  # the streamer's S3 client
    }
    # Shared memory between ranks: 2 GiB (vLLM's Kubernetes guide) and 2 GiB more per extra rank.
    shm = 2 * llm.tensor_parallel_size
    mounts = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "dshm", "mountPath": "/dev/shm"}]
    volumes = [
        {"name": "tmp", "emptyDir": {"sizeLimit": "20Gi"}},  # compile and kernel caches
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm}Gi"}},
    ]
    return RuntimeParts([], _server(model, image, vllm_args(model, model_data), env, mounts), volumes)


def tei_args(model: EksModel) -> list[str]:
    """``text-embeddings-router`` arguments (the image's entrypoint) for the synced weights."""
    tei = model.tei
    assert tei is not None
    return [
        "--model-id", WEIGHTS,
        "--served-model-name", model.served_model_name,
        "--hostname", "0.0.0.0",  # the pod's own interfaces; the NetworkPolicy limits who connects
        "--port", str(runtimes.TEI.port),
        "--dtype", tei.dtype,
        "--max-batch-tokens", str(tei.max_batch_tokens),
        "--max-concurrent-requests", str(tei.max_concurrent_requests),
        "--max-client-batch-size", str(tei.max_client_batch_size),
        "--json-output",
    ]  # fmt: skip


def tei_parts(model: EksModel, model_data: str, image: str) -> RuntimeParts:
    tei = model.tei
    assert tei is not None
    # Stored weights are often float32 whatever the serving dtype: 4 bytes a parameter, plus tokenizer.
    weights_gib = math.ceil(gpu_fit.weights_gib(tei.parameters_billion, "float32") + 1)
    sync = _fetcher("fetch-weights", ["aws", "s3", "sync", model_data, WEIGHTS, "--only-show-errors"],
                    {"name": "weights", "mountPath": "/data"})  # fmt: skip
    env = {"HOME": "/tmp", "HUGGINGFACE_HUB_CACHE": "/tmp/hf"}
    mounts = [
        {"name": "weights", "mountPath": "/data", "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes = [
        {"name": "weights", "emptyDir": {"sizeLimit": f"{weights_gib}Gi"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    return RuntimeParts([sync], _server(model, image, tei_args(model), env, mounts), volumes)


def parts(model: EksModel, model_data: str, image: str, region: str) -> RuntimeParts:
    """The runtime's containers and volumes for one variant."""
    if model.runtime is Runtime.VLLM:
        return vllm_parts(model, model_data, image, region)
    if model.runtime is Runtime.TEI:
        return tei_parts(model, model_data, image)
    return modelfleet_parts(model, model_data, image)
