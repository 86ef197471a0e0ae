"""A --url target: the runtime, request and served name, from the flags or the model's catalog entry."""

from __future__ import annotations

import argparse

import pytest

from infra.contracts.runtimes import Request, Runtime
from infra.ops.errors import InvalidInput
from infra.ops.runtime_request import served_model_name
from infra.ops.url_target import url_target
from infra.specs.runtime_containers import tei_args, vllm_args
from tests.conftest import ROOT, SHIPPED_STACKS, stack_settings
from tests.ops.conftest import edit_stack

URL = "http://127.0.0.1:8000"


def flags(**given) -> argparse.Namespace:
    names = (
        "stack",
        "model",
        "stack_file",
        "runtime",
        "served_model_name",
        "task",
        "payload",
        "content_type",
    )
    return argparse.Namespace(**dict.fromkeys(names) | given)


def test_the_served_name_is_the_one_each_shipped_pod_is_started_with():
    checked = 0
    for stack in SHIPPED_STACKS:
        for model in stack_settings(stack).eks_models:  # pods: SageMaker's LMI takes no flags
            if model.runtime is Runtime.MODELFLEET:
                assert served_model_name(model) is None
                continue
            args = vllm_args(model, "s3://weights/") if model.runtime is Runtime.VLLM else tei_args(model)
            assert served_model_name(model) == args[args.index("--served-model-name") + 1], model.name
            checked += 1
    assert checked >= 4  # doc-embedder in every stack, support-chat in staging


@pytest.mark.parametrize(
    ("model", "runtime", "request_kind", "served"),
    [
        ("support-chat", Runtime.VLLM, Request.CHAT, "qwen2.5-7b-instruct"),
        ("doc-embedder", Runtime.TEI, Request.EMBEDDINGS, "doc-embedder"),
        ("fraud-scorer", Runtime.MODELFLEET, Request.INVOCATIONS, None),
    ],
)
def test_with_stack_and_model_the_catalog_entry_says_what_to_send(
    model, runtime, request_kind, served, monkeypatch
):
    monkeypatch.chdir(ROOT)
    target, entry = url_target(flags(stack="staging", model=model), URL)
    assert (target.runtime, target.request, target.served_model_name) == (runtime, request_kind, served)
    assert entry.name == model and target.origin == f"stack staging, model {model}"


def test_a_catalog_reranker_is_sent_rerank_requests(project_copy, monkeypatch):
    edit_stack(project_copy, "dev", "doc-embedder", {"tei.task": "rerank"})
    monkeypatch.chdir(project_copy)
    target, _ = url_target(flags(stack="dev", model="doc-embedder"), URL)
    assert (target.runtime, target.request) == (Runtime.TEI, Request.RERANK)


def test_our_containers_catalog_sample_is_its_request(monkeypatch):
    monkeypatch.chdir(ROOT)
    target, entry = url_target(flags(stack="dev", model="fraud-scorer"), URL)
    sample = entry.rollout
    assert (target.payload, target.content_type, target.accept) == (
        sample.sample_payload, sample.sample_content_type, sample.sample_accept,
    )  # fmt: skip


def test_without_a_stack_the_flags_say_it_and_the_runtime_is_ours_by_default():
    target, entry = url_target(flags(), URL)
    assert (target.runtime, target.request, entry) == (Runtime.MODELFLEET, Request.INVOCATIONS, None)
    target, _ = url_target(flags(runtime="tei", task="rerank", served_model_name="bge"), URL)
    assert (target.request, target.served_model_name) == (Request.RERANK, "bge")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"stack": "staging"}, "--stack and --model go together"),
        ({"stack_file": "x.yaml"}, "--stack-file goes with --stack and --model"),
        ({"stack": "staging", "model": "support-chat", "runtime": "vllm"}, "--runtime: the model's catalog entry"),
        ({"stack": "staging", "model": "doc-embedder", "task": "rerank"}, "--task: the model's catalog entry"),
        ({"stack": "staging", "model": "doc-embedder", "content_type": "text/csv"},
         "--content-type goes with runtime modelfleet \\(model doc-embedder runs tei\\)"),
        ({"stack": "staging", "model": "nope"}, "stack 'staging' has no model 'nope'"),
        ({"runtime": "vllm", "task": "embed"}, "--task goes with --runtime tei \\(got vllm\\)"),
        ({"served_model_name": "x"}, "--served-model-name goes with --runtime vllm or tei"),
        ({"runtime": "tei", "content_type": "text/csv"}, "--content-type goes with --runtime modelfleet"),
    ],
)  # fmt: skip
def test_flags_that_contradict_or_repeat_the_catalog_are_refused(given, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(InvalidInput, match=message):
        url_target(flags(**given), URL)
