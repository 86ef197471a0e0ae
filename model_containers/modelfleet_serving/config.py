"""Server settings from the environment, as SageMaker and Kubernetes pass them."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
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


class ConfigError(ValueError):
    """Settings the server cannot start with; the message names every problem."""


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {value!r})") from None


def _number(
    environ: Mapping[str, str], name: str, default: float, low: float, high: float, errors: list[str]
) -> float:
    """``name`` as a float in ``[low, high]``, else ``default``; a problem is added to ``errors``."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails this too
        errors.append(f"{name} must be a number from {low:g} to {high:g} (got {text!r})")
        return default
    return value


@dataclass(frozen=True)
class CaptureSettings:
    """Data capture on EKS (``capture.py``): what share of answers, where to, how often."""

    percent: float  # of 200 answers, 0-100
    bucket: str
    prefix: str  # ends in "/"; hour folders go below it
    kms_key_id: str | None = None  # None: the bucket's default key
    flush_seconds: float = 60.0
    max_buffer_records: int = 10_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> CaptureSettings | None:
        """None when capture is off (percent unset or 0); ``ConfigError`` naming every bad setting."""
        errors: list[str] = []
        percent = _number(environ, contract.ENV_CAPTURE_PERCENT, 0.0, 0, 100, errors)
        if errors:
            raise ConfigError("; ".join(errors))
        if percent == 0:
            return None
        bucket = environ.get(contract.ENV_CAPTURE_BUCKET, "").strip()
        prefix = environ.get(contract.ENV_CAPTURE_PREFIX, "").strip()
        if not bucket:
            errors.append(f"{contract.ENV_CAPTURE_BUCKET} is required when capture is on")
        if not prefix.endswith("/") or prefix.startswith("/"):
            errors.append(
                f"{contract.ENV_CAPTURE_PREFIX} must be a key prefix ending in '/', "
                f"such as 'fraud-scorer/eks/stable/' (got {prefix!r})"
            )
        flush_seconds = _number(environ, contract.ENV_CAPTURE_FLUSH_SECONDS, 60.0, 0.01, 3600, errors)
        max_buffer = _number(environ, contract.ENV_CAPTURE_MAX_BUFFER, 10_000, 1, 10_000_000, errors)
        if max_buffer != int(max_buffer):
            errors.append(f"{contract.ENV_CAPTURE_MAX_BUFFER} must be a whole number of records")
        if errors:
            raise ConfigError("; ".join(errors))
        return cls(
            percent=percent,
            bucket=bucket,
            prefix=prefix,
            kms_key_id=environ.get(contract.ENV_CAPTURE_KMS_KEY_ID, "").strip() or None,
            flush_seconds=flush_seconds,
            max_buffer_records=int(max_buffer),
        )


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
    queue_deadline_ms: float = 0.0  # 0: the queue is bounded by rows only
    cache_entries: int = 0  # 0: the response cache is off
    cache_bytes: int = 64 * 1024 * 1024
    cache_ttl_seconds: float = 300.0
    graceful_shutdown_seconds: int = 25
    handler: str | None = None  # "module:Class", else chosen from the model dir
    capture: CaptureSettings | None = None  # None: no data capture (SageMaker captures its own)

    @classmethod
    def from_env(cls) -> ServerConfig:
        problems: list[str] = []
        queue_deadline_ms = _number(os.environ, contract.ENV_QUEUE_DEADLINE_MS, 0.0, 0, 3_600_000, problems)
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(
            port=_int(contract.PORT_ENV, contract.PORT),
            workers=_int("SAGEMAKER_MODEL_SERVER_WORKERS", usable_cpus()),
            model_dir=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")),
            max_payload_bytes=_int("SAGEMAKER_MAX_PAYLOAD_IN_MB", 6) * 1024 * 1024,
            timeout_seconds=float(_int("SAGEMAKER_MODEL_SERVER_TIMEOUT", 60)),
            max_batch_size=_int(contract.ENV_MAX_BATCH_SIZE, 32),
            max_delay_ms=float(os.environ.get(contract.ENV_MAX_DELAY_MS, "0") or 0),
            max_queue_rows=_int(contract.ENV_MAX_QUEUE_ROWS, 256),
            queue_deadline_ms=queue_deadline_ms,
            cache_entries=_int(contract.ENV_CACHE_ENTRIES, 0),
            cache_bytes=_int(contract.ENV_CACHE_MB, 64) * 1024 * 1024,
            cache_ttl_seconds=float(_int(contract.ENV_CACHE_TTL_SECONDS, 300)),
            graceful_shutdown_seconds=_int(contract.ENV_DRAIN_SECONDS, 25),
            handler=os.environ.get(contract.ENV_HANDLER) or None,
            capture=CaptureSettings.from_env(),
        )
