"""The Kubernetes objects a stack declares directly, as the manifests ``kubectl`` would apply.

Why manifests and not the Terraform kubernetes provider's types: pulumi-kubernetes
records each object in the API's own shape (apiVersion, kind, metadata, spec), which
is exactly what a manifest is, so nothing is renamed and nothing is lost. Scanners
check manifests first-hand (checkov's ``kubernetes`` framework runs the same CKV_K8S
checks it runs on ``kubernetes_deployment`` blocks, and also covers kinds the
Terraform provider has no type for), and kubeconform, kube-score or trivy read the
same file. Converting to ``kubernetes_deployment_v1`` would mean a second schema
(``container`` blocks, snake_case) to get right for no check gained.

Objects Helm renders from a chart are not declared by the program and are not here.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from ruamel.yaml import YAML

from infra.plan.model import PlannedResource


def manifest(resource: PlannedResource) -> dict[str, Any]:
    """One object as a manifest; an object the program left unnamed gets its resource name.

    Pulumi would add a random suffix to that name at deployment; the offline plan has none.
    """
    body = copy.deepcopy(resource.inputs)
    metadata = body.setdefault("metadata", {})
    metadata.setdefault("name", resource.name)
    ordered = {key: body.pop(key) for key in ("apiVersion", "kind", "metadata") if key in body}
    return {**ordered, **dict(sorted(body.items()))}


def manifests_yaml(resources: list[PlannedResource]) -> str:
    """Every object as one multi-document YAML stream, in plan order."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump_all([manifest(r) for r in resources], stream)
    return stream.getvalue()
