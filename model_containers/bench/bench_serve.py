"""``make bench-serve``: our server against the AWS reference stack and MLServer, same model, one run.

Servers are pinned to core 0 and the load to core 1. For each server:
- saturation with ``wrk`` (bounded: a few seconds, fixed connections), while a
  prober measures ``/ping`` latency (bounded count);
- server CPU time per request, from ``/proc`` for every process of the server;
- latency percentiles from an open-loop constant-rate generator at half of
  saturation (bounded count and time);
- for ours, overload: ``h2load`` (nghttp2-client) sends open loop at 1x and 2x
  saturation, its per-request log giving the accepted requests' p99, the share
  answered 503 and the server's CPU per answered request. The connections open
  over a ramp, and only requests started after it count: thousands of
  connections opened at once overflow the listen queue, and the kernel's
  retransmissions (1 s, 3 s, 7 s) would be timed as the server's. The ramp's
  requests over a second are counted apart. The server runs with the queue
  deadline the platform sets from a p99 SLO (``--slo-ms``).
Then the compute-bound MLP: served rows/s against offline rows/s at batch 32; and
the text example (TF-IDF and logistic regression, one review per JSON request):
saturation, CPU per request and latency at half of saturation, as for the others.
``--servers ours`` leaves out the comparison servers. Nothing here is part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from infra.cli.args import positive_int
from infra.contracts.serving import queue_deadline_ms

HERE = Path(__file__).resolve().parent
CONTAINERS = HERE.parent
ROOT = CONTAINERS.parent
BENCH_PYTHON = ROOT / ".bench-venv" / "bin"
SERVER_CORE, LOAD_CORE = "0", "1"
ROW = ",".join(str(v / 10) for v in range(16))
REVIEW = json.dumps({"instances": ["a wonderful film with a moving story, though the ending felt slow"]})
SERVERS = ("ours", "reference", "mlserver")
H2LOAD_SECONDS = 4  # per overload run, measured after the ramp: bounded by count and by a timeout
H2LOAD_RAMP_SECONDS = 4  # connections opened evenly over this (about 1,000 a second at 2x), before the window


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Target:
    name: str
    url: str  # the invocation URL
    body: bytes
    content_type: str
    ping: str
    process: subprocess.Popen
    workdir: Path
    results: dict = field(default_factory=dict)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.workdir, ignore_errors=True)


def launch(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["taskset", "-c", SERVER_CORE, *command],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # one process group: CPU accounting and a clean stop
    )


def start_ours(model_dir: Path, workers: int, containers: Path = CONTAINERS, **env: str) -> Target:
    """Our server from ``containers`` (this checkout's ``model_containers/``, or an older revision's)."""
    port, workdir = free_port(), Path(tempfile.mkdtemp(prefix="bench-ours-"))
    process = launch(
        [sys.executable, "-m", "modelfleet_serving.serve"],
        {"PYTHONPATH": str(containers), "SM_MODEL_DIR": str(model_dir), "MODELFLEET_HOST": "127.0.0.1",
         "SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": str(workers),
         "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"), "MODELFLEET_LOG_LEVEL": "WARNING", **env},
        workdir,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    return Target("ours", f"{base}/invocations", ROW.encode(), "text/csv", f"{base}/ping", process, workdir)


def start_reference(model_dir: Path, workers: int) -> Target:
    port, workdir = free_port(), Path(tempfile.mkdtemp(prefix="bench-ref-"))
    template = (HERE / "nginx.conf.template").read_text()
    # Run as root, nginx would hand its workers to "nobody", who cannot reach gunicorn's socket here.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (workdir / "nginx.conf").write_text(template.format(dir=workdir, port=port, workers=workers, user=user))
    script = (
        f"{BENCH_PYTHON}/gunicorn --timeout 60 -k sync -w {workers} -b unix:{workdir}/gunicorn.sock "
        f"--chdir {HERE} reference_app:app & exec nginx -c {workdir}/nginx.conf -p {workdir}"
    )
    process = launch(["sh", "-c", script], {"MODEL_DIR": str(model_dir)}, workdir)
    base = f"http://127.0.0.1:{port}"
    return Target(
        "reference", f"{base}/invocations", ROW.encode(), "text/csv", f"{base}/ping", process, workdir
    )


def start_mlserver(model_dir: Path, workers: int) -> Target:
    port, workdir = free_port(), Path(tempfile.mkdtemp(prefix="bench-mlserver-"))
    # parallel_workers 0: inference in the server process (one process, as for the others). MLServer
    # 1.7.1's separate inference pool dies at start on Python 3.11 ("no current event loop").
    (workdir / "settings.json").write_text(json.dumps(
        {"http_port": port, "grpc_port": free_port(), "metrics_port": free_port(), "parallel_workers": 0,
         "debug": False}))  # fmt: skip
    (workdir / "model-settings.json").write_text(json.dumps(
        {"name": "sk", "implementation": "mlserver_sklearn.SKLearnModel",
         "parameters": {"uri": str(model_dir / "model.joblib")}}))  # fmt: skip
    process = launch([f"{BENCH_PYTHON}/mlserver", "start", str(workdir)], {}, workdir)
    body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 16], "datatype": "FP64",
                                   "data": [v / 10 for v in range(16)]}]}).encode()  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    return Target("mlserver", f"{base}/v2/models/sk/infer", body, "application/json", f"{base}/v2/health/ready",
                  process, workdir)  # fmt: skip


def wait_ready(target: Target, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(target.ping, timeout=1).status_code == 200:
                response = httpx.post(
                    target.url, content=target.body, headers={"content-type": target.content_type}
                )
                if response.status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{target.name} did not become ready")


def process_cpu_seconds(group: int) -> float:
    """User + system CPU seconds of every process in a process group."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wrk(target: Target, seconds: int, connections: int) -> dict:
    script = Path(target.workdir) / "post.lua"
    body = target.body.decode().replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\nwrk.headers["Content-Type"] = "{target.content_type}"\n'
    )
    output = subprocess.run(
        ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-s", str(script), target.url],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "requests": requests,
            "p50": latency("50"), "p99": latency("99"), "errors": int(errors.group(1)) if errors else 0}  # fmt: skip


