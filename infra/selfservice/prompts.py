"""Where a new model's or environment's values come from: flags, template answers, prompts, defaults.

In that order. Prompts appear only when stdin is a terminal; otherwise every
value still missing is named in one error, so a CI job or script learns all of
them at once. Template answers are the ``Pulumi.<stack>.yaml`` that ``pulumi
new`` writes from ``stacks/templates/<template>/Pulumi.yaml``: flat keys in the
template's namespace, named like the flags (``model:peak_rps`` is ``--peak-rps``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.prompt import Prompt
from ruamel.yaml import YAML, YAMLError


class InvalidInput(Exception):
    """Missing or malformed values: exit 2, nothing written."""


@dataclass(frozen=True)
class Ask:
    key: str  # argparse dest and template answer key
    question: str
    default: str | None = None  # None: required
    choices: Sequence[str] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


def read_answers(path: Path, namespace: str) -> dict[str, str]:
    """``<namespace>:<key>`` values of a stack file written by ``pulumi new``, keyed by ``<key>``."""
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
    except (OSError, YAMLError) as error:
        raise InvalidInput(f"--answers {path}: cannot read it ({error})") from None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise InvalidInput(f"--answers {path}: expected a stack file with a 'config' mapping")
    prefix = f"{namespace}:"
    answers = {k.removeprefix(prefix): v for k, v in config.items() if str(k).startswith(prefix)}
    if not answers:
        raise InvalidInput(
            f"--answers {path}: no '{prefix}' keys; was it made from the {namespace} template?"
        )
    return {key: str(value) for key, value in answers.items() if str(value).strip() != ""}


def interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def resolve(
    asks: Sequence[Ask], given: dict[str, Any], console: Console, missing: list[str] | None = None
) -> dict[str, Any]:
    """Every asked-for value: given, else prompted (on a terminal), else its default; or one error.

    With ``missing``, flags still missing are appended to it instead, so the caller
    can report them in one error with its other problems.
    """
    values, collect, missing = dict(given), missing is not None, missing if missing is not None else []
    prompting = interactive()
    for ask in asks:
        if values.get(ask.key) not in (None, ""):
            continue
        if prompting:
            answer = ""
            while not answer.strip():  # a required value cannot be skipped with Enter
                answer = Prompt.ask(
                    ask.question,
                    console=console,
                    default=ask.default if ask.default is not None else ...,
                    choices=list(ask.choices) if ask.choices else None,
                )
            values[ask.key] = answer.strip()
        elif ask.default is not None:
            values[ask.key] = ask.default
        else:
            missing.append(ask.flag)
    if missing and not collect:
        raise InvalidInput(missing_message(missing))
    return values


def missing_message(flags: Sequence[str]) -> str:
    return f"missing {', '.join(flags)}: pass them, use --answers, or run in a terminal to be asked"


def number(values: dict[str, Any], key: str, kind: type[int] | type[float], low: float = 0) -> Any:
    """A numeric value from any source, or a clear error naming its flag."""
    raw = values.get(key)
    if raw is None:
        return None
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"--{key.replace('_', '-')}: expected a number (got '{raw}')") from None
    if value <= low:
        raise InvalidInput(f"--{key.replace('_', '-')}: must be above {low:g} (got {raw})")
    return value
