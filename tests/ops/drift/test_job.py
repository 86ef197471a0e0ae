"""The drift job end to end in moto: captures of a window in, metrics and a report out."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from infra.contracts import drift as contract
from infra.ops.drift import job, store
from tests.ops.drift.conftest import (
    BUCKET,
    COLUMNS,
    MODEL,
    csv_input,
    json_input,
    now,
    put_sagemaker_captures,
    record,
    rows,
    spread,
    upload_baseline,
)  # fmt: skip

HOURS = 6


def run(aws, end, **kwargs) -> dict:
    return job.execute(aws.s3, aws.cloudwatch, job.Run(BUCKET, MODEL, HOURS, **kwargs), now=end)


def metric(aws, name: str, end, feature: str | None = None) -> float | None:
    dimensions = [{"Name": contract.DIMENSION_MODEL, "Value": MODEL}]
    if feature:
        dimensions.append({"Name": contract.DIMENSION_FEATURE, "Value": feature})
    points = aws.cloudwatch.get_metric_statistics(
        Namespace=contract.NAMESPACE, MetricName=name, Dimensions=dimensions,
        StartTime=end - timedelta(hours=1), EndTime=end + timedelta(hours=1), Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]  # fmt: skip
    return points[0]["Maximum"] if points else None


def stored_report(aws, report: dict) -> dict:
    return store.read_json(aws.s3, BUCKET, store.report_key(MODEL, report["run_id"]))


def test_one_shifted_feature_is_the_only_one_drifted_in_report_and_metrics(aws, tmp_path):
    upload_baseline(aws, tmp_path)
    end = now()
    window = rows(600, seed=2, shift={"amount": 20})  # one standard deviation
    put_sagemaker_captures(
        aws, [(t, record(csv_input(row), t)) for t, row in zip(spread(end, HOURS, 600), window, strict=True)]
    )
    report = run(aws, end)

    assert report["drifted_features"] == ["amount"]
    assert report["rows_compared"] == 600 and report["undecodable_records"] == 0
    assert stored_report(aws, report) == json.loads(json.dumps(report, default=str))
    by_name = {f["feature"]: f for f in report["features"]}
    assert by_name["amount"]["psi"] > 0.2 and by_name["amount"]["ks_pvalue"] < 0.01
    assert "PSI" in by_name["amount"]["reason"]
    for name in ("age", "score", "country"):
        assert not by_name[name]["drifted"] and by_name[name]["psi"] < 0.1, by_name[name]
    assert report["thresholds"] == {"psi_drift": 0.2, "psi_moderate": 0.1, "ks_pvalue": 0.01, "min_rows": 50}
    assert report["window"]["hours"] == HOURS

    assert metric(aws, contract.METRIC_FEATURE_DRIFTED, end, "amount") == 1
    for name in ("age", "score", "country"):
        assert metric(aws, contract.METRIC_FEATURE_DRIFTED, end, name) == 0
    assert metric(aws, contract.METRIC_FEATURE_PSI, end, "amount") == pytest.approx(by_name["amount"]["psi"])
    assert metric(aws, contract.METRIC_DRIFTED_FEATURES, end) == 1
    assert metric(aws, contract.METRIC_DRIFT_SHARE, end) == 0.25
    assert metric(aws, contract.METRIC_ROWS, end) == 600


def test_a_shifted_category_mix_is_drifted_and_unseen_categories_are_named(aws, tmp_path):
    upload_baseline(aws, tmp_path)
    end = now()
    mix = (["DE", "FR", "IT", "ES"], [0.2, 0.3, 0.2, 0.3])
    window = rows(500, seed=3, countries=mix)
    put_sagemaker_captures(
        aws, [(t, record(csv_input(row), t)) for t, row in zip(spread(end, HOURS, 500), window, strict=True)]
    )
    report = run(aws, end)
    assert report["drifted_features"] == ["country"]
    country = next(f for f in report["features"] if f["feature"] == "country")
    assert country["kind"] == "categorical" and "ks_pvalue" not in country
    assert set(country["unseen_categories"]) == {"ES"}
    assert metric(aws, contract.METRIC_FEATURE_DRIFTED, end, "country") == 1


def test_json_payloads_instances_inputs_and_base64_are_decoded(aws, tmp_path):
    upload_baseline(aws, tmp_path)
    end = now()
    window = rows(300, seed=4, shift={"score": 1.5})
    times = spread(end, HOURS, 150)
    lines = []
    for i, t in enumerate(times):
        pair = window[2 * i : 2 * i + 2]
        if i % 3 == 0:
            body = json_input({"instances": pair})
        elif i % 3 == 1:  # positional rows, in the baseline's column order, sent as base64
            body = json_input({"instances": [[r[c] for c in COLUMNS] for r in pair]}, base64_encoded=True)
        else:  # columnar inputs
            body = json_input({"inputs": {c: [r[c] for r in pair] for c in COLUMNS}})
        lines.append((t, record(body, t)))
    put_sagemaker_captures(aws, lines)
    report = run(aws, end)
    assert report["rows_compared"] == 300 and report["records"] == 150
    assert report["undecodable_records"] == 0
    assert report["drifted_features"] == ["score"]


def test_undecodable_records_are_skipped_and_counted(aws, tmp_path):
    upload_baseline(aws, tmp_path)
    end = now()
    good = rows(200, seed=5)
    times = spread(end, HOURS, 206)
    bad = [
        "not json at all",
        record({"observedContentType": "text/csv", "data": "1,2", "encoding": "CSV"}, times[0]),  # columns
        record({"observedContentType": "application/json", "data": "{oops", "encoding": "JSON"}, times[1]),
        record(
            {"observedContentType": "application/json", "data": "!!notbase64", "encoding": "BASE64"}, times[2]
        ),
        record(
            {"observedContentType": "application/x-image", "data": "AAAA", "encoding": "BASE64"}, times[3]
        ),
        record(json_input(42), times[4]),
    ]
    lines = [(t, record(csv_input(row), t)) for t, row in zip(times[6:], good, strict=True)]
    lines += [(times[i], line) for i, line in enumerate(bad)]
    put_sagemaker_captures(aws, lines)
    report = run(aws, end)
    assert report["undecodable_records"] == 6
    assert report["records"] == 206 and report["rows_compared"] == 200
    assert report["drifted_features"] == []


def test_an_empty_window_compares_no_rows_and_calls_nothing_drifted(aws, tmp_path):
    upload_baseline(aws, tmp_path)
    end = now()
    old = end - timedelta(hours=HOURS + 2)  # before the window: not read
    put_sagemaker_captures(
        aws, [(old, record(csv_input(row), old)) for row in rows(100, seed=6, shift={"age": 30})]
    )
    report = run(aws, end)
    assert report["rows_compared"] == 0 and report["records"] == 0 and report["capture_files"] == 0
    assert report["drifted_features"] == [] and report["drift_share"] == 0
    assert all(
        not f["judged"] and not f["drifted"] and "fewer than 50" in f["reason"] for f in report["features"]
    )
    assert metric(aws, contract.METRIC_ROWS, end) == 0
    assert metric(aws, contract.METRIC_DRIFTED_FEATURES, end) == 0
    assert metric(aws, contract.METRIC_FEATURE_DRIFTED, end, "age") == 0
    assert metric(aws, contract.METRIC_FEATURE_PSI, end, "age") is None


def test_records_are_cut_at_the_window_by_their_inference_time(aws, tmp_path):
    """The window's first hour folder also holds requests from before the window started."""
    upload_baseline(aws, tmp_path)
    end = now().replace(minute=30, second=0)
    start = end - timedelta(hours=HOURS)
    before = [start - timedelta(minutes=20) + timedelta(seconds=i) for i in range(100)]
    inside = spread(end, HOURS, 100)
    lines = [(t, record(csv_input(r), t)) for t, r in zip(before, rows(100, 7, {"age": 40}), strict=True)]
    lines += [(t, record(csv_input(r), t)) for t, r in zip(inside, rows(100, 8), strict=True)]
    put_sagemaker_captures(aws, lines)
    report = run(aws, end)
    assert report["rows_compared"] == 100 and report["drifted_features"] == []


