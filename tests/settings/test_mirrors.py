"""Image mirror settings: ECR's rules for pull-through cache, each named by its key path."""

from __future__ import annotations

import pytest

from infra.settings.platform import load_settings
from tests.conftest import valid_config
from tests.settings.test_platform import problems

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Ab12Cd"


def with_mirrors(*mirrors):
    return valid_config() | {"modelfleet:image_mirrors": list(mirrors)}


def test_mirrors_with_and_without_credentials_are_valid():
    settings = load_settings("prod", with_mirrors(
        {"upstream": "docker-hub", "prefix": "docker-hub", "credential_arn": SECRET},
        {"upstream": "ecr-public", "prefix": "ecr-public"},
    ))  # fmt: skip
    assert [m.upstream_url for m in settings.image_mirrors] == ["registry-1.docker.io", "public.ecr.aws"]


@pytest.mark.parametrize(
    ("mirror", "path", "text"),
    [
        ({"upstream": "ghcr", "prefix": "ghcr"}, "modelfleet:image_mirrors[0].credential_arn",
         "is required for ghcr: ECR refuses the rule without one"),
        ({"upstream": "quay", "prefix": "quay", "credential_arn": SECRET}, "modelfleet:image_mirrors[0].credential_arn",
         "must not be set for quay"),
        ({"upstream": "docker-hub", "prefix": "hub", "credential_arn": SECRET.replace("ecr-pullthroughcache/", "")},
         "modelfleet:image_mirrors[0].credential_arn", "whose name starts with ecr-pullthroughcache/"),
        ({"upstream": "gcr", "prefix": "gcr"}, "modelfleet:image_mirrors[0].upstream",
         "must be one of docker-hub, ghcr, ecr-public, quay, k8s"),
        ({"upstream": "quay", "prefix": "Q"}, "modelfleet:image_mirrors[0].prefix", "must be at least 2 characters (got 'Q')"),
    ],
)  # fmt: skip
def test_a_bad_mirror_names_its_key_path(mirror, path, text):
    found = problems(with_mirrors(mirror))
    assert any(p.startswith(path) and text in p for p in found), found


def test_prefixes_are_unique():
    found = problems(
        with_mirrors({"upstream": "quay", "prefix": "cache"}, {"upstream": "k8s", "prefix": "cache"})
    )
    assert any(p.startswith("modelfleet:image_mirrors: prefixes must be unique") for p in found), found
