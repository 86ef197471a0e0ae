"""boto3 clients for the day-2 tools: standard retries, bounded timeouts, the stack's region.

``AWS_ENDPOINT_URL`` (read by boto3 itself) points them elsewhere, e.g. a local moto server.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def client(service: str, region: str, read_timeout: int = 30) -> Any:
    config = Config(
        retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=read_timeout
    )
    return boto3.session.Session().client(service, region_name=region, config=config)
