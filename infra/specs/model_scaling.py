"""How a model's Deployments scale on EKS: KEDA triggers on its runtime's own signal (pure data).

CPU says little about a GPU server, so each runtime scales on what its contract
names (``infra.contracts.runtimes``): vLLM on requests waiting for a batch slot and
on KV-cache use, TEI on its queue, our container on requests in flight (and CPU,
which its Python path does use). Prometheus scrapes them through each model's
PodMonitor; KEDA's ``prometheus`` trigger reads them (prometheus-adapter, which
served custom metrics to plain HPAs, is being retired). A summed queue is divided
per replica (``AverageValue``); an average share is compared as is (``Value``).
"""

from __future__ import annotations

from typing import Any

from infra.contracts import runtimes
from infra.contracts.runtimes import Runtime
from infra.settings.catalog import EksModel

MONITORING = "monitoring"  # kube-prometheus-stack's namespace
PROMETHEUS_URL = f"http://kube-prometheus-stack-prometheus.{MONITORING}.svc:9090"  # its Prometheus service
POLLING_SECONDS = 15
SCALE_DOWN_WINDOW_SECONDS = 300  # replicas leave only after five calm minutes


def targets(model: EksModel) -> dict[str, float]:
    """The signals the model scales on (``scale_on``, else all its runtime's), each with its target."""
    if model.runtime is Runtime.VLLM and model.vllm is not None:
        waiting, kv_cache = runtimes.VLLM.signals
        chosen = {
            waiting.metric: model.vllm.target_waiting_per_replica,
            kv_cache.metric: model.vllm.target_kv_cache_usage,
        }
        return {k: v for k, v in chosen.items() if k in (model.vllm.scale_on or chosen)}
    if model.runtime is Runtime.TEI and model.tei is not None:
        return {runtimes.TEI.signals[0].metric: model.tei.target_queue_per_replica}
    return {runtimes.MODELFLEET.signals[0].metric: model.eks.max_inflight_per_replica}


def triggers(model: EksModel, variant: str) -> list[dict[str, Any]]:
    """KEDA triggers for one variant's Deployment."""
    selector = f'namespace="{model.name}",variant="{variant}"'
    wanted = targets(model)
    found: list[dict[str, Any]] = [
        {
            "type": "prometheus",
            "name": signal.metric.replace(":", "-").replace("_", "-"),
            "metricType": signal.metric_type,
            "metadata": {
                "serverAddress": PROMETHEUS_URL,
                "query": signal.query(selector),
                "threshold": f"{wanted[signal.metric]:g}",  # KEDA's metadata values are strings
            },
        }
        for signal in runtimes.contract(model.runtime).signals
        if signal.metric in wanted
    ]
    if model.runtime is Runtime.MODELFLEET:
        value = str(model.eks.cpu_target_percent)
        found.append({"type": "cpu", "metricType": "Utilization", "metadata": {"value": value}})
    return found


def scaled_object_spec(deployment: str, low: int, high: int, scale_triggers: list[dict[str, Any]]) -> dict:
    """A ScaledObject's spec (keda.sh/v1alpha1) for one Deployment; KEDA makes and owns its HPA."""
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicaCount": low,
        "maxReplicaCount": high,
        "pollingInterval": POLLING_SECONDS,
        "advanced": {
            "horizontalPodAutoscalerConfig": {
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": SCALE_DOWN_WINDOW_SECONDS}}
            }
        },
        "triggers": scale_triggers,
    }
