"""Resolve an image tag to its digest over the OCI Distribution API (Docker Registry HTTP API v2).

Anonymous pulls only, the way ``docker pull`` and containerd do it: ask for the
manifest; a registry that wants a token answers 401 with a challenge
(``WWW-Authenticate: Bearer realm=...,service=...[,scope=...]``); fetch a token from
the realm for ``repository:<name>:pull`` and ask again. The digest is the
registry's ``Docker-Content-Digest`` for the tag, asked with every manifest type
accepted, so a multi-architecture tag resolves to its index (what nodes pull),
not to one platform's manifest. public.ecr.aws, registry.k8s.io (a redirect to
Artifact Registry), nvcr.io, quay.io, ghcr.io and Docker Hub all work this way.

Loopback registries (127.0.0.0/8, localhost) are spoken to over plain HTTP, as
Docker itself treats them; every other registry over HTTPS.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import httpx

from infra.specs.image_digests import DIGEST

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
API_HOSTS = {"docker.io": "registry-1.docker.io"}  # where a registry's name and API host differ
CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
MANIFEST_PATH = re.compile(r"/v2/(?P<repository>.+)/manifests/[^/]+$")


class RegistryError(Exception):
    """The registry did not give a digest for the tag; the message says why."""


@dataclass(frozen=True)
class Reference:
    registry: str  # as written in the image reference, e.g. docker.io
    repository: str
    tag: str

    @classmethod
    def parse(cls, image: str) -> Reference:
        """``registry/repository:tag``; the registry must be written out, as every image here is."""
        registry, _, rest = image.partition("/")
        repository, _, tag = rest.rpartition(":")
        if not registry or not repository or not tag or "@" in image:
            raise RegistryError(f"{image!r} is not registry/repository:tag")
        return cls(registry, repository, tag)

    @property
    def manifest_url(self) -> str:
        host = API_HOSTS.get(self.registry, self.registry)
        return f"{_scheme(host)}://{host}/v2/{self.repository}/manifests/{self.tag}"


def _scheme(host: str) -> str:
    name = host.split(":", 1)[0]  # without the port
    if name == "localhost":
        return "http"
    try:
        return "http" if ipaddress.ip_address(name).is_loopback else "https"
    except ValueError:  # a host name
        return "https"


@dataclass(frozen=True)
class Resolution:
    digest: str  # sha256:<64 hex>
    url: str  # the manifest URL asked


def _token(http: httpx.Client, challenge: str, challenged_url: str) -> str:
    """A bearer token for pulling the repository that ``challenged_url`` names."""
    params = dict(CHALLENGE_PARAM.findall(challenge))
    realm = params.pop("realm", None)
    if not realm:
        raise RegistryError(f"401 without a bearer realm ({challenge!r})")
    match = MANIFEST_PATH.search(httpx.URL(challenged_url).path)
    scopes = [params["scope"]] if "scope" in params else []
    if match and f"repository:{match['repository']}:pull" not in scopes:
        scopes.append(f"repository:{match['repository']}:pull")
    query = {"scope": scopes} | ({"service": params["service"]} if "service" in params else {})
    answer = http.get(realm, params=query)
    if answer.status_code != 200:
        raise RegistryError(f"token endpoint {realm} answered HTTP {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        raise RegistryError(f"token endpoint {realm} answered with no JSON") from None
    token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise RegistryError(f"token endpoint {realm} answered with no token")
    return token


def resolve(http: httpx.Client, image: str) -> Resolution:
    """The digest ``image``'s tag points to now, or ``RegistryError`` saying why not.

    At most two manifest requests: anonymous, then with a token if challenged.
    """
    url = Reference.parse(image).manifest_url
    headers = {"Accept": ", ".join(MANIFEST_TYPES)}
    try:
        answer = http.head(url, headers=headers, follow_redirects=True)
        challenge = answer.headers.get("WWW-Authenticate", "")
        if answer.status_code == 401 and challenge.lower().startswith("bearer "):
            token = _token(http, challenge, str(answer.url))
            answer = http.head(
                answer.url, headers={**headers, "Authorization": f"Bearer {token}"}, follow_redirects=True
            )
    except httpx.HTTPError as error:
        raise RegistryError(f"{type(error).__name__}: {error}") from None
    if answer.status_code == 404:
        raise RegistryError(f"no such tag (HTTP 404 from {url})")
    if answer.status_code != 200:
        raise RegistryError(f"HTTP {answer.status_code} from {url}")
    digest = answer.headers.get("Docker-Content-Digest", "")
    if not DIGEST.match(digest):
        raise RegistryError(f"no sha256 Docker-Content-Digest in the answer (got {digest!r})")
    return Resolution(digest, url)
