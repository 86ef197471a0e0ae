"""Server settings from the environment, as SageMaker and Kubernetes pass them."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from modelfleet_serving import contract


def usable_cpus() -> int:
    """CPUs this process may really use: its affinity, capped by the cgroup quota.

    ``os.cpu_count()`` reports the host's CPUs, which in a container limited to
    two cores would start far too many workers.
    """
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


@dataclass(frozen=True)
class ServerConfig:
    port: int = contract.PORT
    workers: int = 1
    model_dir: Path = Path("/opt/ml/model")
    max_payload_bytes: int = 6 * 1024 * 1024
    timeout_seconds: float = 60.0
    max_batch_size: int = 32
    max_delay_ms: float = 0.0
    max_queue_rows: int = 256
    cache_entries: int = 0  # 0: the response cache is off
    cache_bytes: int = 64 * 1024 * 1024
    cache_ttl_seconds: float = 300.0
    graceful_shutdown_seconds: int = 25
    handler: str | None = None  # "module:Class", else chosen from the model dir

    @classmethod
    def from_env(cls) -> ServerConfig:
        return cls(
            port=_int(contract.PORT_ENV, contract.PORT),
            workers=_int("SAGEMAKER_MODEL_SERVER_WORKERS", usable_cpus()),
            model_dir=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")),
            max_payload_bytes=_int("SAGEMAKER_MAX_PAYLOAD_IN_MB", 6) * 1024 * 1024,
            timeout_seconds=float(_int("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60)),
            max_batch_size=_int(contract.ENV_MAX_BATCH_SIZE, 32),
            max_delay_ms=float(os.environ.get(contract.ENV_MAX_DELAY_MS, "0") or 0),
            max_queue_rows=_int(contract.ENV_MAX_QUEUE_ROWS, 256),
            cache_entries=_int(contract.ENV_CACHE_ENTRIES, 0),
            cache_bytes=_int(contract.ENV_CACHE_MB, 64) * 1024 * 1024,
            cache_ttl_seconds=float(_int(contract.ENV_CACHE_TTL_SECONDS, 300)),
            graceful_shutdown_seconds=_int(contract.ENV_DRAIN_SECONDS, 25),
            handler=os.environ.get(contract.ENV_HANDLER) or None,
        )