def test_eks_captures_and_several_variants_are_read(aws, tmp_path):
    upload_baseline(aws, tmp_path)
    end = now()
    times = spread(end, 1, 200)
    window = rows(200, seed=9, shift={"amount": 25})
    keys = put_sagemaker_captures(
        aws, [(t, record(csv_input(r), t)) for t, r in zip(times[:100], window[:100], strict=True)],
        variant="canary",
    )  # fmt: skip
    eks = "\n".join(record(csv_input(r), t) for t, r in zip(times[100:], window[100:], strict=True))
    aws.s3.put_object(Bucket=BUCKET, Key=f"{MODEL}/eks/pod-a/captures-0001.jsonl", Body=eks)
    aws.s3.put_object(Bucket=BUCKET, Key=f"{MODEL}/{contract.REPORTS_PREFIX}old.json", Body=b"{}")
    report = run(aws, end)
    assert report["capture_files"] == len(keys) + 1 and report["rows_compared"] == 200
    assert report["drifted_features"] == ["amount"]


def test_only_the_named_features_are_compared(aws, tmp_path):
    upload_baseline(aws, tmp_path)
    end = now()
    window = rows(300, seed=10, shift={"amount": 30})
    put_sagemaker_captures(
        aws, [(t, record(csv_input(r), t)) for t, r in zip(spread(end, HOURS, 300), window, strict=True)]
    )
    report = run(aws, end, features=["age", "country"])
    assert [f["feature"] for f in report["features"]] == ["age", "country"]
    assert report["drifted_features"] == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"features": ["amount", "colour"]}, "the baseline has no feature colour"),
        ({"thresholds": job.stats.Thresholds(psi_drift=0.05)}, "PSI thresholds need 0 < moderate <= drifted"),
    ],
)
def test_bad_input_stops_the_job_before_it_reads_captures(aws, tmp_path, kwargs, error):
    upload_baseline(aws, tmp_path)
    with pytest.raises(job.JobError, match=error):
        run(aws, now(), **kwargs)


