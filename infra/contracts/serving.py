"""The serving contract: what the platform expects of a model container, on SageMaker and on EKS.

SageMaker's own contract for a custom inference container fixes the first part:
the container answers ``GET /ping`` (healthy when it returns 200) and
``POST /invocations`` on port 8080, and SageMaker may move the port through
``SAGEMAKER_BIND_TO_PORT`` when the image carries the
``com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true`` label. EKS uses
the same port and paths, so one image serves on both backends: the pods' probes,
the load balancer's health check and the Service all read them here.

The rest is modelfleet's own: the ``MODELFLEET_*`` settings the server reads, and
the Prometheus metric names the HPA (through prometheus-adapter) and the Grafana
dashboard read. The model server keeps its copy of these values in
``model_containers/modelfleet_serving/contract.py`` (its image is built from
``model_containers/`` alone); ``tests/model_containers/test_contract.py`` fails
when the two, or the Dockerfiles' EXPOSE and HEALTHCHECK, disagree.
"""

from __future__ import annotations

PORT = 8080
PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
HEALTH_PATH = "/ping"
INVOKE_PATH = "/invocations"
METRICS_PATH = "/metrics"
# On an EKS model's load balancer, a request carrying this header goes to that variant's target
# group whatever the split, as SageMaker's TargetVariant does (the listener rules of ModelLoadBalancer).
VARIANT_HEADER = "X-Modelfleet-Variant"
ACCEPT_BIND_TO_PORT_LABEL = "com.amazonaws.sagemaker.capabilities.accept-bind-to-port"

# Settings the server reads from its environment.
ENV_ARCHIVE = "MODELFLEET_MODEL_ARCHIVE"  # a model.tar.gz to unpack before loading (EKS init container)
ENV_DRAIN_SECONDS = "MODELFLEET_DRAIN_SECONDS"  # how long in-flight requests may finish on SIGTERM
ENV_HANDLER = "MODELFLEET_HANDLER"  # module:Class of a custom handler
ENV_HOST = "MODELFLEET_HOST"
ENV_LOG_LEVEL = "MODELFLEET_LOG_LEVEL"
ENV_MAX_BATCH_SIZE = "MODELFLEET_MAX_BATCH_SIZE"
ENV_MAX_DELAY_MS = "MODELFLEET_MAX_DELAY_MS"
ENV_MAX_QUEUE_ROWS = "MODELFLEET_MAX_QUEUE_ROWS"
# How long an admitted request may wait for the model before it is answered 503 instead, never run;
# the server also refuses at once when the queue ahead already holds that much work. Unset or 0: off.
ENV_QUEUE_DEADLINE_MS = "MODELFLEET_QUEUE_DEADLINE_MS"
ENV_CACHE_ENTRIES = "MODELFLEET_CACHE_ENTRIES"
ENV_CACHE_MB = "MODELFLEET_CACHE_MB"
ENV_CACHE_TTL_SECONDS = "MODELFLEET_CACHE_TTL_SECONDS"
# Data capture on EKS (SageMaker captures for its own endpoints): the container samples requests
# and answers and writes them to the capture bucket in SageMaker's format, for the drift job.
ENV_CAPTURE_PERCENT = "MODELFLEET_CAPTURE_PERCENT"  # share of 200 answers captured, 0-100; 0 or unset: off
ENV_CAPTURE_BUCKET = "MODELFLEET_CAPTURE_BUCKET"  # the stack's capture bucket (name, not ARN)
ENV_CAPTURE_PREFIX = "MODELFLEET_CAPTURE_PREFIX"  # key prefix ending in "/": <model>/eks/<variant>/
ENV_CAPTURE_KMS_KEY_ID = "MODELFLEET_CAPTURE_KMS_KEY_ID"  # optional: the KMS key PutObject names
ENV_CAPTURE_FLUSH_SECONDS = "MODELFLEET_CAPTURE_FLUSH_SECONDS"  # longest a record waits in memory (60)
ENV_CAPTURE_MAX_BUFFER = "MODELFLEET_CAPTURE_MAX_BUFFER"  # records held per worker before dropping (10000)

# Content types captured as text (encoding CSV or JSON); any other body is captured as BASE64,
# as SageMaker's CaptureContentTypeHeader does with these lists.
CAPTURE_CSV_CONTENT_TYPES = ("text/csv",)
CAPTURE_JSON_CONTENT_TYPES = ("application/json",)

# Prometheus metrics the server exports (a counter is scraped with the suffix _total).
METRIC_REQUESTS = "modelfleet_requests"
METRIC_REQUEST_DURATION = "modelfleet_request_duration_seconds"
METRIC_BATCH_SIZE = "modelfleet_batch_size"
METRIC_INFLIGHT = "modelfleet_inflight_requests"  # the EKS autoscaling signal (per pod)
METRIC_QUEUE_DEPTH = "modelfleet_queue_depth"
METRIC_MODEL_LOADED = "modelfleet_model_loaded"
# Captured records by outcome: written to S3, dropped (buffer full) or failed (PutObject refused).
METRIC_CAPTURE_RECORDS = "modelfleet_capture_records"
CAPTURE_OUTCOMES = ("written", "dropped", "failed")  # the values of its "outcome" label


# The share of a model's p99 latency objective a request may spend queued in the container before it is
# answered 503 (ENV_QUEUE_DEADLINE_MS). The objective covers the whole answer, queue and model alike: a
# request admitted at the edge of its deadline keeps the other half for its own batch, so what the server
# admits still answers within the objective, and what it cannot is refused at once for a retry elsewhere.
QUEUE_DEADLINE_SHARE_OF_P99 = 0.5


def queue_deadline_ms(p99_latency_ms: int) -> int:
    """The container's queue deadline for a model whose p99 latency objective is ``p99_latency_ms``."""
    return max(1, round(p99_latency_ms * QUEUE_DEADLINE_SHARE_OF_P99))


def url(base: str, path: str) -> str:
    """``http://host:port`` + a contract path."""
    return base.rstrip("/") + path
