"""One request to a model's runtime at a URL, as the catalog describes it: shared by ``smoke --url``
and the EKS driver's smoke test through a load balancer.

The catalog entry says which runtime serves the model (vLLM, TEI or our container),
the name vLLM and TEI serve it under, TEI's task and our container's sample request.
Nothing here knows where the URL comes from, so nothing here resolves a stack.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from infra.contracts.runtimes import Request, Runtime
from infra.ops.protocols.client import Clock, Exchange, exchange, served_models
from infra.ops.protocols.requests import RuntimeTarget, build, request_for
from infra.settings.catalog import ModelBase


def served_model_name(model: ModelBase) -> str | None:
    """The name a vLLM or TEI pod serves the model under (its ``--served-model-name``); None for ours."""
    return None if model.runtime is Runtime.MODELFLEET else model.served_model_name


def catalog_target(
    model: ModelBase,
    base_url: str,
    payload: str | None = None,
    content_type: str | None = None,
    origin: str = "",
) -> RuntimeTarget:
    """What the model's catalog entry says to send to ``base_url``; ``payload`` replaces the sample."""
    if model.runtime is not Runtime.MODELFLEET:
        task = model.tei.task if model.runtime is Runtime.TEI and model.tei is not None else None
        request = request_for(model.runtime, task)
        return RuntimeTarget(
            base_url, model.runtime, request, served_model_name(model), payload, origin=origin
        )
    sample = model.rollout
    return RuntimeTarget(
        base_url,
        Runtime.MODELFLEET,
        request_for(Runtime.MODELFLEET, None),
        None,
        payload or sample.sample_payload,
        content_type or sample.sample_content_type,
        sample.sample_accept,
        tuple(sample.sample_response_keys),
        origin,
    )


async def smoke(
    target: RuntimeTarget,
    timeout_seconds: float,
    clock: Clock = time.perf_counter,
    client_options: Mapping[str, Any] | None = None,
) -> tuple[Exchange, str | None]:
    """One request and its judged answer, and the served name it named (chat asks the server first).

    ``client_options`` go to ``httpx.AsyncClient``: headers, TLS verification, event hooks.
    """
    options = dict(client_options or {})
    async with httpx.AsyncClient(base_url=target.base_url, timeout=timeout_seconds, **options) as http:
        model = target.served_model_name
        if target.request is Request.CHAT and model is None:
            model = (await served_models(http, target.base_url, timeout_seconds))[0]
        return await exchange(http, target, build(target, model), timeout_seconds, clock), model
