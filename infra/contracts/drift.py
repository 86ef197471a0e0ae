"""The drift job's contract: where it reads and writes, and the CloudWatch metrics it publishes.

One owner for the names the job's code, the stack (schedule, alarms, dashboard) and
``modelfleet drift`` share, so none of them spells a key or a metric on its own.

Layout in the stack's data-capture bucket, per model:
- ``<model>/...``: captured requests and responses. SageMaker writes its own
  capture layout (``<model>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``); EKS
  models' containers write the same JSON-lines records under ``<model>/eks/...``.
- ``<model>/drift/baseline.json``: the baseline ``modelfleet drift baseline`` writes.
- ``<model>/drift/reports/<run id>.json``: one report per run of the job.
"""

from __future__ import annotations

NAMESPACE = "modelfleet/Drift"  # custom CloudWatch namespace of the drift metrics
DIMENSION_MODEL = "Model"  # every drift metric carries the model's name
DIMENSION_FEATURE = "Feature"  # per-feature metrics carry the feature's name too
METRIC_FEATURE_PSI = "FeaturePSI"  # population stability index of one feature vs its baseline
METRIC_FEATURE_DRIFTED = "FeatureDrifted"  # 1 when the feature's test says drifted, else 0
METRIC_DRIFTED_FEATURES = "DriftedFeatures"  # how many features drifted in the window (per model)
METRIC_DRIFT_SHARE = "DriftShare"  # drifted features / features compared, 0-1 (per model)
METRIC_ROWS = "RowsCompared"  # captured rows the window held (per model): 0 means nothing to judge
EKS_CAPTURE_FOLDER = "eks"  # EKS containers write under <model>/eks/<variant>/yyyy/mm/dd/hh/
DRIFT_PREFIX = "drift"  # under the model's capture prefix
BASELINE_KEY = "drift/baseline.json"
REPORTS_PREFIX = "drift/reports/"


def eks_capture_prefix(model: str, variant: str) -> str:
    """Where one EKS variant's containers write their captures, in the capture bucket."""
    return f"{model}/{EKS_CAPTURE_FOLDER}/{variant}/"
