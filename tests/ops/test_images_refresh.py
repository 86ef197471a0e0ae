"""`modelfleet images refresh` against a small registry on 127.0.0.1 that speaks the real protocol.

The server is the OCI Distribution API's anonymous pull flow, as public.ecr.aws,
registry.k8s.io, nvcr.io, quay.io and Docker Hub run it: a manifest ``HEAD``
without a token answers 401 with a ``WWW-Authenticate: Bearer`` challenge; the
realm hands out a token for ``repository:<name>:pull``; the manifest ``HEAD`` with
that token answers ``Docker-Content-Digest``. One repository redirects to another
path first, as registry.k8s.io does. Loopback only: no network. Digests are sha256
of the server's own manifest bytes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from infra.cli.commands import main
from infra.ops.oci_registry import MANIFEST_TYPES, Reference, RegistryError, resolve
from infra.specs import image_digests, stack_images
from infra.specs.image_digests import Resolved
from infra.specs.stack_images import StackImage

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
DIGEST = f"sha256:{hashlib.sha256(MANIFEST).hexdigest()}"
TAGS = {("team/app", "1.0"), ("backing/autoscaler", "v1.35.2")}


def token(repositories: list[str]) -> str:
    """The server's token: it lets its bearer pull exactly these repositories."""
    return "pull:" + ",".join(sorted(repositories))


def pullable(authorization: str) -> list[str]:
    prefix = "Bearer pull:"
    return authorization.removeprefix(prefix).split(",") if authorization.startswith(prefix) else []


class Registry(BaseHTTPRequestHandler):
    token_answer: ClassVar[tuple[int, bytes] | None] = None  # None: a token for the scopes asked
    accepts: ClassVar[list[str]] = []  # the Accept header of each authorized manifest request

    def log_message(self, *args) -> None:  # quiet test output
        pass

    def _challenge(self, repository: str) -> None:
        port = self.server.server_address[1]
        scope = f',scope="repository:{repository}:pull"'
        realm = f"http://127.0.0.1:{port}/token"
        self._empty(401, **{"WWW-Authenticate": f'Bearer realm="{realm}",service="test"{scope}'})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/token":
            query = parse_qs(url.query)
            pulls = [s.split(":")[1] for s in query.get("scope", []) if s.endswith(":pull")]
            status, body = type(self).token_answer or (200, json.dumps({"token": token(pulls)}).encode())
            if query.get("service") != ["test"]:
                status, body = 400, b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def do_HEAD(self) -> None:
        repository, _, tag = self.path.removeprefix("/v2/").rpartition("/manifests/")
        if repository == "mirrored/autoscaler":  # registry.k8s.io's redirect to its backing registry
            self._empty(307, Location=f"/v2/backing/autoscaler/manifests/{tag}")
        elif repository not in pullable(self.headers.get("Authorization", "")):
            self._challenge(repository)
        elif (repository, tag) not in TAGS:
            type(self).accepts.append(self.headers.get("Accept", ""))
            self._empty(404)
        else:
            type(self).accepts.append(self.headers.get("Accept", ""))
            self._empty(200, **{"Content-Type": MANIFEST_TYPES[0], "Docker-Content-Digest": DIGEST,
                                "Content-Length": str(len(MANIFEST))})  # fmt: skip

    def _empty(self, status: int, **headers: str) -> None:
        """A response without a body (HEAD, redirects): headers only."""
        self.send_response(status)
        for name, value in {"Content-Length": "0", **headers}.items():
            self.send_header(name, value)
        self.end_headers()


@pytest.fixture
def registry(monkeypatch) -> Iterator[str]:
    """The registry's host:port; the token endpoint answers well unless a test changes it."""
    monkeypatch.setattr(Registry, "token_answer", None)
    monkeypatch.setattr(Registry, "accepts", [])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def images(registry, monkeypatch) -> list[StackImage]:
    """Two images on the loopback registry stand in for the stack's: one resolves, one is gone."""
    found = [StackImage("app", f"{registry}/team/app:1.0"), StackImage("gone", f"{registry}/team/app:9.9")]
    monkeypatch.setattr(stack_images, "declared", lambda: found)
    return found


def write(path, table: dict[str, Resolved]) -> bytes:
    path.write_text(json.dumps(image_digests.document(table), indent=2) + "\n")
    return path.read_bytes()


