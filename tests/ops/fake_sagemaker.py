"""A SageMaker client with inference components, for the tests of rolling updates.

Why it exists: moto 5.2.5 implements none of SageMaker's inference-component
calls (nor Application Auto Scaling's inference-component dimension), so the
day-2 commands of a placed model cannot run against moto's SageMaker.

What it checks: every request, before anything else, against botocore's own
service model (``sagemaker`` and ``sagemaker-runtime``), with botocore's
``ParamValidator`` on the operation's input shape: a missing required key, a
wrong type, a key SageMaker does not know or a value outside an enum raises
``ParamValidationError`` exactly as boto3 would before sending. Each response
is checked against the operation's output shape the same way, so the code under
test reads only what SageMaker can answer.

What it keeps: one inference component with a ``Specification`` (described as
SageMaker describes it: ``DeployedImage.SpecifiedImage``, not ``Image``), a
status and its copy counts. ``UpdateInferenceComponent`` starts a rolling
update that advances one batch per ``DescribeInferenceComponent`` and ends
``InService`` with the new specification; when one of the update's rollback
alarms is in ALARM (read from CloudWatch, moto's in the tests), it rolls back:
one more reading ``Updating``, then ``InService`` with the old specification and
a ``FailureReason``. An update of a component that is not ``InService`` is
refused with SageMaker's ``ValidationException``.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.exceptions import ClientError, ParamValidationError
from botocore.response import StreamingBody
from botocore.validate import ParamValidator

from tests.ops.conftest import ACCOUNT, REGION

_SESSION = botocore.session.get_session()
# Calls that change state: a test asserts which of them ran.
MUTATING = frozenset({"UpdateInferenceComponent"})


def _validate(shape: Any, params: dict[str, Any]) -> None:
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise ParamValidationError(report=report.generate_report())


class _Checked:
    """Validates each request and response of ``service`` against botocore's model, and records calls."""

    def __init__(self, service: str):
        self.service_model = _SESSION.get_service_model(service)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _request(self, operation: str, params: dict[str, Any]) -> None:
        _validate(self.service_model.operation_model(operation).input_shape, params)
        self.calls.append((operation, copy.deepcopy(params)))

    def _response(self, operation: str, response: dict[str, Any]) -> dict[str, Any]:
        _validate(self.service_model.operation_model(operation).output_shape, response)
        return response

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]


def _error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def described(specification: dict[str, Any]) -> dict[str, Any]:
    """An update's ``Specification`` as ``DescribeInferenceComponent`` answers it."""
    shown = copy.deepcopy(specification)
    container = shown.get("Container", {})
    image = container.pop("Image", None)
    if image:
        digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
        container["DeployedImage"] = {
            "SpecifiedImage": image,
            "ResolvedImage": f"{image.split('@')[0].split(':')[0]}@{digest}",
            "ResolutionTime": datetime(2026, 12, 1, tzinfo=UTC),
        }
    return shown


@dataclass
class _Update:
    old: dict[str, Any]
    new: dict[str, Any]
    batch: int  # copies per batch
    alarms: list[str]
    replaced: int = 0
    rolling_back: str | None = None  # the alarm that fired


@dataclass
class Component:
    name: str
    endpoint: str
    specification: dict[str, Any]  # in the update request's shape
    copies: int
    status: str = "InService"
    failure_reason: str | None = None
    last_deployment: dict[str, Any] | None = None
    update: _Update | None = None
    batches: list[int] = field(default_factory=list)  # copies replaced after each describe of an update


