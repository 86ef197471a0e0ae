"""The per-worker tally publishes exactly what per-request metric calls would have."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="modelfleet-test-metrics-"))

from modelfleet_serving.metrics import Tally
from prometheus_client import CollectorRegistry, Counter, Histogram

BUCKETS = (0.001, 0.01, 0.1, 1, 10)
OBSERVATIONS = [(200, 0.0005), (200, 0.001), (400, 0.002), (200, 0.5), (503, 1.0), (200, 99.0), (200, 0.01)]
BATCHES = [1, 3, 3, 7, 300]


def metrics(prefix: str):
    registry = CollectorRegistry()
    requests = Counter(f"{prefix}_requests", "", ["status"], registry=registry)
    latency = Histogram(f"{prefix}_latency", "", buckets=BUCKETS, registry=registry)
    batch = Histogram(f"{prefix}_batch", "", buckets=(1, 2, 4, 8), registry=registry)
    return registry, requests, latency, batch


def samples(registry: CollectorRegistry, prefix: str) -> dict:
    return {
        (s.name.removeprefix(prefix), tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_a_published_tally_equals_observing_each_request():
    direct, requests, latency, batch = metrics("direct")
    for status, seconds in OBSERVATIONS:
        requests.labels(str(status)).inc()
        latency.observe(seconds)
    for rows in BATCHES:
        batch.observe(rows)

    tallied, *shared = metrics("tallied")
    tally = Tally(*shared)
    for status, seconds in OBSERVATIONS[:3]:
        tally.request(status, seconds)
    tally.publish()  # publishing twice adds, never repeats
    for status, seconds in OBSERVATIONS[3:]:
        tally.request(status, seconds)
    for rows in BATCHES:
        tally.batch(rows)
    tally.publish()
    tally.publish()  # nothing new: nothing added

    assert samples(tallied, "tallied") == samples(direct, "direct")
