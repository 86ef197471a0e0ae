"""Container images: ECR references, and AWS Deep Learning Containers by framework.

DLC images are resolved with the SageMaker SDK's own tables (``image_uris``),
which ship with the package, so resolution works offline and agrees with what
the SDK would deploy. The SDK takes seconds to import, so it is imported only when
a stack names a framework whose image is not in the disk cache of earlier
resolutions by the same SDK version (``dlc_cache``).

DLCs are the one image the stack runs by tag on purpose: the SDK's tables name
tags, not digests, and AWS rebuilds a DLC tag with security patches. Every other
image is pinned by digest: model images in the catalog (``<ecr>@sha256:...``) and
add-on and init-container images through ``infra/specs/image_digests.json``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from infra.specs import dlc_cache

ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"(?::(?P<tag>[\w.-]{1,128})|@(?P<digest>sha256:[0-9a-f]{64}))$"
)


@dataclass(frozen=True)
class EcrImage:
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    def repository_arn(self, partition: str = "aws") -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"


def parse_ecr(uri: str) -> EcrImage | None:
    match = ECR_URI.match(uri)
    if not match:
        return None
    return EcrImage(**match.groupdict())


class UnresolvableImage(ValueError):
    """The SageMaker SDK has no Deep Learning Container for this framework/version."""


@functools.lru_cache(maxsize=256)
def deep_learning_container(
    framework: str, version: str, region: str, instance_type: str, py_version: str | None = None
) -> str:
    """The DLC inference image URI for ``framework`` ``version`` on ``instance_type``."""
    key = (framework, version, region, instance_type, py_version)
    cache = dlc_cache.default()
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    from sagemaker.core import image_uris  # noqa: PLC0415 - slow import, only when needed

    try:
        uri = image_uris.retrieve(
            framework,
            region=region,
            version=version,
            py_version=py_version,
            instance_type=instance_type,
            image_scope="inference",
        )
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise UnresolvableImage(_reason(str(exc), framework, region)) from None
    if cache is not None:
        cache.put(key, uri)
    return uri


def _reason(message: str, framework: str, region: str) -> str:
    """The SDK's complaint in one line; its list of what it supports is cut to what helps."""
    supported = re.search(r"Supported ([\w ]+)\(s\): (.*)", message)
    listed = supported.group(2).rstrip(".").split(", ") if supported else []
    if message.startswith("Unsupported region"):
        # Regions are listed alphabetically: the last few would read as if they were the only ones.
        return (
            f"{framework} has no Deep Learning Container in {region} (the SDK lists it in "
            f"{len(listed)} other regions): serve an image by digest instead"
        )
    reason = message.split(" You may need to upgrade", 1)[0]
    return reason + (f" Supported: {', '.join(listed[-8:])}" if listed else "")