def probe_ping(target: Target, stop: threading.Event, results: list[float], limit: int = 400) -> None:
    with httpx.Client(timeout=5) as client:
        while not stop.is_set() and len(results) < limit:
            started = time.perf_counter()
            client.get(target.ping)
            results.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)


def h2load_open_loop(
    target: Target, rate: float, seconds: float = H2LOAD_SECONDS, ramp: float = H2LOAD_RAMP_SECONDS
) -> dict:
    """``rate`` requests a second, sent whatever the answers (open loop), from h2load: the clients
    start evenly over ``ramp`` seconds, and the requests started in the ``seconds`` after it are measured.

    A client sends ``--rps`` a second on one HTTP/1.1 connection, one request in flight, so arrivals
    are spread evenly rather than in bursts; each sends for the ramp, the window and one second more,
    so every client is sending throughout the window. h2load times a request from when it sent it. The
    window's offered rate shows whether the schedule was kept (a client waiting for a late answer
    sends late). The server's CPU is counted over the run and divided by the requests answered.
    """
    # One request in flight per client: an answer later than 100 ms (the SLO) delays the client's next.
    # Fewer, busier clients than at 5 a second: 10,000 connections cost the server more than their requests.
    per_client = 10
    clients = max(1, round(rate / per_client))
    each = int(per_client * (ramp + seconds + 1))
    per_period = max(1, math.ceil(clients / (ramp * 100)))  # clients started per 10 ms over the ramp
    log = Path(target.workdir) / f"h2load-{rate:.0f}.log"
    cpu_before, started, overflows = (
        process_cpu_seconds(target.process.pid),
        time.monotonic(),
        listen_overflows(),
    )
    subprocess.run(
        ["taskset", "-c", LOAD_CORE, "h2load", "--h1", "-c", str(clients), "--rps", str(per_client),
         "-r", str(per_period), "--rate-period", "10ms", "-n", str(clients * each), "-T", "30", "-H",
         f"content-type: {target.content_type}", "-d", str(_body_file(target)), "--log-file", str(log), target.url],
        capture_output=True, text=True, timeout=(ramp + seconds) * 5 + 60, check=True,
    )  # fmt: skip
    took = time.monotonic() - started
    cpu = process_cpu_seconds(target.process.pid) - cpu_before
    rows = np.loadtxt(log, dtype=np.int64, ndmin=2)  # start (µs since epoch), status, µs to the answer
    offset = (rows[:, 0] - rows[:, 0].min()) / 1e6
    window = rows[(offset >= ramp) & (offset < ramp + seconds)]
    status, micros = window[:, 1], window[:, 2]
    accepted = micros[status == 200] / 1000 if (status == 200).any() else np.array([float("nan")])
    in_ramp = rows[offset < ramp]
    return {"rate": clients * per_client, "sent": len(rows), "window_sent": len(window),
            "offered_per_s": len(window) / seconds, "served_per_s": float((status == 200).sum()) / seconds,
            "share_503": float((status == 503).mean()), "other": int(((status != 200) & (status != 503)).sum()),
            "p50": float(np.percentile(accepted, 50)), "p99": float(np.percentile(accepted, 99)),
            "max": float(accepted.max()), "ramp_over_1s": int((in_ramp[:, 2] > 1_000_000).sum()),
            "listen_overflows": listen_overflows() - overflows,
            "took_s": took, "cpu_us_per_request": cpu / max(1, len(rows)) * 1e6}  # fmt: skip


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(
                dict(zip(names.split()[1:], values.split()[1:], strict=True)).get("ListenOverflows", 0)
            )
    return 0