def test_without_a_baseline_the_job_says_where_it_looked(aws, capsys, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    argv = ["--bucket", BUCKET, "--model", MODEL, "--window-hours", "24"]
    assert job.main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"drift job: no baseline at s3://{BUCKET}/{MODEL}/{contract.BASELINE_KEY}: "
        "write one with `modelfleet drift baseline`"
    )


def test_the_job_runs_from_its_command_line(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    upload_baseline(aws, tmp_path)
    end = now()
    put_sagemaker_captures(
        aws, [(t, record(csv_input(r), t)) for t, r in zip(spread(end, 2, 100), rows(100, 11), strict=True)]
    )
    argv = ["--bucket", BUCKET, "--model", MODEL, "--window-hours", "3", "--features", "age,score"]
    assert job.main([*argv, "--psi-threshold", "0.3", "--min-rows", "10"]) == 0
    printed = capsys.readouterr().out
    assert f"{MODEL}: 100 rows compared (0 undecodable records) in 3.0 h; drifted: none" in printed
    (key,) = store.report_keys(aws.s3, BUCKET, MODEL)
    report = store.read_json(aws.s3, BUCKET, key)
    assert report["thresholds"]["psi_drift"] == 0.3 and report["thresholds"]["min_rows"] == 10


def test_metrics_are_sent_in_batches_within_put_metric_datas_limit():
    calls = []

    class CloudWatch:
        def put_metric_data(self, Namespace, MetricData):  # noqa: N803 - boto3's names
            assert Namespace == contract.NAMESPACE and len(MetricData) <= 1000
            calls.append(len(MetricData))

    features = [
        {"feature": f"f{i}", "judged": True, "drifted": i == 7, "psi": 0.3 if i == 7 else 0.01}
        for i in range(600)
    ]
    report = {"model": MODEL, "features": features, "drifted_features": ["f7"], "drift_share": 1 / 600,
              "rows_compared": 10}  # fmt: skip
    assert job.publish(CloudWatch(), job.metric_data(report, now())) == 2
    assert calls == [1000, 203]