class FakeSageMaker(_Checked):
    """``describe_inference_component`` and ``update_inference_component``, with a rolling update."""

    def __init__(self, cloudwatch: Any, component: Component):
        super().__init__("sagemaker")
        self.cloudwatch = cloudwatch
        self.component = component
        self.on_describe: Callable[[Component], None] | None = None

    @property
    def mutations(self) -> list[str]:
        return [operation for operation in self.operations if operation in MUTATING]

    def _find(self, operation: str, name: str) -> Component:
        if name != self.component.name:
            raise _error(operation, "ValidationException", f'Could not find inference component "{name}".')
        return self.component

    def describe_inference_component(self, **params: Any) -> dict[str, Any]:
        self._request("DescribeInferenceComponent", params)
        found = self._find("DescribeInferenceComponent", params["InferenceComponentName"])
        if found.update is not None:
            self._advance(found)
        if self.on_describe:
            self.on_describe(found)
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
        current = found.copies
        if found.update is not None and found.update.rolling_back is None:
            current += found.update.batch  # a batch's new copies start before its old ones stop
        response: dict[str, Any] = {
            "InferenceComponentName": found.name,
            "InferenceComponentArn": f"{arn}:inference-component/{found.name}",
            "EndpointName": found.endpoint,
            "EndpointArn": f"{arn}:endpoint/{found.endpoint}",
            "VariantName": "AllTraffic",
            "Specification": described(found.specification),
            "RuntimeConfig": {"DesiredCopyCount": found.copies, "CurrentCopyCount": current},
            "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
            "LastModifiedTime": datetime(2026, 12, 1, tzinfo=UTC),
            "InferenceComponentStatus": found.status,
        }
        if found.failure_reason:
            response["FailureReason"] = found.failure_reason
        if found.last_deployment:
            response["LastDeploymentConfig"] = copy.deepcopy(found.last_deployment)
        return self._response("DescribeInferenceComponent", response)

    def update_inference_component(self, **params: Any) -> dict[str, Any]:
        self._request("UpdateInferenceComponent", params)
        found = self._find("UpdateInferenceComponent", params["InferenceComponentName"])
        if found.status != "InService":
            raise _error(
                "UpdateInferenceComponent",
                "ValidationException",
                f"Cannot update inference component {found.name} while it is {found.status}.",
            )
        config = params.get("DeploymentConfig") or {}
        policy = config.get("RollingUpdatePolicy") or {}
        size = policy.get("MaximumBatchSize") or {"Type": "CAPACITY_PERCENT", "Value": 100}
        batch = (
            size["Value"] if size["Type"] == "COPY_COUNT" else math.ceil(found.copies * size["Value"] / 100)
        )
        alarms = [a["AlarmName"] for a in (config.get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
        new = copy.deepcopy(found.specification) | copy.deepcopy(params.get("Specification") or {})
        found.update = _Update(
            copy.deepcopy(found.specification), new, max(1, min(batch, found.copies)), alarms
        )
        found.status, found.failure_reason, found.batches = "Updating", None, []
        found.last_deployment = copy.deepcopy(config) or None
        return self._response(
            "UpdateInferenceComponent",
            {
                "InferenceComponentArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:inference-component/{found.name}"
            },
        )

    def _advance(self, found: Component) -> None:
        """One reading of a running update: roll back on a rollback alarm, else replace one batch."""
        update = found.update
        assert update is not None
        if update.rolling_back is not None:
            found.specification, found.status, found.update = update.old, "InService", None
            found.failure_reason = f"Rolling update rolled back: alarm {update.rolling_back} went into ALARM"
            return
        firing = self._firing(update.alarms)
        if firing:
            update.rolling_back = firing[0]
            return
        update.replaced = min(found.copies, update.replaced + update.batch)
        found.batches.append(update.replaced)
        if update.replaced >= found.copies:
            found.specification, found.status, found.update = update.new, "InService", None

    def _firing(self, names: list[str]) -> list[str]:
        if not names:
            return []
        alarms = self.cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
        return [a["AlarmName"] for a in alarms if a["StateValue"] == "ALARM"]


class FakeSageMakerRuntime(_Checked):
    """``invoke_endpoint`` answering each request with the next of ``answers`` (body, content type)."""

    def __init__(self, answers: list[tuple[Any, str]]):
        super().__init__("sagemaker-runtime")
        self.answers = answers

    def invoke_endpoint(self, **params: Any) -> dict[str, Any]:
        self._request("InvokeEndpoint", params)
        body, content_type = self.answers.pop(0)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._response("InvokeEndpoint", {"Body": raw, "ContentType": content_type})
        return {"Body": StreamingBody(io.BytesIO(raw), len(raw)), "ContentType": content_type}