def _body_file(target: Target) -> Path:
    path = Path(target.workdir) / "body"
    path.write_bytes(target.body)
    return path


async def read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    if length:
        await reader.readexactly(int(length.group(1)))
        return
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


async def open_loop(target: Target, rate: float, seconds: float, connections: int = 128) -> dict:
    """Send at a constant rate whatever the answers, timing each request from when it was due.

    Raw HTTP/1.1 on persistent connections: a general-purpose async client cannot
    keep thousands of requests a second on time from one core. Bounded by count.
    """
    count = int(rate * seconds)
    host, port, path = re.match(r"http://([^:/]+):(\d+)(/.*)", target.url).groups()
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {target.content_type}\r\n"
               f"Content-Length: {len(target.body)}\r\n\r\n").encode() + target.body  # fmt: skip
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    due: asyncio.Queue[float] = asyncio.Queue()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while True:
                scheduled = await due.get()
                if scheduled < 0:
                    return
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                await read_body(reader, head)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append((time.perf_counter() - scheduled) * 1000)
        except (OSError, asyncio.IncompleteReadError, AttributeError):
            statuses[0] = statuses.get(0, 0) + 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    start = time.perf_counter()
    for index in range(count):
        scheduled = start + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        due.put_nowait(scheduled)
    for _ in workers:
        due.put_nowait(-1.0)
    await asyncio.wait_for(asyncio.gather(*workers, return_exceptions=True), timeout=seconds + 60)
    values = np.array(latencies) if latencies else np.array([float("nan")])
    return {"sent": count, "statuses": statuses, "p50": float(np.percentile(values, 50)),
            "p99": float(np.percentile(values, 99))}  # fmt: skip


def saturate(
    target: Target, seconds: int, connections: int, during: contextlib.AbstractContextManager | None = None
) -> dict:
    """``wrk`` for ``seconds`` after a 2 s warm-up, with the server's CPU per request counted, and
    ``during`` (a prober, say) held open around the measured run only."""
    wrk(target, 2, connections)  # warm-up
    cpu_before = process_cpu_seconds(target.process.pid)
    with during or contextlib.nullcontext():
        result = wrk(target, seconds, connections)
    cpu = process_cpu_seconds(target.process.pid) - cpu_before
    result["cpu_us_per_request"] = cpu / max(1, result["requests"]) * 1e6
    return result


