"""The serving dashboard: every runtime's series, by the names the contracts give."""

from __future__ import annotations

import re

from infra.contracts import runtimes, serving
from infra.specs.grafana import serving_dashboard


def expressions() -> list[str]:
    return [t["expr"] for p in serving_dashboard()["panels"] for t in p["targets"]]


def test_every_runtimes_signals_and_latencies_are_on_the_dashboard():
    text = "\n".join(expressions())
    for contract in runtimes.CONTRACTS.values():
        for signal in contract.signals:
            assert signal.metric in text, signal.metric
    for histogram in (runtimes.VLLM_TIME_TO_FIRST_TOKEN, runtimes.VLLM_INTER_TOKEN_LATENCY,
                      runtimes.TEI_REQUEST_DURATION, serving.METRIC_REQUEST_DURATION):  # fmt: skip
        assert f"{histogram}_bucket" in text
    assert f"{runtimes.VLLM_GENERATION_TOKENS}_total" in text
    assert "gpu_cache_usage_perc" not in text  # retired by vLLM


def test_panels_have_unique_ids_and_do_not_overlap():
    panels = serving_dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells = set()
    for panel in panels:
        box = panel["gridPos"]
        cover = {
            (x, y) for x in range(box["x"], box["x"] + box["w"]) for y in range(box["y"], box["y"] + box["h"])
        }
        assert not cells & cover, panel["title"]
        cells |= cover


def test_every_query_groups_by_model_namespace_and_variant():
    for expr in expressions():
        if not expr.startswith("avg by (Hostname"):
            assert re.search(r"by \(namespace, variant", expr), expr
