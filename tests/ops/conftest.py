"""Day-2 fixtures: a copy of the project to edit, a fake clock, endpoints deployed in moto, and a
stand-in for vLLM and TEI on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.ops.drivers.base import ModelTarget
from infra.ops.target import load_project, resolve
from infra.stackfiles.edit import StackDocument
from tests.conftest import copy_project
from tests.ops.runtime_standin import RuntimeStandIn

REGION = "eu-west-1"
ACCOUNT = "123456789012"


class FakeClock:
    """Wall time that only moves when the code under test sleeps; ``on_sleep`` runs first."""

    def __init__(self, on_sleep: Callable[[float], None] | None = None):
        self.current = time.time()
        self.slept: list[float] = []
        self.on_sleep = on_sleep

    def now(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        assert 0 < seconds <= 3600, f"unbounded or negative sleep: {seconds}"
        if self.on_sleep:
            self.on_sleep(seconds)
        self.slept.append(seconds)
        self.current += seconds


@pytest.fixture
def standin() -> Iterator[RuntimeStandIn]:
    """A vLLM and TEI stand-in of this test's own (``tests/ops/runtime_standin.py``), on port 0."""
    running = RuntimeStandIn()
    yield running
    running.stop()


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """Pulumi.yaml and stacks/ in a temporary folder, safe to edit."""
    return copy_project(tmp_path)


def edit_stack(root: Path, stack: str, model: str, changes: dict[str, Any]) -> None:
    """Set ``changes`` (key paths below the model's entry) in a stack file, validated."""
    document = StackDocument.load(load_project(root), stack)
    index = document.index_of("modelfleet:models", model)
    for key, value in changes.items():
        document.set(f"modelfleet:models[{index}].{key}", value)
    document.save()


ROLLOUT = {"steps_percent": [25, 50, 100], "bake_seconds": 120, "poll_seconds": 30, "min_invocations": 10}


@pytest.fixture(scope="module")
def dev_target(tmp_path_factory) -> ModelTarget:
    """dev's fraud-scorer with gates that judge from 10 invocations, 120 s bakes and steps 25/50/100."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    edit_stack(root, "dev", "fraud-scorer", {f"rollout.{k}": v for k, v in ROLLOUT.items()})
    return resolve(load_project(root), "dev", "fraud-scorer")


def deploy(sagemaker: Any, target: ModelTarget, weights: dict[str, float] | None = None) -> None:
    """Create the endpoint the stack would: same name, same variants, the stack's weights."""
    model = target.model
    sagemaker.create_model(
        ModelName=f"{target.endpoint_name}-model",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/modelfleet",
        PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/x:1"},
    )
    variants = dict(model.variants.items())
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{target.endpoint_name}-config",
        ProductionVariants=[
            {
                "VariantName": name,
                "ModelName": f"{target.endpoint_name}-model",
                "InstanceType": model.instance_type,
                "InitialInstanceCount": variant.instance_count,
                "InitialVariantWeight": (weights or {}).get(name, variant.weight),
            }
            for name, variant in variants.items()
        ],
    )
    sagemaker.create_endpoint(
        EndpointName=target.endpoint_name, EndpointConfigName=f"{target.endpoint_name}-config"
    )


def create_alarms(cloudwatch: Any, target: ModelTarget) -> None:
    for name in target.alarm_names:
        cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/SageMaker", MetricName="Invocations", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip


def put_invocations(
    cloudwatch: Any,
    target: ModelTarget,
    variant: str,
    invocations: float,
    errors: float,
    minutes: Iterable[int] = (0,),
    start: float | None = None,
) -> None:
    """One datapoint of each per minute offset from ``start`` (default: now), so bakes that read
    later minutes, on a fake clock or a slow machine, see traffic too."""
    dimensions = [
        {"Name": "EndpointName", "Value": target.endpoint_name},
        {"Name": "VariantName", "Value": variant},
    ]
    origin = time.time() if start is None else start
    data = []
    for minute in minutes:
        at = datetime.fromtimestamp(origin + 60 * minute, UTC)
        data += [
            {"MetricName": "Invocations", "Dimensions": dimensions, "Value": invocations, "Timestamp": at},
            {"MetricName": "Invocation5XXErrors", "Dimensions": dimensions, "Value": errors, "Timestamp": at},
        ]
    cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)
