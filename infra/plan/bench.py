"""``make bench-plan``: offline plan time of a prod stack as its model catalog grows.

Generates copies of ``stacks/Pulumi.prod.yaml`` with N models (half with a live
canary, a mix of framework and digest images, CPU and GPU instances, and with
``eks_every`` one in that many served on the prod stack's GPU pool) and plans
each in this process after a warm-up, so imports are not counted. Prints the
time, resources and time per model for each N; the goal is linear growth.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML

from infra.plan.engine import plan_stack
from infra.stackfiles.read import find_root

DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bench-{i}@sha256:" + "0" * 64
EKS_POOL = "g5"  # the GPU pool of stacks/Pulumi.prod.yaml


def generated_model(index: int, *, eks: bool = False) -> dict:
    """Model ``index`` of a generated catalog: SageMaker by default, or on the prod GPU pool."""
    name = f"bench-model-{index:03d}"
    artifact = f"s3://bench-artifacts/{name}/v{{}}/model.tar.gz"
    if eks:
        return {
            "name": name,
            "team": f"team-{index % 7}",
            "backend": "eks",
            "image": DIGEST.format(i=index),
            "variants": {"stable": {"model_data": artifact.format(1), "instance_count": 2}},
            "autoscaling": {"min_instances": 2, "max_instances": 4},
            "slo": {"p99_latency_ms": 300, "error_rate_percent": 1},
            "eks": {"pool": EKS_POOL, "gpus": 1, "cpu": 4, "memory_gib": 16},
        }
    entry: dict = {
        "name": name,
        "team": f"team-{index % 7}",
        "backend": "sagemaker",
        "instance_type": "ml.g5.xlarge" if index % 4 == 0 else "ml.c5.xlarge",
        "variants": {"stable": {"model_data": artifact.format(1), "instance_count": 2, "weight": 100}},
        "autoscaling": {
            "min_instances": 2,
            "max_instances": 8,
            "target_invocations_per_instance_per_minute": 600,
        },
        "slo": {"p99_latency_ms": 150, "error_rate_percent": 1},
    }
    if index % 2:
        entry["framework"] = {"name": "xgboost", "version": "1.7-1"}
    else:
        entry["image"] = DIGEST.format(i=index)
    if index % 2 == 0:
        entry["variants"]["stable"]["weight"] = 90
        entry["variants"]["canary"] = {"model_data": artifact.format(2), "instance_count": 2, "weight": 10}
    return entry


def stack_with(models: int, template: dict, folder: Path, *, eks_every: int = 0) -> Path:
    data = copy.deepcopy(template)
    # The models on the template's shared endpoints stay: an endpoint with none is invalid.
    placed = [m for m in data["config"]["modelfleet:models"] if "endpoint" in m]
    data["config"]["modelfleet:models"] = placed + [
        generated_model(i, eks=bool(eks_every) and i % eks_every == eks_every - 1) for i in range(models)
    ]
    path = folder / f"Pulumi.bench-{models}.yaml"
    with path.open("w") as handle:
        YAML().dump(data, handle)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[10, 50, 100])
    args = parser.parse_args(argv)
    root = find_root(Path.cwd())
    template = YAML(typ="safe").load((root / "stacks/Pulumi.prod.yaml").read_text())
    table = Table(title="Offline plan time, prod stack (after a warm-up run)")
    for column in ("models", "resources", "seconds", "ms per model"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as folder:
        plan_stack("prod", root=root, stack_file=stack_with(1, template, Path(folder)))  # warm-up
        for count in args.models:
            path = stack_with(count, template, Path(folder))
            started = time.perf_counter()
            plan = plan_stack("prod", root=root, stack_file=path)
            elapsed = time.perf_counter() - started
            table.add_row(
                str(count), str(len(plan.custom_resources)), f"{elapsed:.2f}", f"{1000 * elapsed / count:.0f}"
            )
    Console().print(table)


if __name__ == "__main__":
    main()
