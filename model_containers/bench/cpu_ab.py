"""``make bench-serve-ab``: server CPU per request of this checkout against an older revision, in pairs.

The machine's speed moves by half from minute to minute (a shared VM), so a figure
measured once is not comparable with one measured later. This runs the two servers
one after the other, several times (A, B, A, B, ...), each under the same load:
the 1-row scikit-learn example, one worker pinned to core 0, ``wrk`` with 32
connections on core 1 for a few seconds after a warm-up. CPU per request is the
user and system time of the server's processes (from ``/proc``) over the requests
``wrk`` counted. It prints every pair, each pair's ratio, and the medians.
The older revision's ``model_containers/`` is taken with ``git archive`` into a
temporary folder; both run on this checkout's virtualenv. Bounded by count and time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_serve import CONTAINERS, ROOT, measure_cpu

from infra.cli.args import positive_int

BEFORE = "7aaaa9b"  # main before the performance work on the server (the capture merge)


def checkout(revision: str, into: Path) -> Path:
    """``model_containers/`` of ``revision`` under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "model_containers"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "model_containers"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BEFORE, help="the revision to compare with (default: %(default)s)")
    parser.add_argument("--pairs", type=positive_int, default=5)
    parser.add_argument("--seconds", type=positive_int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as folder:
        work = Path(folder)
        base = checkout(args.base, work)
        subprocess.run([sys.executable, "-m", "modelfleet_serving.make_examples", str(work / "models")],
                       check=True, env={**os.environ, "PYTHONPATH": str(CONTAINERS)},
                       stdout=subprocess.DEVNULL)  # fmt: skip
        model = work / "models" / "sklearn"
        rows: list[tuple[float, float]] = []
        for pair in range(args.pairs):
            before = measure_cpu(base, model, args.seconds)
            after = measure_cpu(CONTAINERS, model, args.seconds)
            rows.append((before, after))
            print(f"pair {pair + 1}: {args.base} {before:.1f} us/req, this checkout {after:.1f} us/req, "
                  f"ratio {after / before:.2f}", flush=True)  # fmt: skip
    befores, afters = [b for b, _ in rows], [a for _, a in rows]
    ratio = statistics.median(a / b for b, a in rows)
    print(f"medians: {args.base} {statistics.median(befores):.1f} us/req, this checkout "
          f"{statistics.median(afters):.1f} us/req; median pair ratio {ratio:.2f} ({abs(1 - ratio):.0%} {'less' if ratio <= 1 else 'more'})")  # fmt: skip


if __name__ == "__main__":
    main()
