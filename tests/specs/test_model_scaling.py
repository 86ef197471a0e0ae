"""KEDA triggers per runtime: the contract's metric names, the settings' targets, the right metric type."""

from __future__ import annotations

from infra.contracts import runtimes, serving
from infra.settings.catalog import parse_model
from infra.specs import model_scaling
from tests.settings.test_catalog import model

WEIGHTS = {"stable": {"model_data": "s3://acme-models/chat/v1/", "instance_count": 2, "weight": 100}}


def eks(**changes):
    return parse_model(model(name="chat", backend="eks", eks={"pool": "g6"}, **changes), region="eu-west-1")


def test_vllm_scales_on_its_queue_per_replica_and_on_kv_cache_as_a_share():
    llm = {"parameters_billion": 1, "max_model_len": 4096, "target_waiting_per_replica": 2.5,
           "architecture": {"num_hidden_layers": 16, "num_key_value_heads": 8, "head_dim": 64}}  # fmt: skip
    waiting, kv_cache = model_scaling.triggers(eks(runtime="vllm", variants=WEIGHTS, vllm=llm), "stable")
    assert waiting["metadata"]["query"] == 'sum(vllm:num_requests_waiting{namespace="chat",variant="stable"})'
    assert (waiting["metricType"], waiting["metadata"]["threshold"]) == ("AverageValue", "2.5")
    assert (kv_cache["metricType"], kv_cache["metadata"]["threshold"]) == ("Value", "0.8")
    assert [t["metadata"]["query"].split("(")[1].split("{")[0] for t in (waiting, kv_cache)] == [
        s.metric for s in runtimes.VLLM.signals
    ]
    assert all(t["metadata"]["serverAddress"] == model_scaling.PROMETHEUS_URL for t in (waiting, kv_cache))


def test_tei_scales_on_its_queue_only():
    (queue,) = model_scaling.triggers(
        eks(runtime="tei", variants=WEIGHTS, tei={"parameters_billion": 0.3}), "canary"
    )
    assert queue["metadata"]["query"] == 'sum(te_queue_size{namespace="chat",variant="canary"})'
    assert queue["metadata"]["threshold"] == "32"


def test_our_container_scales_on_in_flight_requests_and_cpu():
    inflight, cpu = model_scaling.triggers(eks(), "stable")
    assert inflight["metadata"]["query"].startswith(f"sum({serving.METRIC_INFLIGHT}{{")
    assert cpu == {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}


def test_a_scaled_object_targets_its_deployment_within_bounds():
    spec = model_scaling.scaled_object_spec("chat-stable", 1, 4, [])
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "chat-stable"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 4)
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"] == {
        "stabilizationWindowSeconds": 300
    }


def test_scale_on_picks_the_signals():
    llm = {"parameters_billion": 1, "max_model_len": 4096, "scale_on": ["vllm:kv_cache_usage_perc"],
           "architecture": {"num_hidden_layers": 16, "num_key_value_heads": 8, "head_dim": 64}}  # fmt: skip
    (only,) = model_scaling.triggers(eks(runtime="vllm", variants=WEIGHTS, vllm=llm), "stable")
    assert only["metadata"]["query"].startswith("avg(vllm:kv_cache_usage_perc{")
