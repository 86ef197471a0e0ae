"""Prometheus metrics, summed across worker processes (prometheus_client multiprocess mode).

The names are what the EKS HPA and the Grafana dashboard read:
``modelfleet_inflight_requests`` and ``modelfleet_queue_depth`` (gauges),
``modelfleet_requests_total`` by status, and latency and batch-size histograms.
``PROMETHEUS_MULTIPROC_DIR`` must be set before this module is imported.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

REQUESTS = Counter("modelfleet_requests", "Invocations answered, by HTTP status", ["status"])
LATENCY = Histogram(
    "modelfleet_request_duration_seconds",
    "Time from request to response for /invocations",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BATCH_SIZE = Histogram(
    "modelfleet_batch_size", "Rows per model call", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)
INFLIGHT = Gauge("modelfleet_inflight_requests", "Invocations being served", multiprocess_mode="livesum")
QUEUE_DEPTH = Gauge("modelfleet_queue_depth", "Rows waiting for the model", multiprocess_mode="livesum")
READY = Gauge("modelfleet_model_loaded", "1 once the model is loaded", multiprocess_mode="liveall")


_BY_STATUS: dict[int, object] = {}


def requests_with(status: int):
    """The counter child for one status, looked up once: ``labels()`` costs on the hot path."""
    child = _BY_STATUS.get(status)
    if child is None:
        child = _BY_STATUS[status] = REQUESTS.labels(str(status))
    return child


def exposition() -> bytes:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
