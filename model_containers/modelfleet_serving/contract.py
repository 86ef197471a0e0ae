"""The serving contract as the server sees it: port, paths, settings and metric names.

The platform's copy is ``infra/contracts/serving.py``, which documents each value;
the image is built from ``model_containers/`` alone, so the server keeps its own,
and a test fails when the two (or the Dockerfiles) disagree.
"""

PORT = 8080
PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
HEALTH_PATH = "/ping"
INVOKE_PATH = "/invocations"
METRICS_PATH = "/metrics"

ENV_ARCHIVE = "MODELFLEET_MODEL_ARCHIVE"
ENV_DRAIN_SECONDS = "MODELFLEET_DRAIN_SECONDS"
ENV_HANDLER = "MODELFLEET_HANDLER"
ENV_HOST = "MODELFLEET_HOST"
ENV_LOG_LEVEL = "MODELFLEET_LOG_LEVEL"
ENV_MAX_BATCH_SIZE = "MODELFLEET_MAX_BATCH_SIZE"
ENV_MAX_DELAY_MS = "MODELFLEET_MAX_DELAY_MS"
ENV_MAX_QUEUE_ROWS = "MODELFLEET_MAX_QUEUE_ROWS"
ENV_CACHE_ENTRIES = "MODELFLEET_CACHE_ENTRIES"
ENV_CACHE_MB = "MODELFLEET_CACHE_MB"
ENV_CACHE_TTL_SECONDS = "MODELFLEET_CACHE_TTL_SECONDS"
ENV_CAPTURE_PERCENT = "MODELFLEET_CAPTURE_PERCENT"
ENV_CAPTURE_BUCKET = "MODELFLEET_CAPTURE_BUCKET"
ENV_CAPTURE_PREFIX = "MODELFLEET_CAPTURE_PREFIX"
ENV_CAPTURE_KMS_KEY_ID = "MODELFLEET_CAPTURE_KMS_KEY_ID"
ENV_CAPTURE_FLUSH_SECONDS = "MODELFLEET_CAPTURE_FLUSH_SECONDS"
ENV_CAPTURE_MAX_BUFFER = "MODELFLEET_CAPTURE_MAX_BUFFER"

CAPTURE_CSV_CONTENT_TYPES = ("text/csv",)
CAPTURE_JSON_CONTENT_TYPES = ("application/json",)
CAPTURE_OUTCOMES = ("written", "dropped", "failed")

METRIC_REQUESTS = "modelfleet_requests"
METRIC_REQUEST_DURATION = "modelfleet_request_duration_seconds"
METRIC_BATCH_SIZE = "modelfleet_batch_size"
METRIC_INFLIGHT = "modelfleet_inflight_requests"
METRIC_QUEUE_DEPTH = "modelfleet_queue_depth"
METRIC_MODEL_LOADED = "modelfleet_model_loaded"
METRIC_CAPTURE_RECORDS = "modelfleet_capture_records"