@contextlib.contextmanager
def pinging(target: Target, pings: list[float]) -> Iterator[None]:
    """``/ping`` probed from a thread for as long as the block runs, its latencies in ``pings``."""
    stop = threading.Event()
    prober = threading.Thread(target=probe_ping, args=(target, stop, pings))
    prober.start()
    try:
        yield
    finally:
        stop.set()
        prober.join()


def measure(target: Target, seconds: int, connections: int) -> dict:
    wait_ready(target)
    pings: list[float] = []
    result = saturate(target, seconds, connections, pinging(target, pings))
    result["ping_p99"] = float(np.percentile(pings, 99)) if pings else float("nan")
    os.sched_setaffinity(0, {int(LOAD_CORE)})
    result["half_load"] = asyncio.run(open_loop(target, max(1.0, result["rps"] / 2), 4))
    return result


def measure_cpu(containers: Path, model_dir: Path, seconds: int, connections: int = 32) -> float:
    """Server CPU per request (µs) of our server from ``containers`` at saturation under ``wrk``."""
    target = start_ours(model_dir, 1, containers)
    try:
        wait_ready(target)
        return saturate(target, seconds, connections)["cpu_us_per_request"]
    finally:
        target.stop()


def offline_rows_per_second(model_dir: Path, batch: int = 32, seconds: float = 3) -> float:
    sys.path.insert(0, str(CONTAINERS))
    from modelfleet_serving.handlers import load_handler  # noqa: PLC0415

    os.sched_setaffinity(0, {int(SERVER_CORE)})
    handler = load_handler(model_dir)
    rows = np.random.default_rng(0).standard_normal((batch, handler.n_features))
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        handler.predict_batch(rows)
        done += batch
    return done / (time.perf_counter() - started)


