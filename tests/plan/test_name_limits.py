"""Every physical name fits AWS's limit for the longest model and stack names the settings accept.

A name over its limit passes every offline check and fails at ``pulumi up``
(Pulumi refuses an auto-name longer than the provider's maximum). This plans a
stack whose names are as long as they may be, on both backends with canaries, and
measures every name the plan records, auto-names included.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from infra.plan import plan_stack
from infra.specs.naming import (
    AWS_NAME_LIMITS,
    MODEL_NAME_MAX_LENGTH,
    SAGEMAKER_ENDPOINT_NAME_LIMIT,
    STACK_NAME_MAX_LENGTH,
)
from tests.conftest import ROOT


def _longest(prefix: str, length: int) -> str:
    return (prefix + "-" + "x" * length)[: length - 1] + "z"


# Names the settings do not bound through AWS_NAME_LIMITS: Karpenter's queue and EventBridge rules.
OTHER_NAME_LIMITS = {"aws:sqs/queue:Queue": 80, "aws:cloudwatch/eventRule:EventRule": 64}


def _longest_names_stack(folder: Path, capacity: str) -> tuple[str, Path]:
    stack = _longest("env", STACK_NAME_MAX_LENGTH)
    yaml = YAML()
    document = yaml.load((ROOT / "stacks/Pulumi.dev.yaml").read_text())
    for model in document["config"]["modelfleet:models"]:
        model["name"] = _longest(model["name"], MODEL_NAME_MAX_LENGTH)
    if capacity == "karpenter":  # its roles, queue and rules measured too
        document["config"]["modelfleet:cluster"]["capacity"] = capacity
        for pool in document["config"]["modelfleet:gpu_pools"]:
            pool.pop("min_size", None)
    path = folder / f"Pulumi.{stack}.yaml"
    with path.open("w") as handle:
        yaml.dump(document, handle)
    return stack, path


@pytest.mark.parametrize("capacity", ["cluster-autoscaler", "karpenter"])
def test_every_physical_name_fits_its_aws_limit_at_the_longest_names(tmp_path, capacity):
    stack, path = _longest_names_stack(tmp_path, capacity)
    plan = plan_stack(stack, root=ROOT, stack_file=path)
    measured, too_long = 0, []
    limits = AWS_NAME_LIMITS | OTHER_NAME_LIMITS
    for resource in plan.resources:
        names = []
        if resource.type in limits and resource.outputs.get("name"):
            names.append((resource.outputs["name"], limits[resource.type]))
        if resource.type == "aws-native:sagemaker:Endpoint":
            names.append((resource.inputs["endpointName"], SAGEMAKER_ENDPOINT_NAME_LIMIT))
        for name, limit in names:
            measured += 1
            if len(name) > limit:
                too_long.append(f"{resource.type} {name} ({len(name)} > {limit})")
    assert measured > 50  # roles, models, configs, alarms, load balancers ... were all measured
    assert not too_long, too_long
