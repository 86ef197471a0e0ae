"""The architecture as a test: the program never imports the tooling around it, and nothing cycles.

The program is what ``pulumi up`` runs (``infra/__main__.py``, settings, contracts,
specs, components); the tooling (plan, ops, self-service, the CLI, stack-file I/O)
may import the program, never the other way round. Within the program, only the
``Platform`` component reads settings: the specs turn settings into plain values,
and every other component takes those. In the day-2 tools and self-service, what
differs per backend lives in that backend's module only.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from infra.settings.catalog import Backend
from tests.conftest import ROOT

PROGRAM = ("infra.settings", "infra.contracts", "infra.specs", "infra.components", "infra.__main__")
TOOLING = ("infra.plan", "infra.ops", "infra.selfservice", "infra.cli", "infra.stackfiles")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {name for name in found if name.startswith("infra")}


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_program_never_imports_the_tooling():
    wrong = [
        f"{_module(path)} imports {name}"
        for path in sorted((ROOT / "infra").rglob("*.py"))
        if _within(_module(path), PROGRAM)
        for name in sorted(_imports(path))
        if _within(name, TOOLING)
    ]
    assert not wrong, wrong


def test_components_take_plain_args_only_the_platform_reads_settings():
    """Specs decide from the settings; components build from plain values, so each can be built alone."""
    wrong = [
        f"{_module(path)} imports {name}"
        for path in sorted((ROOT / "infra" / "components").rglob("*.py"))
        if _module(path) not in ("infra.components.platform", "infra.components.platform_eks")
        for name in sorted(_imports(path))
        if _within(name, ("infra.settings",))
    ]
    assert not wrong, wrong


def test_every_infra_module_belongs_to_the_program_or_the_tooling():
    loose = [
        _module(path)
        for path in sorted((ROOT / "infra").rglob("*.py"))
        if not _within(_module(path), PROGRAM + TOOLING) and _module(path) != "infra"
    ]
    assert not loose, f"place these in a package of the program or the tooling: {loose}"


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """Modules ``path`` imports when it loads (not inside functions), as module names."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    # Importing a.b.c runs the package a.b's __init__ first.
    # (its own packages excepted: they are loading already when it loads).
    found |= {".".join(n.split(".")[:i]) for n in set(found) for i in range(2, n.count(".") + 1)}
    own = _module(path)
    return {name for name in found if name in modules and not own.startswith(name + ".") and name != own}


def test_no_module_imports_itself_through_others():
    paths = {_module(p): p for p in (ROOT / "infra").rglob("*.py")}
    graph = {name: _top_level_imports(path, set(paths)) for name, path in paths.items()}
    cycles, done, stack = [], set(), []

    def visit(name: str) -> None:
        if name in stack:
            cycles.append([*stack[stack.index(name) :], name])
            return
        if name in done:
            return
        stack.append(name)
        for other in sorted(graph[name]):
            visit(other)
        stack.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    assert not cycles, [" -> ".join(c) for c in cycles]


# ------------------------------------------------------------- one module per backend

# Where each backend's code lives; the registries beside them map a backend to it.
BACKEND_PACKAGES = (ROOT / "infra" / "ops" / "drivers", ROOT / "infra" / "selfservice" / "backends")
BACKEND_BRANCH = re.compile(
    r"""backend["')\]]*\s*[!=]=|\bis\s+(not\s+)?Backend\.|isinstance\(.*(SageMaker|Eks)Model"""
    + r"""|[!=]=\s*(Backend\.|["'](?:"""
    + "|".join(b.value for b in Backend)
    + r""")["'])"""
)


def _backend_branches(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if BACKEND_BRANCH.search(line)]


def test_no_shared_tool_code_branches_on_the_backend():
    backend_modules = {package / f"{backend.value}.py" for package in BACKEND_PACKAGES for backend in Backend}
    found = [
        f"{path.relative_to(ROOT)}: {line}"
        for folder in ("ops", "selfservice")
        for path in sorted((ROOT / "infra" / folder).rglob("*.py"))
        if path not in backend_modules
        for line in _backend_branches(path.read_text())
    ]
    assert found == [], "move these into the backend's module (infra/ops/drivers, infra/selfservice/backends)"


def test_the_backend_branch_check_notices_each_spelling():
    spellings = [
        'if request.backend == "sagemaker":',
        'FlagRule("pool", lambda v: v.get("backend") == "eks", "..."),',
        'lambda v: v.get("backend") != "eks",',
        "if model.backend is Backend.EKS:",
        "if model.backend is not Backend.SAGEMAKER:",
        "if kind == Backend.EKS:",
        'shape = lookup(t) if kind == "sagemaker" else None',
        "if not isinstance(model, SageMakerModel):",
    ]
    assert _backend_branches("\n".join(spellings)) == spellings
    assert _backend_branches("backend = BACKENDS[request.backend]\nif backend is None:") == []
