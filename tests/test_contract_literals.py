"""The serving contract's values are written once: in infra/contracts/serving.py (and the server's copy).

A string or number in code (docstrings aside) that spells the port, a contract
path, a ``MODELFLEET_*`` setting or a serving metric anywhere else fails here;
import it from the contract instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from infra.plan.cache import ENV as PLAN_CACHE_ENV
from infra.specs.dlc_cache import CACHE_DIR_ENV
from tests.conftest import ROOT

OWNERS = {
    "infra/contracts/serving.py",
    "model_containers/modelfleet_serving/contract.py",
    # The other runtimes' own contracts: vLLM and TEI serve /metrics too, and TEI listens on 8080.
    "infra/contracts/runtimes.py",
}
SCANNED = ["infra", "policies", "model_containers/modelfleet_serving"]
LITERAL = re.compile(
    r"^/(ping|invocations|metrics)$|MODELFLEET_[A-Z_]+|\bmodelfleet_(requests|request_duration_seconds"
    r"|batch_size|inflight_requests|queue_depth|model_loaded|capture_records)\b|\b8080\b"
)
# ``MODELFLEET_*`` names that are no setting of the server: the command line's own, each in its owner.
CLI_SETTINGS = {CACHE_DIR_ENV, PLAN_CACHE_ENV}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def literals(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in skip:
            continue
        text = (
            str(node.value) if isinstance(node.value, str | int) and not isinstance(node.value, bool) else ""
        )
        if text and LITERAL.search(text) and text not in CLI_SETTINGS:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {text!r}")
    return found


def test_contract_values_live_only_in_the_contract():
    found = [
        hit
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in OWNERS
        for hit in literals(path)
    ]
    assert not found, found


def test_the_scan_finds_a_stray_literal(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text(
        '"""Docstrings may say /ping."""\nPORT = 8080\nPATH = "/ping"\nNAME = "MODELFLEET_HOST"\n'
    )
    hits = [hit.split(": ", 1)[1] for hit in literals(stray, tmp_path)]
    assert hits == ["'8080'", "'/ping'", "'MODELFLEET_HOST'"]
