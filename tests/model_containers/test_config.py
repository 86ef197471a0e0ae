"""Settings the server cannot start with are a ``ConfigError`` naming the variable, not a traceback."""

from __future__ import annotations

import pytest
from modelfleet_serving.config import ConfigError, ServerConfig


def test_a_setting_that_is_not_a_whole_number_is_a_config_error(monkeypatch):
    monkeypatch.setenv("MODELFLEET_MAX_BATCH_SIZE", "lots")
    with pytest.raises(ConfigError, match=r"MODELFLEET_MAX_BATCH_SIZE must be a whole number \(got 'lots'\)"):
        ServerConfig.from_env()


def test_capture_settings_are_part_of_the_server_config(monkeypatch):
    assert ServerConfig.from_env().capture is None
    monkeypatch.setenv("MODELFLEET_CAPTURE_PERCENT", "5")
    monkeypatch.setenv("MODELFLEET_CAPTURE_BUCKET", "capture-bucket")
    monkeypatch.setenv("MODELFLEET_CAPTURE_PREFIX", "fraud-scorer/eks/stable/")
    assert ServerConfig.from_env().capture.percent == 5.0
