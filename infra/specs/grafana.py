"""The Grafana dashboard for models served on EKS (pure; returned as Grafana's JSON).

Serving panels read the container's Prometheus metrics (``modelfleet_*``);
GPU panels read the DCGM exporter (``DCGM_FI_*``).
"""

from __future__ import annotations

from typing import Any

from infra.contracts import serving


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
