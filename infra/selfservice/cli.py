"""``modelfleet new-model | new-env``: their flags; ``infra.cli.commands`` registers them.

Flags win over ``--answers`` (from a ``pulumi new`` template), which win over
prompts (on a terminal only) and derived defaults. See ``infra.selfservice``.
The commands' modules plan offline, so they are imported when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.settings.backend import Backend

if TYPE_CHECKING:
    from rich.console import Console

    from infra.selfservice.common import Handler


def add_parsers(commands: Any) -> None:
    model = commands.add_parser("new-model", help="add a model to a stack: sized, quota-checked, previewed")
    model.add_argument("--stack", help="the environment to add it to, e.g. dev")
    model.add_argument("--name", help="model name: lowercase letters, digits, '-'")
    model.add_argument("--team", help="owning team (tags, quotas)")
    # Every Backend has a module in selfservice/backends/registry.py (tests/selfservice check it).
    model.add_argument("--backend", choices=[backend.value for backend in Backend])
    # --image and --framework exclude each other: new_model.FLAG_RULES reports that with every
    # other problem, where an argparse group would stop at the first.
    model.add_argument("--image", help="serving image by digest: <account>.dkr.ecr...@sha256:<hex>")
    model.add_argument("--framework", help="sagemaker: an AWS Deep Learning Container as <name>:<version>")
    model.add_argument("--py-version", help="with --framework: the DLC's Python, where it needs one (py311)")
    model.add_argument("--artifact", help="model artifact, s3://bucket/path/model.tar.gz")
    model.add_argument("--instance-type", help="sagemaker: the instance type, e.g. ml.m5.large")
    model.add_argument("--p99-ms", help="p99 latency objective in milliseconds")
    model.add_argument("--peak-rps", help="expected peak requests per second")
    model.add_argument("--error-rate-percent", help="5XX objective in percent (default 1)")
    model.add_argument(
        "--rate-per-instance",
        help="measured req/s one instance serves in SLO (modelfleet loadtest)",
    )
    model.add_argument("--pool", help="eks: the GPU pool (default: the stack's first)")
    model.add_argument("--gpus", help="eks: GPUs per replica (default 1)")
    model.add_argument(
        "--answers", type=Path, help="answers written by `pulumi new` from the model-service template"
    )
    model.add_argument("--dry-run", action="store_true", help="check and preview, write nothing")

    env = commands.add_parser("new-env", help="add an environment (stack) from a tier, previewed")
    env.add_argument("--name", help="stack name, e.g. qa")
    env.add_argument("--tier", choices=["dev", "staging", "prod"])
    env.add_argument("--region", help="AWS region (default: the same-tier stack's)")
    env.add_argument("--cidr", help="VPC range (default: the first free 10.x.0.0/16)")
    env.add_argument("--owner", help="owner tag (default: the same-tier stack's)")
    env.add_argument("--cost-center", help="cost center tag (default: the same-tier stack's)")
    env.add_argument(
        "--answers", type=Path, help="answers written by `pulumi new` from the environment template"
    )
    env.add_argument("--dry-run", action="store_true", help="check and preview, write nothing")


def _new_model(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.selfservice import new_model  # noqa: PLC0415
    from infra.selfservice.common import guarded  # noqa: PLC0415

    return guarded(new_model.run)(args, out, err)


def _new_env(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.selfservice import new_env  # noqa: PLC0415
    from infra.selfservice.common import guarded  # noqa: PLC0415

    return guarded(new_env.run)(args, out, err)


# Numeric flags are parsed by infra.selfservice.prompts.number, not argparse, so that a
# malformed one is reported with every other problem rather than alone.
HANDLERS: dict[str, Handler] = {"new-model": _new_model, "new-env": _new_env}
