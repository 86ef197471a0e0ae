"""boto3 clients for the day-2 tools: standard retries, bounded timeouts, the stack's region.

``AWS_ENDPOINT_URL`` (read by boto3 itself) points them elsewhere, e.g. a local moto server.
boto3 is imported with the first client, not when ``modelfleet`` starts: most commands
never talk to AWS, and boto3 takes about a third of a second to import.
"""

from __future__ import annotations

from typing import Any


def client(
    service: str, region: str, read_timeout: float = 30, max_attempts: int = 5, max_pool_connections: int = 10
) -> Any:
    """A client for ``region``; a load test asks for one attempt (a throttle is a failure, not a wait)
    and a connection per request in flight."""
    import boto3  # noqa: PLC0415 - see the module docstring
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        retries={"mode": "standard", "max_attempts": max_attempts}, connect_timeout=10,
        read_timeout=read_timeout, max_pool_connections=max_pool_connections,
    )  # fmt: skip
    return boto3.session.Session().client(service, region_name=region, config=config)
