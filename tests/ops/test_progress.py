"""The rollout's progress record in endpoint tags: the schema, SageMaker's tag rules, stale records."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from infra.ops import progress
from infra.ops.progress import Phase, Progress
from tests.ops.conftest import REGION, deploy

STARTED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
RECORD = Progress(Phase.BAKING, 100, "modelfleet-dev-fraud-scorer-config", STARTED, STARTED, "ticket 42")


def sagemaker_accepts(text: str, limit: int) -> bool:
    """AWS's documented rule for SageMaker tag keys and values: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*."""
    return len(text) <= limit and all(unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@" for c in text)


def test_the_record_round_trips_through_tags_that_sagemaker_accepts():
    tags = progress.to_tags(RECORD)
    assert tags == {
        "modelfleet:rollout:phase": "baking",
        "modelfleet:rollout:step": "100",
        "modelfleet:rollout:config": "modelfleet-dev-fraud-scorer-config",
        "modelfleet:rollout:started": "2025-03-01T09:30:00Z",
        "modelfleet:rollout:updated": "2025-03-01T09:30:00Z",
        "modelfleet:rollout:forced-reason": "ticket 42",
    }
    assert all(sagemaker_accepts(k, 128) and sagemaker_accepts(v, 256) for k, v in tags.items())
    assert progress.from_tags(tags) == RECORD


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        ("INC-1234: p99 alarm flaps; approved by Zoë (SRE)", "INC-1234: p99 alarm flaps approved by Zoë SRE"),
        ("ship it 🚀!!", "ship it"),
        ("tabs\tand\nnewlines", "tabs and newlines"),
        ("x" * 300, "x" * 256),
    ],
)
def test_a_reason_is_kept_in_the_characters_and_length_a_tag_allows(reason, kept):
    value = progress.tag_value(reason)
    assert value == kept and sagemaker_accepts(value, 256)


@pytest.mark.parametrize(
    "tags",
    [
        {},
        {"modelfleet:rollout:phase": "finished"},
        {**progress.to_tags(RECORD), "modelfleet:rollout:step": "most"},
        {k: v for k, v in progress.to_tags(RECORD).items() if k != "modelfleet:rollout:config"},
    ],
)
def test_a_missing_or_unreadable_record_is_no_record(tags):
    assert progress.from_tags(tags) is None


def test_write_replaces_the_record_and_read_ignores_another_configurations(dev_target):
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        deploy(sagemaker, dev_target)
        arn = sagemaker.describe_endpoint(EndpointName=dev_target.endpoint_name)["EndpointArn"]
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "risk"}])
        progress.write(sagemaker, arn, RECORD)
        done = Progress(Phase.COMPLETED, 100, RECORD.endpoint_config, STARTED, STARTED)
        progress.write(sagemaker, arn, done)
        assert progress.read(sagemaker, arn, RECORD.endpoint_config) == done  # forced-reason removed
        assert progress.read(sagemaker, arn, "a-newer-config") is None
        tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
        assert tags["team"] == "risk" and "modelfleet:rollout:forced-reason" not in tags
