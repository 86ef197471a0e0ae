"""Every component, every Args dataclass and every Args field says why it is there.

Like terraform-aws-modules' ``variables.tf`` (every input described) and pulumi-eks
(every input documented where it is declared): a ``ComponentResource`` subclass and
a dataclass in a component module need a docstring, and each dataclass field needs
a comment, trailing on its own line(s) or on a comment line directly above it.
Read from the source (ast for the shapes, tokenize for the comments), nothing imported.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from tests.conftest import ROOT

COMPONENTS = ROOT / "infra" / "components"

NOT_YET: set[str] = set()  # modules still to document (none left)

# Tool directives say nothing about the field they sit on.
PRAGMA = re.compile(r"#\s*(noqa|fmt:|type:|pragma)", re.IGNORECASE)


def _is_component(node: ast.ClassDef) -> bool:
    return any(ast.unparse(base) in ("pulumi.ComponentResource", "ComponentResource") for base in node.bases)


def _is_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target) in ("dataclass", "dataclasses.dataclass"):
            return True
    return False


def _comments(source: str) -> tuple[set[int], set[int]]:
    """Lines holding a comment anywhere, and lines that hold nothing but a comment."""
    anywhere, alone = set(), set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT or PRAGMA.match(token.string):
            continue
        line = token.start[0]
        anywhere.add(line)
        if token.line[: token.start[1]].strip() == "":
            alone.add(line)
    return anywhere, alone


def undocumented(source: str, where: str) -> list[str]:
    """``where:line: what`` for every silent component, dataclass or dataclass field in ``source``."""
    anywhere, alone = _comments(source)
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        component, dataclass = _is_component(node), _is_dataclass(node)
        if (component or dataclass) and not ast.get_docstring(node):
            kind = "component" if component else "dataclass"
            found.append(f"{where}:{node.lineno}: {kind} {node.name} has no docstring")
        if not dataclass:
            continue
        for statement in node.body:
            if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                continue
            lines = range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)
            if anywhere.isdisjoint(lines) and statement.lineno - 1 not in alone:
                found.append(
                    f"{where}:{statement.lineno}: field {node.name}.{statement.target.id} "
                    "has no comment saying what it is for"
                )
    return found


def _modules() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for path in COMPONENTS.rglob("*.py"))


def test_every_component_args_class_and_field_is_documented():
    silent = [
        problem
        for module in _modules()
        if module not in NOT_YET
        for problem in undocumented((ROOT / module).read_text(), module)
    ]
    assert not silent, "\n".join(silent)


def test_not_yet_names_only_modules_that_still_need_it():
    stale = [
        f"{module}: {'no such module' if not (ROOT / module).exists() else 'documented now'}"
        for module in sorted(NOT_YET)
        if not (ROOT / module).exists() or not undocumented((ROOT / module).read_text(), module)
    ]
    assert not stale, "remove these from NOT_YET:\n" + "\n".join(stale)


SAMPLE = '''
from dataclasses import dataclass, field

import pulumi


@dataclass
class ThingArgs:
    """What a thing needs."""

    name: str  # the thing's physical name
    # days; CloudWatch Logs accepts only its fixed set of values
    retention_days: int = 30
    owners: list[str] = field(
        default_factory=list,
    )  # who is paged
    size: int = 1
    colour: str = "red"  # noqa: E501


class Thing(pulumi.ComponentResource):
    def __init__(self, name: str, args: ThingArgs):
        super().__init__("modelfleet:test:Thing", name)
        size: int = args.size
'''


def test_the_checker_names_each_silent_field_and_class():
    assert undocumented(SAMPLE, "sample.py") == [
        "sample.py:17: field ThingArgs.size has no comment saying what it is for",
        "sample.py:18: field ThingArgs.colour has no comment saying what it is for",
        "sample.py:21: component Thing has no docstring",
    ]


def test_a_trailing_comment_on_the_previous_field_is_not_a_comment_above():
    source = '@dataclass\nclass XArgs:\n    """Doc."""\n\n    a: int  # the first\n    b: int\n'
    assert undocumented(source, "x.py") == ["x.py:6: field XArgs.b has no comment saying what it is for"]


def test_an_args_dataclass_without_a_docstring_is_named():
    source = (
        "from dataclasses import dataclass\n\n\n@dataclass(frozen=True)\nclass XArgs:\n    a: int  # why\n"
    )
    assert undocumented(source, "x.py") == ["x.py:5: dataclass XArgs has no docstring"]
