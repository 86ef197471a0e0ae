"""The drift job: one window of a model's captured requests against its baseline.

Run where the schedule runs it, a SageMaker Processing job or a Kubernetes CronJob,
with the credentials and region of its environment::

    python -m infra.ops.drift.job --bucket <capture bucket> --model fraud-scorer --window-hours 24

It reads ``<model>/drift/baseline.json`` (``modelfleet drift baseline`` writes it), lists
and decodes the window's captures (``infra.ops.drift.captures``), compares each feature with
its baseline (``infra.ops.drift.stats``), publishes the metrics ``infra.contracts.drift``
names, and writes a report to ``<model>/drift/reports/<run id>.json``. Exit codes: 0 the
window was judged (drift is what the metrics and the report say, not an exit code);
1 an AWS call failed; 2 invalid input (no baseline, an unknown feature, bad thresholds).

Why scipy and not a drift library: PSI and the KS test are a few lines over
``scipy.special.rel_entr`` and ``scipy.stats.ks_2samp``, scipy (with numpy) is a small,
well-kept dependency, and the job runs as a plain process: no server, no database.
Evidently or whylogs would bring pandas, plotting and their own report formats to
compute the same two statistics. docs/drift.md says more, thresholds included.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.contracts import drift as contract
from infra.ops.drift import baseline as baselines
from infra.ops.drift import captures, stats, store

# PutMetricData takes up to 1,000 metrics per call (and 1 MB): CloudWatch API reference.
MAX_METRICS_PER_CALL = 1000
MAX_WINDOW_HOURS = 24 * 31
DEFAULTS = stats.Thresholds()


class JobError(Exception):
    """What stops the job before it judges the window: ``code`` is its exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Run:
    bucket: str
    model: str
    window_hours: float
    features: list[str] | None = None  # default: every feature of the baseline
    thresholds: stats.Thresholds = DEFAULTS


def run_id(end: datetime) -> str:
    """``20261203T100000Z-1a2b3c4d``: the window's end first, so that reports sort by time."""
    return f"{end:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def load_baseline(s3: Any, bucket: str, model: str) -> dict[str, Any]:
    key = store.baseline_key(model)
    try:
        found = store.read_json(s3, bucket, key)
    except store.Missing:
        raise JobError(
            f"no baseline at {store.url(bucket, key)}: write one with `modelfleet drift baseline`"
        ) from None
    except ValueError as error:
        raise JobError(str(error)) from None
    wrong = baselines.problems(found)
    if wrong:
        raise JobError(f"{store.url(bucket, key)}: {'; '.join(wrong)}")
    return found


def judge(run: Run, baseline: dict[str, Any], window: captures.Window, now: datetime) -> dict[str, Any]:
    """The report of one window: pure, given the baseline and the decoded captures."""
    results = [
        stats.compare(name, baseline["features"][name], window.values[name], run.thresholds)
        for name in window.features
    ]
    judged = [r for r in results if r["judged"]]
    drifted = [r["feature"] for r in results if r["drifted"]]
    return {
        "run_id": run_id(window.end),
        "model": run.model,
        "bucket": run.bucket,
        "created": now.isoformat(timespec="seconds"),
        "window": {
            "start": window.start.isoformat(timespec="seconds"),
            "end": window.end.isoformat(timespec="seconds"),
            "hours": run.window_hours,
        },
        "baseline": {
            "key": store.baseline_key(run.model),
            "created": baseline.get("created"),
            "source": baseline.get("source"),
            "rows": baseline.get("rows"),
        },
        "thresholds": run.thresholds.to_dict(),
        "rows_compared": window.rows,
        "records": window.records,
        "undecodable_records": window.undecodable,
        "capture_files": window.files,
        "features_compared": len(judged),
        "drifted_features": drifted,
        "drift_share": len(drifted) / len(judged) if judged else 0.0,
        "features": results,
    }


def metric_data(report: dict[str, Any], timestamp: datetime) -> list[dict[str, Any]]:
    """The report as CloudWatch metric data: per feature, then per model.

    A feature that was not judged (too few values) publishes FeatureDrifted 0 and no PSI.
    """
    model = {"Name": contract.DIMENSION_MODEL, "Value": report["model"]}

    def datum(name: str, value: float, unit: str, *dimensions: dict[str, str]) -> dict[str, Any]:
        return {
            "MetricName": name, "Dimensions": [model, *dimensions], "Timestamp": timestamp,
            "Value": float(value), "Unit": unit,
        }  # fmt: skip

    data = []
    for result in report["features"]:
        feature = {"Name": contract.DIMENSION_FEATURE, "Value": result["feature"]}
        if result["judged"]:
            data.append(datum(contract.METRIC_FEATURE_PSI, result["psi"], "None", feature))
        data.append(datum(contract.METRIC_FEATURE_DRIFTED, int(result["drifted"]), "Count", feature))
    data += [
        datum(contract.METRIC_DRIFTED_FEATURES, len(report["drifted_features"]), "Count"),
        datum(contract.METRIC_DRIFT_SHARE, report["drift_share"], "None"),
        datum(contract.METRIC_ROWS, report["rows_compared"], "Count"),
    ]
    return data


