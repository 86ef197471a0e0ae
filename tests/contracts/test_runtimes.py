"""The runtime contracts: complete, consistent with the serving contract, and as the runtimes publish them."""

from __future__ import annotations

import pytest

from infra.contracts import runtimes, serving
from infra.contracts.runtimes import Runtime


def test_every_runtime_has_a_contract():
    assert set(runtimes.CONTRACTS) == set(Runtime)


def test_our_container_keeps_the_serving_contract():
    assert (runtimes.MODELFLEET.port, runtimes.MODELFLEET.ready_path) == (serving.PORT, serving.HEALTH_PATH)
    assert runtimes.MODELFLEET.signals[0].metric == serving.METRIC_INFLIGHT


@pytest.mark.parametrize("contract", runtimes.CONTRACTS.values(), ids=lambda c: c.runtime.value)
def test_each_contract_is_complete(contract):
    assert 1024 <= contract.port <= 65535  # non-root containers cannot bind below 1024
    assert all(p.startswith("/") for p in (contract.health_path, contract.ready_path, contract.metrics_path))
    assert contract.startup_budget_seconds >= 60 and contract.requests and contract.signals


def test_vllm_and_tei_metric_names_as_their_sources_name_them():
    # vLLM 0.34.0 v1/metrics/loggers.py; the older vllm:gpu_cache_usage_perc is gone.
    assert [s.metric for s in runtimes.VLLM.signals] == [
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
    ]
    # TEI 1.9.3 router: a gauge of queued requests.
    assert [s.metric for s in runtimes.TEI.signals] == ["te_queue_size"]
    assert [s.metric_type for s in runtimes.VLLM.signals] == ["AverageValue", "Value"]


def test_sagemaker_frameworks_implement_their_runtime():
    assert runtimes.runtime_of_framework("huggingface-tei") is Runtime.TEI
    assert runtimes.runtime_of_framework("xgboost") is Runtime.MODELFLEET
    assert runtimes.runtime_of_framework("unknown") is None
