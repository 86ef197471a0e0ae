"""What ``new-model`` and ``new-env`` write: a catalog entry and a stack file, as round-trip YAML.

Shaped like the hand-written stack files (flow style for short mappings, a
comment saying where derived numbers came from), so a reviewer reads the PR as
if a person had typed it. Only keys that differ from the tier's defaults are set.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from ipaddress import IPv4Network

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from infra.selfservice.backends.base import ModelRequest
from infra.selfservice.backends.registry import BACKENDS
from infra.selfservice.derive import Sizing


def _flow(**values: object) -> CommentedMap:
    mapping = CommentedMap(values)
    mapping.fa.set_flow_style()
    return mapping


def split_framework(text: str) -> dict[str, str]:
    """``xgboost:1.7-1`` -> name and version; a missing part is left out for the settings to report."""
    name, _, version = text.strip().partition(":")
    return {"name": name, "version": version} if version else {"name": name}


def model_entry(request: ModelRequest, sizing: Sizing) -> CommentedMap:
    """The catalog entry; the autoscaling comment records the sizing basis for reviewers."""
    backend = BACKENDS[request.backend]
    entry = CommentedMap(name=request.name, team=request.team, backend=request.backend)
    if request.image:
        entry["image"] = request.image
    if request.framework:
        entry["framework"] = _flow(**split_framework(request.framework))
        if request.py_version:
            entry["framework"]["py_version"] = request.py_version
    entry.update(backend.placement(request))
    stable = _flow(model_data=request.artifact, instance_count=sizing.min_instances)
    entry["variants"] = CommentedMap(stable=stable)
    scaling = CommentedMap(min_instances=sizing.min_instances, max_instances=sizing.max_instances)
    scaling.update(backend.scaling(sizing))
    entry["autoscaling"] = scaling
    entry.yaml_add_eol_comment(
        f"# sized for {request.peak_rps:g} req/s at peak within p99 {request.p99_ms} ms: {sizing.basis}",
        "autoscaling",
    )
    errors = request.error_rate_percent
    entry["slo"] = _flow(
        p99_latency_ms=request.p99_ms, error_rate_percent=int(errors) if errors.is_integer() else errors
    )
    for key, value in backend.block(request, sizing).items():
        entry[key] = _flow(**value) if isinstance(value, dict) else value
    return entry


@dataclass(frozen=True)
class EnvRequest:
    name: str
    tier: str
    region: str
    cidr: IPv4Network
    owner: str
    cost_center: str
    private_subnet_prefix: int | None = None  # None: the tier's (it fits the VPC)
    public_subnet_prefix: int | None = None


def env_text(request: EnvRequest) -> str:
    """A new stack file: the tier supplies every default, so it names only what identifies it."""
    config = CommentedMap()
    config["aws:region"] = request.region
    config["modelfleet:tier"] = request.tier
    config["modelfleet:owner"] = request.owner
    config["modelfleet:cost_center"] = request.cost_center
    network = CommentedMap(cidr=str(request.cidr))
    for key in ("private_subnet_prefix", "public_subnet_prefix"):
        if getattr(request, key) is not None:
            network[key] = getattr(request, key)
    config["modelfleet:network"] = network
    document = CommentedMap(config=config)
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    header = (
        f"# {request.name}: a {request.tier}-tier environment, added with `modelfleet new-env`.\n"
        f"# Anything not set here takes the {request.tier} tier's defaults (docs/configuration.md).\n"
        f"# Add models with `modelfleet new-model --stack {request.name}`.\n"
    )
    return header + buffer.getvalue()