def batches(data: list[dict[str, Any]], size: int = MAX_METRICS_PER_CALL) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def publish(cloudwatch: Any, data: list[dict[str, Any]]) -> int:
    """PutMetricData in calls within its limit; the number of calls."""
    calls = 0
    for batch in batches(data):
        cloudwatch.put_metric_data(Namespace=contract.NAMESPACE, MetricData=batch)
        calls += 1
    return calls


def execute(s3: Any, cloudwatch: Any, run: Run, now: datetime | None = None) -> dict[str, Any]:
    """Judge the window that ends ``now``: metrics published and the report written; the report."""
    problems = run.thresholds.problems()
    if not 0 < run.window_hours <= MAX_WINDOW_HOURS:
        problems.append(f"the window must be more than 0 and at most {MAX_WINDOW_HOURS} hours")
    if problems:
        raise JobError("; ".join(problems))
    end = (now or datetime.now(UTC)).astimezone(UTC)
    baseline = load_baseline(s3, run.bucket, run.model)
    known = list(baseline["features"])
    features = run.features or known
    unknown = [name for name in features if name not in known]
    if unknown:
        raise JobError(f"the baseline has no feature {', '.join(unknown)} (features: {', '.join(known)})")
    start = end - timedelta(hours=run.window_hours)
    window = captures.read_window(s3, run.bucket, run.model, baseline["columns"], features, start, end)
    report = judge(run, baseline, window, end)
    publish(cloudwatch, metric_data(report, end))
    store.write_json(s3, run.bucket, store.report_key(run.model, report["run_id"]), report)
    return report


def summary(report: dict[str, Any]) -> str:
    drifted = ", ".join(report["drifted_features"]) or "none"
    return (
        f"{report['model']}: {report['rows_compared']} rows compared "
        f"({report['undecodable_records']} undecodable records) in {report['window']['hours']} h; "
        f"drifted: {drifted}; report {report['run_id']}"
    )


def _parser() -> argparse.ArgumentParser:
    defaults = DEFAULTS
    parser = argparse.ArgumentParser(
        prog="python -m infra.ops.drift.job", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--bucket", required=True, help="the stack's data-capture bucket")
    parser.add_argument("--model", required=True, help="the model's name: its captures' prefix")
    parser.add_argument("--window-hours", type=float, required=True, help="judge the last H hours")
    parser.add_argument("--features", help="comma-separated features to compare (default: the baseline's)")
    parser.add_argument("--region", help="default: the environment's (AWS_REGION, AWS_DEFAULT_REGION)")
    parser.add_argument(
        "--psi-threshold",
        type=float,
        default=defaults.psi_drift,
        help="PSI above: drifted (default %(default)s)",
    )
    parser.add_argument(
        "--psi-moderate", type=float, default=defaults.psi_moderate,
        help="PSI above: moderate, reported only (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--ks-pvalue", type=float, default=defaults.ks_pvalue,
        help="numeric features: KS p-value below: drifted (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--min-rows", type=int, default=defaults.min_rows,
        help="a feature with fewer values in the window is not judged (default %(default)s)",
    )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from infra.ops.clients import client  # noqa: PLC0415

    features = [f.strip() for f in args.features.split(",") if f.strip()] if args.features else None
    run = Run(
        bucket=args.bucket,
        model=args.model,
        window_hours=args.window_hours,
        features=features,
        thresholds=stats.Thresholds(args.psi_threshold, args.psi_moderate, args.ks_pvalue, args.min_rows),
    )
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    try:
        if not region:
            raise JobError("no region: set AWS_REGION or pass --region")
        report = execute(client("s3", region), client("cloudwatch", region), run)
    except JobError as error:
        print(f"drift job: {error}", file=sys.stderr)
        return error.code
    except (BotoCoreError, ClientError) as error:
        print(f"drift job: AWS call failed: {error}", file=sys.stderr)
        return 1
    print(summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
