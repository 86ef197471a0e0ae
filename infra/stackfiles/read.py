"""Read ``Pulumi.yaml`` and ``stacks/Pulumi.<env>.yaml`` the way the Pulumi CLI does.

The program must see exactly the config map it gets under ``pulumi up``: keys
namespaced (a bare key belongs to the project), objects and lists as JSON text,
scalars as strings. Secure values cannot be decrypted offline; they become a
placeholder and their keys are marked secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

SECRET = "[secret]"  # what a secret value looks like once read without its passphrase


class StackFileError(Exception):
    """A project or stack file is missing or is not the YAML Pulumi expects."""


@dataclass(frozen=True)
class Project:
    name: str
    root: Path
    main: Path  # the program file ``pulumi up`` runs
    stack_config_dir: Path

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        """Every stack with a file in the stack config dir, sorted."""
        files = self.stack_config_dir.glob("Pulumi.*.yaml")
        return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in files)


@dataclass
class StackConfig:
    values: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)


def _load_yaml(path: Path) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except YAMLError as exc:
        raise StackFileError(f"{path}: not valid YAML: {exc}") from None


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding a Pulumi.yaml."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise StackFileError(f"no Pulumi.yaml in {start} or any folder above it")


def read_project(root: Path) -> Project:
    data = _load_yaml(root / "Pulumi.yaml")
    if not isinstance(data, dict) or "name" not in data:
        raise StackFileError(f"{root / 'Pulumi.yaml'}: expected a mapping with a 'name'")
    if "config" in data:
        raise StackFileError(
            f"{root / 'Pulumi.yaml'}: project-level config is not read by the offline plan; "
            "keep settings in the stack files"
        )
    main = root / str(data.get("main", "."))
    if main.is_dir():
        main = main / "__main__.py"
    return Project(
        name=str(data["name"]),
        root=root,
        main=main,
        stack_config_dir=root / str(data.get("stackConfigDir", ".")),
    )


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _scrub(value: Any) -> tuple[Any, bool]:
    """Replace secure leaves with the placeholder; say whether any were found."""
    if _is_secure(value):
        return SECRET, True
    if isinstance(value, dict):
        pairs = {k: _scrub(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_scrub(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _as_config_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def read_stack_config(project: Project, path: Path) -> StackConfig:
    return stack_config_of(project, _load_yaml(path), path)


def stack_config_of(project: Project, data: Any, path: Path) -> StackConfig:
    """The config map of a parsed stack file, exactly as the Pulumi CLI hands it over."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a mapping at the top level")
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping of keys to values")
    result = StackConfig(values={})
    for key, raw in config.items():
        full_key = str(key) if ":" in str(key) else f"{project.name}:{key}"
        value, secret = _scrub(raw)
        result.values[full_key] = _as_config_text(value)
        if secret:
            result.secret_keys.append(full_key)
    return result
