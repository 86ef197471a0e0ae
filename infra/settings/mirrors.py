"""Public images mirrored into the account's ECR (``modelfleet:image_mirrors``).

vLLM and Text Embeddings Inference publish on Docker Hub and GitHub's registry; the
catalog serves images from ECR, by digest. An ECR pull-through cache rule mirrors
a public registry under a prefix of the account's own registry, AWS's way to do
it: the first pull of ``<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repo>``
fetches and caches the upstream image, later pulls are served from ECR.
Rules AWS sets (ECR user guide, pull through cache): Docker Hub and GHCR need a
Secrets Manager secret whose name starts with ``ecr-pullthroughcache/``; ECR
Public, Quay and registry.k8s.io need none; a prefix is 2-30 characters.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from infra.settings.types import Strict

# The registries a pull-through cache rule accepts here, and whether AWS needs a credential for them.
UPSTREAMS: dict[str, tuple[str, bool]] = {
    "docker-hub": ("registry-1.docker.io", True),
    "ghcr": ("ghcr.io", True),
    "ecr-public": ("public.ecr.aws", False),
    "quay": ("quay.io", False),
    "k8s": ("registry.k8s.io", False),
}
SECRET_PREFIX = "ecr-pullthroughcache/"


def _secret_arn(value: str) -> str:
    secret = re.escape(SECRET_PREFIX) + r"[\w/+=.@-]+"
    pattern = r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:" + secret
    if not re.fullmatch(pattern, value):
        raise PydanticCustomError(
            "secret",
            "must be a Secrets Manager secret ARN whose name starts with {prefix} (ECR's rule for "
            "pull-through cache credentials) (got '{got}')",
            {"prefix": SECRET_PREFIX, "got": value},
        )
    return value


class ImageMirrorSettings(Strict):
    """One public registry mirrored into the account's ECR under a prefix."""

    upstream: Literal["docker-hub", "ghcr", "ecr-public", "quay", "k8s"] = Field(
        description="the public registry to mirror"
    )
    prefix: str = Field(
        min_length=2,
        max_length=30,
        pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$",
        description="ECR repository prefix the mirrored images appear under",
    )
    credential_arn: Annotated[str, AfterValidator(_secret_arn)] | None = Field(
        None, description="Secrets Manager secret with the registry's user name and token (docker-hub, ghcr)"
    )

    @model_validator(mode="after")
    def _credential(self) -> ImageMirrorSettings:
        needs = UPSTREAMS[self.upstream][1]
        if needs == (self.credential_arn is not None):
            return self
        message = (
            "is required for {upstream}: ECR refuses the rule without one"
            if needs
            else "must not be set for {upstream}: ECR pulls it anonymously"
        )
        error = PydanticCustomError("mirror", message, {"upstream": self.upstream})
        raise ValidationError.from_exception_data(
            "ImageMirrorSettings", [InitErrorDetails(type=error, loc=("credential_arn",), input=None)]
        )

    @property
    def upstream_url(self) -> str:
        return UPSTREAMS[self.upstream][0]
