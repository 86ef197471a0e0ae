"""The README and docs/ stay true: the layout matches the tree, links resolve, named commands exist.

Every setting is documented in the generated docs/configuration.md; that it covers
every field of every nested model is checked in tests/settings/test_docs.py.
"""

import re
from pathlib import Path

import pytest

from infra.cli.commands import main
from infra.settings.docs import anchor
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"## Layout\n.*?```\n(.*?)```", text, flags=re.S).group(1)


def test_the_layout_section_names_every_package_of_infra():
    named = set(re.findall(r"^(infra/[\w/]+/)", _layout_block(), flags=re.M))
    packages = {f"{path.parent.relative_to(ROOT)}/" for path in (ROOT / "infra").glob("*/__init__.py")}
    assert packages - named == set(), "add these to the README's Layout section"
    assert named - packages == set(), "the README's Layout section names packages that are gone"


def test_every_file_the_layout_section_names_exists():
    block = _layout_block()
    for folder, rest in re.findall(r"^(infra/[\w/]+/)\s+(.*(?:\n {20,}.*)*)", block, flags=re.M):
        for name in re.findall(r"\b([\w]+\.py)\b", rest):
            assert list((ROOT / folder).rglob(name)), f"{folder}{name} named in the README is not in the tree"
    for subfolder in re.findall(r"\b(sagemaker|eks|network|observability|security|storage)/", block):
        assert (ROOT / "infra" / "components" / subfolder).is_dir()


def test_the_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S).group(1)
    assert [line.split()[:2] for line in first_block.splitlines()] == [["make", "plan"], ["make", "test"]]


# ------------------------------------------------------------- links


def _prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return re.sub(r"(?ms)^```.*?^```", "", text)


def _anchors(path: Path) -> set[str]:
    """The ids GitHub gives the file's headings (repeats get -1, -2, ...)."""
    found: set[str] = set()
    for heading in re.findall(r"(?m)^#{1,6} (.+)$", _prose(path.read_text())):
        base = anchor(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading))
        name, count = base, 0
        while name in found:
            count += 1
            name = f"{base}-{count}"
        found.add(name)
    return found


def _links(path: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", _prose(path.read_text()))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path):
    broken = []
    for link in _links(doc):
        if re.match(r"[a-z]+:", link):  # https:, mailto:
            continue
        target, _, fragment = link.partition("#")
        file = (doc.parent / target).resolve() if target else doc
        if not file.exists():
            broken.append(f"{link}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
        elif fragment and file.suffix == ".md" and fragment not in _anchors(file):
            broken.append(f"{link}: no heading #{fragment} in {file.relative_to(ROOT)}")
    assert broken == []


def test_the_readme_maps_every_doc():
    linked = {(ROOT / link.partition("#")[0]).resolve() for link in _links(ROOT / "README.md")}
    unmapped = [str(p.relative_to(ROOT)) for p in DOCS[1:] if p.resolve() not in linked]
    assert unmapped == [], "link these from the README's Docs section"


def test_the_link_check_notices_a_broken_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Real heading\n\n[ok](#real-heading) [bad](#no-such-heading)\n")
    assert _anchors(page) == {"title", "real-heading"}
    assert [link for link in _links(page) if link.partition("#")[2] not in _anchors(page)] == [
        "#no-such-heading"
    ]


# ------------------------------------------------------------- commands


def _code(text: str) -> str:
    """Fenced code blocks (comments dropped) and inline code spans: where commands are written."""
    blocks = [re.sub(r"(?m)(^|\s)#.*$", "", b) for b in re.findall(r"(?ms)^```[^\n]*\n(.*?)^```", text)]
    spans = re.findall(r"`([^`\n]+(?:\n[^`\n]+)?)`", _prose(text))
    return "\n".join(blocks + spans)


def _all_code() -> str:
    return "\n".join(_code(path.read_text()) for path in DOCS)


def test_every_make_target_the_docs_name_exists():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    named = set(re.findall(r"(?:^|[\s;&(])make ([a-z][\w-]*)", _all_code(), flags=re.M))
    assert {"plan", "test", "lint", "validate", "venv"} <= named
    assert named - targets == set(), "the docs name make targets the Makefile lacks"


def _commands() -> set[tuple[str, ...]]:
    found = set()
    for words in re.findall(
        r"(?:\bmodelfleet|python -m infra\.cli) ((?:[a-z][\w-]*)(?: [a-z][\w-]*)?)", _all_code()
    ):
        found.add(tuple(words.split()))
    return found


def test_every_modelfleet_command_the_docs_name_exists(capsys):
    commands = _commands()
    assert {("plan",), ("rollout", "abort"), ("new-model",), ("images", "refresh")} <= commands
    unknown = []
    for words in sorted(commands):
        with pytest.raises(SystemExit) as stopped:
            main([*words, "--help"])
        if stopped.value.code != 0:
            unknown.append(" ".join(words))
    capsys.readouterr()
    assert unknown == [], "the docs name modelfleet commands that do not exist"
