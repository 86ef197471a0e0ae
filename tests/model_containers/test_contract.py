"""The server's copy of the serving contract, its Dockerfiles and its pins agree with the platform's."""

from __future__ import annotations

import re
from importlib import metadata

import pytest
from modelfleet_serving import contract as server

from infra.contracts import serving as platform
from tests.conftest import ROOT

DOCKERFILES = sorted((ROOT / "model_containers").glob("Dockerfile.*"))


def _values(module) -> dict[str, object]:
    return {k: v for k, v in vars(module).items() if k.isupper()}


def test_the_server_and_the_platform_read_the_same_contract():
    theirs = _values(server)
    ours = {k: v for k, v in _values(platform).items() if k in theirs}
    assert theirs == ours
    missing = {k for k in _values(platform) if k.startswith(("ENV_", "METRIC_"))} - set(theirs)
    assert not missing, f"the server's contract lacks {sorted(missing)}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_each_dockerfile_exposes_the_port_and_checks_the_health_path(dockerfile):
    text = dockerfile.read_text()
    assert re.search(rf"^EXPOSE {platform.PORT}$", text, flags=re.M)
    healthcheck = text[text.index("HEALTHCHECK") :].split("\nCMD", 1)[0]
    assert platform.PORT_ENV in healthcheck and f"'{platform.PORT}'" in healthcheck
    assert platform.HEALTH_PATH in healthcheck
    assert f"{platform.ACCEPT_BIND_TO_PORT_LABEL}=true" in text


def test_there_are_dockerfiles_to_check():
    assert len(DOCKERFILES) == 2


def test_the_image_pins_what_the_tests_run_with():
    """The repository's requirements.txt installs the test environment; the image must match it."""
    text = (ROOT / "model_containers/requirements.txt").read_text()
    pins = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    image = dict(pin.lower().split("==", 1) for pin in pins if pin)
    assert "boto3" in image  # data capture on EKS
    assert {name: metadata.version(name) for name in image} == image


def test_the_container_captures_as_text_what_sagemaker_captures_as_text():
    from infra.specs.sagemaker_specs import CAPTURE_CONTENT_TYPES

    assert tuple(CAPTURE_CONTENT_TYPES["csv_content_types"]) == platform.CAPTURE_CSV_CONTENT_TYPES
    assert tuple(CAPTURE_CONTENT_TYPES["json_content_types"]) == platform.CAPTURE_JSON_CONTENT_TYPES
