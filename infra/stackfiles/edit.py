"""Round-trip edits of ``stacks/Pulumi.<env>.yaml``: comments, key order and quoting kept.

Tools that change a stack file (``promote``, ``loadtest --write``, and later
commands that add models or environments) go through here, so every edit is
checked with ``load_settings`` on the exact text about to be written, and the
file is replaced atomically or not at all. This module knows nothing about what
an edit means; callers address values by key path below ``config``.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from infra.settings.platform import PlatformSettings, load_settings
from infra.stackfiles.read import Project, StackFileError, stack_config_of

KeyPath = tuple[str | int, ...]
_MISSING = object()


class StackEditError(Exception):
    """A key path does not exist or does not fit the document."""


def parse_key_path(text: str) -> KeyPath:
    """``modelfleet:models[0].variants.stable`` -> ``('modelfleet:models', 0, 'variants', 'stable')``."""
    parts: list[str | int] = []
    for token in re.findall(r"\[(\d+)\]|([^.\[\]]+)", text):
        index, key = token
        parts.append(int(index) if index else key)
    if not parts:
        raise StackEditError(f"empty key path '{text}'")
    return tuple(parts)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long flow mappings
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _shown(key: KeyPath) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in key).lstrip(".")


class StackDocument:
    """One stack file held as a round-trip YAML tree; ``save`` writes it back if it is valid."""

    def __init__(self, project: Project, stack: str, path: Path, text: str):
        self.project, self.stack, self.path, self.original = project, stack, path, text
        try:
            self.data = _yaml().load(text)
        except YAMLError as exc:
            raise StackFileError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(self.data, dict) or not isinstance(self.data.get("config"), dict):
            raise StackFileError(f"{path}: expected a mapping with a 'config' mapping")

    @classmethod
    def create(cls, project: Project, stack: str, text: str, path: Path | None = None) -> StackDocument:
        """A stack file that does not exist yet; ``save`` writes it, and never over an existing file."""
        document = cls(project, stack, path or project.stack_file(stack), text)
        document.original = ""
        return document

    @classmethod
    def load(cls, project: Project, stack: str, path: Path | None = None) -> StackDocument:
        path = path or project.stack_file(stack)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StackFileError(f"{path}: no such file") from None
        return cls(project, stack, path, text)

    def _walk(self, key: KeyPath) -> tuple[Any, str | int]:
        """The container holding the last part of ``key``, and that part."""
        node: Any = self.data["config"]
        for depth, part in enumerate(key[:-1]):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                raise StackEditError(f"{self.path}: no '{_shown(key[: depth + 1])}'") from None
        return node, key[-1]

    def get(self, key: KeyPath | str, default: Any = _MISSING) -> Any:
        key = parse_key_path(key) if isinstance(key, str) else key
        try:
            node, last = self._walk(key)
            return node[last]
        except (KeyError, IndexError, TypeError, StackEditError):
            if default is _MISSING:
                raise StackEditError(f"{self.path}: no '{_shown(key)}'") from None
            return default

    def set(self, key: KeyPath | str, value: Any) -> None:
        """Set a value; its parent must exist. New keys go at the end of their mapping."""
        key = parse_key_path(key) if isinstance(key, str) else key
        node, last = self._walk(key)
        in_mapping = isinstance(node, dict) and isinstance(last, str)
        in_list = isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node)
        if not (in_mapping or in_list):
            raise StackEditError(f"{self.path}: cannot set '{_shown(key)}'")
        node[last] = value

    def delete(self, key: KeyPath | str) -> None:
        key = parse_key_path(key) if isinstance(key, str) else key
        node, last = self._walk(key)
        try:
            del node[last]
        except (KeyError, IndexError, TypeError):
            raise StackEditError(f"{self.path}: no '{_shown(key)}'") from None

    def index_of(self, key: KeyPath | str, name: str) -> int | None:
        """Position of the entry called ``name`` in a list of mappings (models, pools)."""
        entries = self.get(key, [])
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and entry.get("name") == name:
                return index
        return None

    def render(self) -> str:
        buffer = io.StringIO()
        _yaml().dump(self.data, buffer)
        return buffer.getvalue()

    def validate(self, text: str | None = None) -> PlatformSettings:
        """Settings of the text as it would be written; ``SettingsError`` lists every problem."""
        try:
            plain = YAML(typ="safe", pure=True).load(self.render() if text is None else text)
        except YAMLError as exc:  # pragma: no cover - we rendered it ourselves
            raise StackFileError(f"{self.path}: edit produced invalid YAML: {exc}") from None
        return load_settings(self.stack, stack_config_of(self.project, plain, self.path).values)

    def save(self) -> bool:
        """Validate, then replace the file atomically. False when there was nothing to change."""
        text = self.render()
        self.validate(text)
        if text == self.original:
            return False
        if not self.original and self.path.exists():
            raise StackEditError(f"{self.path}: already exists; not replaced")
        atomic_write(self.path, text)
        self.original = text
        return True


def atomic_write(path: Path, text: str) -> None:
    """Write beside the target and rename over it: readers see the old file or the new one."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
