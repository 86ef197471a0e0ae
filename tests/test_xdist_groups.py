"""The files whose tests run in one xdist worker (tests/conftest.py) are all named there.

Checked on what this session collected: the whole suite under ``make test``.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import CodeType

import pytest

from tests.conftest import LOOPBACK_GROUP, LOOPBACK_SERVER_FILES, MODULE_FIXTURE_FILES, ROOT, xdist_scope

# Code that uses one of these names starts a server on a port from free_port().
PORT_PICKERS = frozenset({"free_port", "Server"})
SHARED_SCOPES = frozenset({"class", "module", "package"})


def _names(code: CodeType) -> Iterator[str]:
    """Global names that ``code`` and the functions defined in it use."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)


def _fixture_defs(item: pytest.Item) -> list:
    info = getattr(item, "_fixtureinfo", None)
    return [defs[-1] for defs in info.name2fixturedefs.values() if defs] if info else []


def _picks_ports(item: pytest.Item) -> bool:
    functions = [getattr(item, "function", None)] + [d.func for d in _fixture_defs(item)]
    codes = [f.__code__ for f in functions if hasattr(f, "__code__")]
    return any(PORT_PICKERS.intersection(_names(code)) for code in codes)


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def test_every_test_that_starts_a_server_on_a_picked_port_is_in_the_loopback_group(request):
    items = [item for item in request.session.items if _picks_ports(item)]
    if any(_file(item) == "tests/model_containers/test_server.py" for item in request.session.items):
        assert items, "the check no longer finds the servers of tests/model_containers/test_server.py"
    outside = sorted({_file(item) for item in items} - LOOPBACK_SERVER_FILES)
    assert outside == [], "add these to LOOPBACK_SERVER_FILES in tests/conftest.py"


def test_tests_that_share_a_fixture_beyond_one_test_run_in_one_worker(request):
    sharing = {
        _file(item)
        for item in request.session.items
        if any(d.scope in SHARED_SCOPES for d in _fixture_defs(item))
    }
    outside = sorted(sharing - LOOPBACK_SERVER_FILES - MODULE_FIXTURE_FILES)
    assert outside == [], "add these to MODULE_FIXTURE_FILES in tests/conftest.py"


def test_the_sets_name_test_files_that_exist():
    named = LOOPBACK_SERVER_FILES | MODULE_FIXTURE_FILES
    assert sorted(f for f in named if not (ROOT / f).is_file()) == []


def test_no_test_relies_on_xdist_group_marks(request):
    """xdist's loadgroup ignores them under pytest 9.2 (pytest-xdist#1386): tests/conftest.py groups instead."""
    assert [i.nodeid for i in request.session.items if i.get_closest_marker("xdist_group")] == []


def test_a_listed_file_is_one_unit_of_work_and_any_other_test_its_own():
    assert xdist_scope("tests/ops/test_loadtest.py::test_x[1]") == LOOPBACK_GROUP
    assert xdist_scope("tests/ops/test_cli_moto_server.py::test_y") == LOOPBACK_GROUP
    assert xdist_scope("tests/plan/test_diff.py::test_z") == "tests/plan/test_diff.py"
    assert xdist_scope("tests/plan/test_engine.py::test_w[dev]") == "tests/plan/test_engine.py::test_w[dev]"
