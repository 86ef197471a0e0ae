"""A real model server on 127.0.0.1, started per test module and stopped after."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from modelfleet_serving.make_examples import make_mlp, make_sklearn

ROOT = Path(__file__).resolve().parents[2]


def run(coroutine):
    """Run on a private loop, leaving the thread's current loop alone (``asyncio.run`` resets it)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def loaded_app(tmp_path_factory, name: str, **settings):
    """A ``ServingApp`` in this process with the scikit-learn example loaded, under ``settings``."""
    from modelfleet_serving.app import ServingApp
    from modelfleet_serving.config import ServerConfig

    model_dir = make_sklearn(tmp_path_factory.mktemp(name) / "sklearn")
    serving = ServingApp(ServerConfig(model_dir=model_dir, **settings))
    serving._load()
    return serving


@pytest.fixture(scope="session")
def examples(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("examples")
    make_sklearn(root / "sklearn")
    make_mlp(root / "mlp")
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, model_dir: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "model_containers"),
            "SM_MODEL_DIR": str(model_dir),
            "MODELFLEET_HOST": "127.0.0.1",
            "SAGEMAKER_BIND_TO_PORT": str(self.port),
            "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(model_dir.parent / f"metrics-{self.port}"),
            **env,
        }
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "modelfleet_serving.serve"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def wait_until_listening(self, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.05):
                    return time.monotonic() - self.started
            except OSError:
                time.sleep(0.01)
        raise TimeoutError("server did not listen")

    def wait_until_ready(self, timeout: float = 15) -> None:
        self.wait_until_listening(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(f"{self.url}/ping").status_code == 200:
                return
            time.sleep(0.05)
        raise TimeoutError("model did not load")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def start_server(examples) -> Iterator:
    servers: list[Server] = []

    def start(model: str = "sklearn", **env: str) -> Server:
        server = Server(examples / model, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def sklearn_server(tmp_path_factory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("sk")
    make_sklearn(root / "sklearn")
    server = Server(root / "sklearn", MODELFLEET_CACHE_ENTRIES="100")
    server.wait_until_ready()
    yield server
    server.stop()
