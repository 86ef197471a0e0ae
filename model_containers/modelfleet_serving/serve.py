"""``serve``: start the model server the way SageMaker and Kubernetes run it.

Workers are processes (``SAGEMAKER_MODEL_SERVER_WORKERS``, else the usable CPUs),
each with one BLAS/OpenMP thread so workers never fight over cores. SIGTERM
stops accepting, drains in-flight requests and exits within the drain time.
"""

from __future__ import annotations

import os
import socket

from modelfleet_serving import contract  # no dependencies: cheap before binding


def listen(host: str, port: int) -> socket.socket:
    """Bind first, import later: the kernel queues connections from this moment on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


if __name__ == "__main__":  # before the slow imports below
    _SOCKET = listen(
        os.environ.get(contract.ENV_HOST, "0.0.0.0"),
        int(os.environ.get(contract.PORT_ENV) or contract.PORT),
    )

import logging  # noqa: E402
import logging.config  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import orjson  # noqa: E402

from modelfleet_serving.config import ConfigError, ServerConfig  # noqa: E402

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any ``extra=`` fields."""

    _standard = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **{k: v for k, v in record.__dict__.items() if k not in self._standard},
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get(contract.ENV_LOG_LEVEL, "INFO")},
    "loggers": {
        "uvicorn.access": {"level": "WARNING"},  # no line per request
        "botocore": {"level": "WARNING"},  # data capture's S3 client: its failures are logged by capture.py
    },
}


def prepare_environment() -> None:
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)  # stale files from a previous run
    else:
        directory = tempfile.mkdtemp(prefix="modelfleet-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    Path(directory).mkdir(parents=True, exist_ok=True)


def unpack_archive(archive: Path, model_dir: Path) -> None:
    """Unpack ``model.tar.gz`` into the model directory once, before workers fork.

    On EKS an init container only downloads the artifact; unpacking here needs no
    tools in that image, and the ``data`` filter refuses links and paths that
    would escape the model directory.
    """
    import tarfile  # noqa: PLC0415

    model_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as bundle:
        bundle.extractall(model_dir, filter="data")


def main(sock: socket.socket | None = None) -> None:
    logging.config.dictConfig(LOGGING)
    try:
        config = ServerConfig.from_env()
    except ConfigError as exc:  # one line saying what to fix, no traceback, and no server
        logging.getLogger("modelfleet.serving").error(f"invalid settings: {exc}")
        raise SystemExit(2) from None
    sock = sock or listen(os.environ.get(contract.ENV_HOST, "0.0.0.0"), config.port)
    prepare_environment()
    archive = os.environ.get(contract.ENV_ARCHIVE)
    if archive and Path(archive).exists():
        unpack_archive(Path(archive), config.model_dir)
    import uvicorn  # noqa: PLC0415 - after the environment is prepared
    from uvicorn.supervisors import Multiprocess  # noqa: PLC0415

    logging.getLogger("modelfleet.serving").info(
        "starting", extra={"port": config.port, "workers": config.workers, "model_dir": str(config.model_dir)}
    )
    server_config = uvicorn.Config(
        "modelfleet_serving.app:create_app",
        factory=True,
        workers=config.workers,
        loop="uvloop",
        # uvicorn's httptools protocol with a shorter path per request (protocol.py)
        http="modelfleet_serving.protocol:ServingProtocol",
        access_log=False,
        # The app never reads the client address or scheme: skip the proxy-headers middleware's
        # per-request work, and name no server software in responses.
        proxy_headers=False,
        server_header=False,
        log_config=LOGGING,
        timeout_keep_alive=75,  # longer than the load balancers' idle timeouts
        timeout_graceful_shutdown=config.graceful_shutdown_seconds,
    )
    if config.workers > 1:
        Multiprocess(server_config, sockets=[sock]).run()
    else:
        uvicorn.Server(server_config).run(sockets=[sock])


if __name__ == "__main__":
    main(_SOCKET)
