"""The LLM and embedding runtimes in the shipped stacks' plans: what vLLM and TEI get, end to end."""

from __future__ import annotations

import json

import pytest

from infra.contracts import runtimes
from infra.specs import runtime_containers
from tests.conftest import stack_settings

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


def deployment(plan, name: str) -> dict:
    (found,) = [d for d in plan.of_type(DEPLOYMENT) if d.inputs["metadata"]["name"] == name]
    return found.inputs["spec"]["template"]["spec"]


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_vllm_gets_the_configured_context_and_tensor_parallelism(shipped_plans):
    model = next(m for m in stack_settings("staging").eks_models if m.name == "support-chat")
    server = deployment(shipped_plans["staging"], "support-chat-stable")["containers"][0]
    args = server["args"]
    assert args[0] == "s3://acme-ml-artifacts-staging/support-chat/qwen2.5-7b-instruct/2026-11-20/"
    assert int(flag(args, "--max-model-len")) == model.vllm.max_model_len == 8192
    assert int(flag(args, "--tensor-parallel-size")) == model.vllm.tensor_parallel_size
    assert int(server["resources"]["limits"]["nvidia.com/gpu"]) == model.vllm.tensor_parallel_size
    assert flag(args, "--load-format") == "runai_streamer"  # weights stream from S3 to the GPU
    assert flag(args, "--served-model-name") == "qwen2.5-7b-instruct"
    assert int(flag(args, "--port")) == runtimes.VLLM.port == server["ports"][0]["containerPort"]
    assert int(flag(args, "--shutdown-timeout")) == model.eks.drain_seconds == 120  # streams finish


@pytest.mark.parametrize(
    ("stack", "name"), [("staging", "support-chat-stable"), ("prod", "doc-embedder-stable")]
)
def test_the_startup_probe_allows_the_runtimes_loading_budget(shipped_plans, stack, name):
    model = next(m for m in stack_settings(stack).eks_models if name.startswith(m.name))
    probe = deployment(shipped_plans[stack], name)["containers"][0]["startupProbe"]
    budget = runtimes.contract(model.runtime).startup_budget_seconds
    assert probe["periodSeconds"] * probe["failureThreshold"] >= budget
    assert probe["httpGet"]["path"] == runtimes.contract(model.runtime).ready_path


def test_vllm_pods_have_shared_memory_and_writable_caches_only(shipped_plans):
    spec = deployment(shipped_plans["staging"], "support-chat-stable")
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "2Gi"}
    server = spec["containers"][0]
    assert {"name": "dshm", "mountPath": "/dev/shm"} in server["volumeMounts"]
    assert server["securityContext"] == runtime_containers.HARDENED  # read-only root, non-root
    env = {e["name"]: e["value"] for e in server["env"]}
    assert env["HOME"] == "/tmp" and env["AWS_REGION"] == "eu-west-1"


@pytest.mark.parametrize(("stack", "model"), [("staging", "support-chat"), ("prod", "doc-embedder")])
def test_the_scalers_read_the_contracts_metric_names(shipped_plans, stack, model):
    runtime = next(m.runtime for m in stack_settings(stack).eks_models if m.name == model)
    for scaler in shipped_plans[stack].of_type(SCALER):
        if scaler.inputs["metadata"]["namespace"] != model:
            continue
        queries = [
            t["metadata"]["query"] for t in scaler.inputs["spec"]["triggers"] if t["type"] == "prometheus"
        ]
        named = [s.metric for s in runtimes.contract(runtime).signals]
        assert [q.split("(", 1)[1].split("{", 1)[0] for q in queries] == named
        assert not any("gpu_cache_usage_perc" in q for q in queries)  # removed from vLLM


def test_vllm_scales_on_waiting_requests_per_replica_and_kv_cache_as_a_share(shipped_plans):
    scaler = next(
        s
        for s in shipped_plans["staging"].of_type(SCALER)
        if s.inputs["metadata"]["name"] == "support-chat-stable"
    )
    waiting, kv_cache = scaler.inputs["spec"]["triggers"]
    assert (waiting["metricType"], waiting["metadata"]["threshold"]) == ("AverageValue", "4")
    assert (kv_cache["metricType"], kv_cache["metadata"]["threshold"]) == ("Value", "0.8")
    assert (
        kv_cache["metadata"]["query"]
        == 'avg(vllm:kv_cache_usage_perc{namespace="support-chat",variant="stable"})'
    )


def test_load_balancers_check_each_runtimes_readiness_on_its_port(shipped_plans):
    groups = [
        g
        for g in shipped_plans["staging"].of_type(TARGET_GROUP)
        if g.inputs["tags"].get("model") == "support-chat"
    ]
    assert groups
    for group in groups:
        assert group.inputs["port"] == runtimes.VLLM.port
        assert group.inputs["healthCheck"]["path"] == runtimes.VLLM.ready_path
        assert group.inputs["deregistrationDelay"] == 120  # a stream may run that long


def test_public_runtime_images_come_through_the_accounts_pull_through_cache(shipped_plans):
    plan = shipped_plans["staging"]
    rules = {
        r.inputs["ecrRepositoryPrefix"]: r.inputs
        for r in plan.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    }
    assert {p: r["upstreamRegistryUrl"] for p, r in rules.items()} == {
        "ghcr": "ghcr.io", "docker-hub": "registry-1.docker.io"}  # fmt: skip
    assert all(
        r["credentialArn"].split(":secret:")[1].startswith("ecr-pullthroughcache/") for r in rules.values()
    )
    images = {
        c["image"]
        for d in plan.of_type(DEPLOYMENT)
        for c in d.inputs["spec"]["template"]["spec"]["containers"]
    }
    assert {i.split(".amazonaws.com/")[1].split("/")[0] for i in images} == set(rules)
    (policy,) = [
        p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "platform-image-mirrors-import"
    ]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Action"] == ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    assert sorted(statement["Resource"]) == [
        "arn:aws:ecr:eu-west-1:123456789012:repository/docker-hub/*",
        "arn:aws:ecr:eu-west-1:123456789012:repository/ghcr/*",
    ]