def comparison(rows: dict) -> None:
    print("\nOverhead-bound 1-row model (1 worker each, core 0; load on core 1)")
    print(
        f"{'server':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} {'/ping p99 ms':>13} {'errors':>7}"
    )
    for name, row in rows.items():
        print(f"{name:<10} {row['rps']:>9.0f} {row['p50']:>8.2f} {row['p99']:>8.2f} "
              f"{row['cpu_us_per_request']:>11.0f} {row['ping_p99']:>13.2f} {row['errors']:>7}")  # fmt: skip
    ours = rows.get("ours")
    if ours and "reference" in rows and "mlserver" in rows:
        ref, mls = rows["reference"], rows["mlserver"]
        print(
            f"ratios: ours/reference {ours['rps'] / ref['rps']:.1f}x, ours/MLServer {ours['rps'] / mls['rps']:.1f}x"
        )
    for name, row in rows.items():
        half = row["half_load"]
        print(f"{name}: open loop at half saturation ({half['sent']} sent): p50 {half['p50']:.2f} ms, "
              f"p99 {half['p99']:.2f} ms, statuses {half['statuses']}")  # fmt: skip
    if ours:
        print(
            f"ours under open-loop load from h2load, queue deadline {ours['queue_deadline_ms']} ms "
            f"(half of a {ours['slo_ms']} ms p99 SLO):"
        )
        for load, run in ours["overload"].items():
            print(f"  {load} saturation ({run['rate']} req/s asked; {run['window_sent']} sent in the {H2LOAD_SECONDS} s "
                  f"after a {H2LOAD_RAMP_SECONDS} s ramp, {run['offered_per_s']:.0f}/s, {run['served_per_s']:.0f}/s "
                  f"answered 200): 503 share {run['share_503']:.1%}, accepted p50 {run['p50']:.1f} ms, "
                  f"p99 {run['p99']:.1f} ms, max {run['max']:.1f} ms; CPU {run['cpu_us_per_request']:.0f} us/req "
                  f"over the run ({run['took_s']:.1f} s); during the ramp {run['ramp_over_1s']} requests took over "
                  f"1 s; {run['listen_overflows']} handshakes dropped on a full listen queue; "
                  f"other statuses {run['other']}")  # fmt: skip
        print(f"  alive after: {ours['alive_after_overload']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=positive_int, default=8, help="saturation run per server")
    parser.add_argument("--connections", type=positive_int, default=32)
    parser.add_argument("--slo-ms", type=int, default=100,
                        help="p99 SLO of the served model: our queue deadline is the platform's share of it")  # fmt: skip
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS),
                        help="servers for the 1-row comparison (the MLP and text runs are ours alone)")  # fmt: skip
    args = parser.parse_args()
    examples = Path(tempfile.mkdtemp(prefix="bench-models-"))
    subprocess.run([sys.executable, "-m", "modelfleet_serving.make_examples", str(examples)], check=True,
                   env={**os.environ, "PYTHONPATH": str(CONTAINERS)}, stdout=subprocess.DEVNULL)  # fmt: skip
    starters = {"ours": start_ours, "reference": start_reference, "mlserver": start_mlserver}
    rows = {}
    deadline_ms = queue_deadline_ms(args.slo_ms)
    for name in (name for name in SERVERS if name in args.servers):
        target = (
            start_ours(examples / "sklearn", 1, MODELFLEET_QUEUE_DEADLINE_MS=str(deadline_ms))
            if name == "ours"
            else starters[name](examples / "sklearn", 1)
        )
        try:
            rows[target.name] = measure(target, args.seconds, args.connections)
            print(f"{target.name}: {rows[target.name]}", flush=True)
            if target.name == "ours":
                # A connection per client: at 2x saturation several thousand.
                resource.setrlimit(
                    resource.RLIMIT_NOFILE, (16384, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
                )
                saturation = rows["ours"]["rps"]
                rows["ours"] |= {"slo_ms": args.slo_ms, "queue_deadline_ms": deadline_ms}
                rows["ours"]["overload"] = {
                    f"{times}x": h2load_open_loop(target, saturation * times) for times in (1, 2)
                }
                rows["ours"]["alive_after_overload"] = httpx.get(target.ping, timeout=5).status_code == 200
        finally:
            target.stop()
    print(json.dumps(rows, indent=1))
    comparison(rows)

    os.sched_setaffinity(0, {0, 1})
    offline = offline_rows_per_second(examples / "mlp")
    target = start_ours(examples / "mlp", 1, MODELFLEET_MAX_BATCH_SIZE="32", MODELFLEET_MAX_DELAY_MS="2")
    target.body = ",".join(["0.5"] * 64).encode()
    try:
        wait_ready(target)
        wrk(target, 2, 64)
        served = wrk(target, args.seconds, 64)
    finally:
        target.stop()
    print(f"\nCompute-bound MLP: offline {offline:.0f} rows/s at batch 32; served {served['rps']:.0f} rows/s "
          f"({served['rps'] / offline:.0%} of offline), p99 {served['p99']:.1f} ms, errors {served['errors']}")  # fmt: skip

    os.sched_setaffinity(0, {0, 1})
    target = start_ours(examples / "text", 1)
    target.body, target.content_type = REVIEW.encode(), "application/json"
    try:
        text = measure(target, args.seconds, args.connections)
    finally:
        target.stop()
    half = text["half_load"]
    print(f"\nText model (TF-IDF + logistic regression, one review per JSON request, ours): {text['rps']:.0f} req/s, "
          f"p50 {text['p50']:.2f} ms, p99 {text['p99']:.2f} ms, CPU {text['cpu_us_per_request']:.0f} us/req, "
          f"/ping p99 {text['ping_p99']:.2f} ms, errors {text['errors']}; at half saturation "
          f"({half['sent']} sent): p50 {half['p50']:.2f} ms, p99 {half['p99']:.2f} ms, statuses {half['statuses']}")  # fmt: skip
    shutil.rmtree(examples, ignore_errors=True)


if __name__ == "__main__":
    main()
