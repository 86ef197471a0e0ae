"""The disk cache of Deep Learning Container URIs: hits, misses, its SDK key, damage, and the SDK import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import botocore
import pytest

from infra.specs import dlc_cache, images
from infra.specs.dlc_cache import CACHE_DIR_ENV, FILE_NAME, DlcCache
from tests.conftest import ROOT

SDK = {"sagemaker-core": "2.27.0", "botocore": "1.44.8"}
KEY = ("xgboost", "1.7-1", "eu-west-1", "ml.c5.xlarge", None)
URI = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def test_a_miss_then_a_hit_after_the_uri_is_put(tmp_path):
    cache = DlcCache(tmp_path, SDK)
    assert cache.get(KEY) is None
    cache.put(KEY, URI)
    assert DlcCache(tmp_path, SDK).get(KEY) == URI
    assert cache.get((*KEY[:-1], "py3")) is None  # every argument is part of the key


def test_put_keeps_the_other_entries_and_leaves_no_temporary_file(tmp_path):
    cache = DlcCache(tmp_path, SDK)
    other = ("djl-lmi", "0.38.0", "eu-west-1", "ml.g5.12xlarge", None)
    cache.put(KEY, URI)
    cache.put(other, "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.38.0-lmi29.0.0-cu130")
    assert cache.get(KEY) == URI and cache.get(other) is not None
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]


def test_another_sdk_version_misses_and_its_put_replaces_the_file(tmp_path):
    DlcCache(tmp_path, SDK).put(KEY, URI)
    upgraded = DlcCache(tmp_path, SDK | {"sagemaker-core": "2.28.0"})
    assert upgraded.get(KEY) is None
    assert DlcCache(tmp_path, SDK | {"botocore": "1.45.0"}).get(KEY) is None  # ECR host names
    upgraded.put(KEY, "new")
    assert json.loads((tmp_path / FILE_NAME).read_text())["sdk"]["sagemaker-core"] == "2.28.0"
    assert DlcCache(tmp_path, SDK).get(KEY) is None


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"sdk": {}, "images": {}}', '{"images": []}', "\x00\xff"]
)
def test_a_damaged_file_is_a_miss_and_is_replaced_by_the_next_put(tmp_path, content):
    (tmp_path / FILE_NAME).write_text(content, encoding="utf-8", errors="surrogateescape")
    cache = DlcCache(tmp_path, SDK)
    assert cache.get(KEY) is None
    cache.put(KEY, URI)
    assert cache.get(KEY) == URI


def test_an_entry_that_is_not_a_string_is_a_miss(tmp_path):
    entry = json.dumps(list(KEY))
    (tmp_path / FILE_NAME).write_text(json.dumps({"sdk": SDK, "images": {entry: 42}}))
    assert DlcCache(tmp_path, SDK).get(KEY) is None


def test_a_folder_that_cannot_be_made_is_skipped(tmp_path):
    (tmp_path / "modelfleet").write_text("a file where the folder would go")
    cache = DlcCache(tmp_path / "modelfleet", SDK)
    cache.put(KEY, URI)  # no error: the cache only saves time
    assert cache.get(KEY) is None


def test_the_folder_is_the_variable_else_the_xdg_cache_else_the_home_cache(tmp_path):
    assert dlc_cache.cache_dir({CACHE_DIR_ENV: "/x/mf", "XDG_CACHE_HOME": "/y"}).as_posix() == "/x/mf"
    assert dlc_cache.cache_dir({"XDG_CACHE_HOME": "/y"}).as_posix() == "/y/modelfleet"
    assert dlc_cache.cache_dir({CACHE_DIR_ENV: ""}).parts[-2:] == (".cache", "modelfleet")


def test_the_key_is_the_installed_sdk_read_without_importing_it():
    versions = dlc_cache.installed_sdk()
    assert versions is not None and set(versions) == {"sagemaker-core", "botocore"}
    assert versions["botocore"] == botocore.__version__
    assert dlc_cache.installed_version("no-such-distribution", "no_such_package") is None


def test_the_tests_cache_is_their_own_folder(disk_cache):
    assert dlc_cache.cache_dir() == disk_cache


def test_a_miss_resolves_with_the_sdk_and_stores_the_uri(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    images.deep_learning_container.cache_clear()  # the process's own memo, in front of the disk
    try:
        assert images.deep_learning_container(*KEY) == URI
    finally:
        images.deep_learning_container.cache_clear()
    assert DlcCache(tmp_path, dlc_cache.installed_sdk()).get(KEY) == URI


def test_a_failed_resolution_is_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    with pytest.raises(images.UnresolvableImage, match="no Deep Learning Container in ap-southeast-7"):
        images.deep_learning_container("xgboost", "1.7-1", "ap-southeast-7", "ml.c5.xlarge")
    assert not (tmp_path / FILE_NAME).exists()


def test_a_hit_does_not_import_the_sdk(tmp_path):
    """A URI only the cache knows comes back, and the seconds-long SDK import never happens."""
    cached = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/from-the-cache:1"
    DlcCache(tmp_path, dlc_cache.installed_sdk()).put(KEY, cached)
    code = (
        "import sys; from infra.specs.images import deep_learning_container as dlc; "
        f"print(dlc(*{KEY!r})); print('sagemaker' in sys.modules, 'botocore' in sys.modules)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, CACHE_DIR_ENV: str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.split("\n")[:2] == [cached, "False False"]
