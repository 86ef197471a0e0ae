"""The Grafana dashboard for models served on EKS (pure; returned as Grafana's JSON).

Serving panels read our container's Prometheus metrics (``modelfleet_*``), LLM
panels vLLM's (``vllm:*``), embedding panels TEI's (``te_*``), all named in
``infra.contracts``; GPU panels read the DCGM exporter (``DCGM_FI_*``). A panel
whose runtime the cluster does not serve stays empty.
"""

from __future__ import annotations

from typing import Any

from infra.contracts import runtimes, serving


def _panel(panel_id: int, title: str, expressions: list[tuple[str, str]], unit: str, x: int, y: int) -> dict:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"expr": expr, "legendFormat": legend, "refId": chr(ord("A") + i)}
            for i, (expr, legend) in enumerate(expressions)
        ],
    }


def _quantile(q: float, histogram: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({histogram}_bucket[5m])))"


def serving_dashboard() -> dict[str, Any]:
    by = "namespace, variant"
    legend = "{{namespace}} {{variant}}"
    latency = serving.METRIC_REQUEST_DURATION
    panels = [
        _panel(1, "Requests per second by status",
               [(f"sum by ({by}, status) (rate({serving.METRIC_REQUESTS}_total[5m]))", f"{legend} {{{{status}}}}")],
               "reqps", 0, 0),
        _panel(2, "Latency p50 / p99",
               [(_quantile(0.5, latency, by), f"p50 {legend}"), (_quantile(0.99, latency, by), f"p99 {legend}")],
               "s", 12, 0),
        _panel(3, "In-flight requests and queue depth",
               [(f"sum by ({by}) ({serving.METRIC_INFLIGHT})", f"in flight {legend}"),
                (f"sum by ({by}) ({serving.METRIC_QUEUE_DEPTH})", f"queued {legend}")], "short", 0, 8),
        _panel(4, "Batch size p50", [(_quantile(0.5, serving.METRIC_BATCH_SIZE, by), legend)], "short", 12, 8),
        _panel(5, "GPU utilization %",
               [("avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)", "{{Hostname}} gpu{{gpu}}")], "percent", 0, 16),
        _panel(6, "GPU memory used",
               [("avg by (Hostname, gpu) (DCGM_FI_DEV_FB_USED)", "{{Hostname}} gpu{{gpu}}")], "decmbytes", 12, 16),
        *llm_panels(7, by, legend, y=24),
    ]  # fmt: skip
    return {
        "title": "modelfleet serving",
        "uid": "modelfleet-serving",
        "schemaVersion": 39,
        "time": {"from": "now-3h", "to": "now"},
        "refresh": "30s",
        "tags": ["modelfleet", "serving", "gpu"],
        "panels": panels,
    }


def llm_panels(first_id: int, by: str, legend: str, y: int) -> list[dict[str, Any]]:
    """vLLM's and TEI's own series: time to first token, inter-token latency, tokens, queues, KV cache."""
    waiting, kv_cache = (s.metric for s in runtimes.VLLM.signals)
    (tei_queue,) = (s.metric for s in runtimes.TEI.signals)
    ttft, itl = runtimes.VLLM_TIME_TO_FIRST_TOKEN, runtimes.VLLM_INTER_TOKEN_LATENCY
    return [
        _panel(first_id, "LLM time to first token p50 / p99",
               [(_quantile(0.5, ttft, by), f"p50 {legend}"), (_quantile(0.99, ttft, by), f"p99 {legend}")],
               "s", 0, y),
        _panel(first_id + 1, "LLM inter-token latency p50 / p99",
               [(_quantile(0.5, itl, by), f"p50 {legend}"), (_quantile(0.99, itl, by), f"p99 {legend}")],
               "s", 12, y),
        _panel(first_id + 2, "LLM tokens per second",
               [(f"sum by ({by}) (rate({runtimes.VLLM_GENERATION_TOKENS}_total[5m]))", f"output {legend}"),
                (f"sum by ({by}) (rate({runtimes.VLLM_PROMPT_TOKENS}_total[5m]))", f"prompt {legend}")],
               "short", 0, y + 8),
        _panel(first_id + 3, "LLM waiting requests and KV cache use",
               [(f"sum by ({by}) ({waiting})", f"waiting {legend}"),
                (f"avg by ({by}) ({kv_cache})", f"KV cache {legend}")], "short", 12, y + 8),
        _panel(first_id + 4, "Embeddings: queue and request p99",
               [(f"sum by ({by}) ({tei_queue})", f"queued {legend}"),
                (_quantile(0.99, runtimes.TEI_REQUEST_DURATION, by), f"p99 s {legend}")], "short", 0, y + 16),
    ]  # fmt: skip
