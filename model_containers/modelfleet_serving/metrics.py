"""Prometheus metrics, summed across worker processes (prometheus_client multiprocess mode).

The names are what the EKS HPA and the Grafana dashboard read:
``modelfleet_inflight_requests`` and ``modelfleet_queue_depth`` (gauges),
``modelfleet_requests_total`` by status, latency and batch-size histograms, and
``modelfleet_capture_records_total`` by outcome when data capture is on.
``PROMETHEUS_MULTIPROC_DIR`` must be set before this module is imported.

Every multiprocess write takes a lock, checks the pid and writes an mmap'd file;
a counter and a histogram per request cost about a tenth of the server's CPU.
So a worker counts in a ``Tally`` (plain integers) and adds the sums to the
shared values in one go: at most ``PUBLISH_SECONDS`` later, at every scrape
and at shutdown. Counts are exact; only their arrival is batched.
"""

from __future__ import annotations

from bisect import bisect_left

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

from modelfleet_serving import contract

# Far below the 15 s scrape interval: another worker's figures are at most this old.
PUBLISH_SECONDS = 1.0

REQUESTS = Counter(contract.METRIC_REQUESTS, "Invocations answered, by HTTP status", ["status"])
LATENCY = Histogram(
    contract.METRIC_REQUEST_DURATION,
    f"Time from request to response for {contract.INVOKE_PATH}",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BATCH_SIZE = Histogram(
    contract.METRIC_BATCH_SIZE, "Rows per model call", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)
INFLIGHT = Gauge(contract.METRIC_INFLIGHT, "Invocations being served", multiprocess_mode="livesum")
QUEUE_DEPTH = Gauge(contract.METRIC_QUEUE_DEPTH, "Rows waiting for the model", multiprocess_mode="livesum")
READY = Gauge(contract.METRIC_MODEL_LOADED, "1 once the model is loaded", multiprocess_mode="liveall")
# Counted by the capture flusher thread, off the request path (so not through a Tally).
CAPTURE_RECORDS = Counter(
    contract.METRIC_CAPTURE_RECORDS, "Captured records: written to S3, dropped or failed", ["outcome"]
)


class HistogramTally:
    """Observations of one unlabelled histogram, counted here until ``publish``.

    Adds to the histogram's own bucket and sum values (prometheus-client is pinned),
    which is exactly what ``observe`` does one observation at a time.
    """

    def __init__(self, histogram: Histogram):
        self.histogram = histogram
        self.bounds = histogram._upper_bounds  # ends with +Inf; "le" buckets
        self.counts = [0] * len(self.bounds)
        self.total = 0.0

    def add(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value, as observe()
        self.total += value

    def publish(self) -> None:
        if not any(self.counts):
            return
        for bucket, count in zip(self.histogram._buckets, self.counts, strict=True):
            if count:
                bucket.inc(count)
        self.histogram._sum.inc(self.total)
        self.counts = [0] * len(self.bounds)
        self.total = 0.0


class Tally:
    """One worker's request and batch counts, published to the shared metrics in one go."""

    def __init__(
        self, requests: Counter = REQUESTS, latency: Histogram = LATENCY, batch: Histogram = BATCH_SIZE
    ):
        self.requests = requests
        self.by_status: dict[int, int] = {}
        self.latency = HistogramTally(latency)
        self.batch_size = HistogramTally(batch)

    def request(self, status: int, seconds: float) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self.latency.add(seconds)

    def batch(self, rows: int) -> None:
        self.batch_size.add(rows)

    def publish(self) -> None:
        by_status, self.by_status = self.by_status, {}
        for status, count in by_status.items():
            self.requests.labels(str(status)).inc(count)
        self.latency.publish()
        self.batch_size.publish()


def exposition() -> bytes:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
