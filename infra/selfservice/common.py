"""What ``new-model`` and ``new-env`` share: exit codes, failures as one message, the preview.

Exit codes, as ``infra.cli.commands``: 0 done (or a dry run); 1 the program stopped while
planning; 2 invalid input or an invalid resulting stack, nothing written; 3 a
quota or another mandatory policy refuses the change, nothing written.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console

from infra.cli.failures import EXIT_INVALID, EXIT_REFUSED, EXIT_STOPPED, fail
from infra.plan import diff_text
from infra.plan.engine import PlanError
from infra.plan.policy import PolicyConfigError
from infra.plan.render import cost_summary, render_policy
from infra.selfservice.derive import CannotDerive
from infra.selfservice.preview import Preview
from infra.selfservice.prompts import InvalidInput
from infra.settings.platform import SettingsError
from infra.stackfiles.edit import StackEditError
from infra.stackfiles.read import StackFileError

Handler = Callable[[argparse.Namespace, Console, Console], int]


class Refused(Exception):
    """A quota or mandatory policy says no: exit 3, nothing written."""


def guarded(handler: Handler) -> Handler:
    """One clear message and an exit code for every expected failure; never a traceback."""

    def run(args: argparse.Namespace, out: Console, err: Console) -> int:
        try:
            return handler(args, out, err)
        except (
            InvalidInput,
            SettingsError,
            StackFileError,
            StackEditError,
            PolicyConfigError,
            CannotDerive,
        ) as error:
            return fail(err, str(error), EXIT_INVALID)
        except Refused as error:
            return fail(err, f"refused, nothing written: {error}", EXIT_REFUSED)
        except PlanError as error:
            return fail(err, f"the offline plan stopped: {error}", EXIT_STOPPED)
        except (KeyboardInterrupt, EOFError):
            return fail(err, "interrupted: nothing written", EXIT_INVALID)

    return run


def show(result: Preview, what: str, out: Console) -> None:
    """The offline diff (what the change adds, policy and cost before and after), then the pack."""
    out.print(f"Offline diff: current stack file -> {what}", markup=False, highlight=False)
    diff_text.render_stack(out, result.diff)
    out.print(cost_summary(result.cost), markup=False, highlight=False, soft_wrap=True)
    render_policy(result.report, out)
    if result.refused:
        raise Refused(f"{len(result.report.mandatory)} mandatory policy violation(s), listed above")


def given(args: argparse.Namespace, keys: list[str], answers: dict[str, str]) -> dict[str, Any]:
    """Flags first, then template answers for what the flags leave out."""
    values: dict[str, Any] = {key: answers[key] for key in keys if key in answers}
    values |= {key: getattr(args, key) for key in keys if getattr(args, key, None) is not None}
    return values