def test_resolve_follows_the_challenge_and_asks_for_indexes_first(registry):
    with httpx.Client(timeout=5) as http:
        resolution = resolve(http, f"{registry}/team/app:1.0")
    assert resolution.digest == DIGEST
    assert resolution.url == f"http://{registry}/v2/team/app/manifests/1.0"
    assert Registry.accepts[0].split(", ") == list(MANIFEST_TYPES)


def test_resolve_takes_the_scope_of_the_repository_it_was_redirected_to(registry):
    with httpx.Client(timeout=5) as http:
        assert resolve(http, f"{registry}/mirrored/autoscaler:v1.35.2").digest == DIGEST


@pytest.mark.parametrize(
    ("answer", "reason"),
    [((500, b"oops"), "answered HTTP 500"), ((200, b'{"expires_in": 60}'), "with no token"),
     ((200, b"<html>"), "with no JSON")],
)  # fmt: skip
def test_a_bad_token_answer_is_a_clear_error(registry, monkeypatch, answer, reason):
    monkeypatch.setattr(Registry, "token_answer", answer)
    with httpx.Client(timeout=5) as http, pytest.raises(RegistryError, match=reason):
        resolve(http, f"{registry}/team/app:1.0")


def test_references_name_their_registry_and_loopback_is_plain_http():
    assert Reference.parse("docker.io/grafana/grafana:12.3.0").manifest_url == (
        "https://registry-1.docker.io/v2/grafana/grafana/manifests/12.3.0"
    )
    assert Reference.parse("localhost:5000/a/b:1").manifest_url.startswith("http://localhost:5000/")
    for bad in ("nginx", "quay.io/x", "quay.io/x:1@sha256:" + "0" * 64):
        with pytest.raises(RegistryError):
            Reference.parse(bad)


def test_refresh_writes_the_digest_and_keeps_an_unresolved_entry(images, tmp_path, capsys):
    table = tmp_path / "digests.json"
    old = Resolved(images[1].image, "sha256:" + "1" * 64, "2025-01-01T00:00:00+00:00", "https://old.test/")
    write(table, {"gone": old, "retired": Resolved("r.test/x:1")})
    assert main(["images", "refresh", "--table", str(table)]) == 0
    written = image_digests.load(table)
    assert written["gone"] == old  # a 404 keeps the previous value
    app = written["app"]
    assert (app.image, app.digest) == (images[0].image, DIGEST)
    assert app.resolved_from.endswith("/v2/team/app/manifests/1.0") and app.resolved_at.endswith("+00:00")
    assert "retired" not in written  # no stack runs it any more
    output = capsys.readouterr()
    assert f"app: {images[0].image}@{DIGEST}" in output.out
    assert "gone: no such tag (HTTP 404" in output.err
    # Nothing new: a second refresh leaves the file as it is, resolved_at included.
    before = table.read_bytes()
    assert main(["images", "refresh", "--table", str(table)]) == 0
    assert table.read_bytes() == before


def test_a_bad_token_answer_resolves_nothing_and_writes_nothing(images, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Registry, "token_answer", (200, b'{"detail": "denied"}'))
    table = tmp_path / "digests.json"
    before = write(table, {"app": Resolved(images[0].image)})
    assert main(["images", "refresh", "--table", str(table)]) == 1
    assert table.read_bytes() == before
    err = capsys.readouterr().err
    assert "app: token endpoint" in err and "no image resolved" in err


def test_dry_run_resolves_and_writes_nothing(images, tmp_path, capsys):
    table = tmp_path / "digests.json"
    before = write(table, {"app": Resolved(images[0].image)})
    assert main(["images", "refresh", "--table", str(table), "--dry-run"]) == 0
    assert table.read_bytes() == before
    assert DIGEST in capsys.readouterr().out


def test_only_refreshes_the_named_keys_and_refuses_unknown_ones(images, tmp_path, capsys):
    table = tmp_path / "digests.json"
    write(table, {"retired": Resolved("r.test/x:1")})
    assert main(["images", "refresh", "--table", str(table), "--only", "app"]) == 0
    assert set(image_digests.load(table)) == {"app", "retired"}  # --only prunes nothing
    assert main(["images", "refresh", "--table", str(table), "--only", "nope"]) == 2
    assert "unknown image key(s): nope" in capsys.readouterr().err
