"""Dollars per million tokens: instances' hourly price over the tokens a load test saw them serve (pure).

    usd per million tokens = instances x usd per instance-hour / (tokens per second x 3600) x 1,000,000

The price is the price table's on-demand list price of the instance type,
``ec2:<type>`` for an EKS node, ``sagemaker:ml.<type>`` for an endpoint instance
(``infra.plan.cost.instance_price_key``). The tokens per second come from
``modelfleet loadtest --json`` (``infra.ops.runtime_load.token_rate``). A type the
table lacks is an error naming the table and its date, never a zero.
"""

from __future__ import annotations

from infra.plan.cost import PriceTable, instance_price_key

SECONDS_PER_HOUR = 3600
TOKENS_PER_UNIT = 1_000_000


class TokenCostError(ValueError):
    """The inputs cannot give a price per token; the message says which and what to do."""


def usd_per_million_tokens(usd_per_hour: float, tokens_per_second: float, instances: int = 1) -> float:
    if tokens_per_second <= 0:
        raise TokenCostError("the load test served no tokens: no price per token")
    if usd_per_hour < 0 or instances < 1:
        raise TokenCostError("a price per hour is at least 0 and instances at least 1")
    return instances * usd_per_hour / (tokens_per_second * SECONDS_PER_HOUR) * TOKENS_PER_UNIT


def hourly_price(
    table: PriceTable | None, instance_type: str, region: str, table_path: str
) -> tuple[str, float]:
    """(price key, USD per instance-hour) from ``table``; ``TokenCostError`` naming the table if missing."""
    key = instance_price_key(instance_type)
    refresh = f"`modelfleet prices refresh --region {region}`"
    if table is None:
        raise TokenCostError(
            f"no price table for region {region} ({table_path}): pass --price-per-hour, or run {refresh}"
        )
    price = table.prices.get(key)
    if price is None:
        raise TokenCostError(
            f"no price for {key} in the {table.region} price table of {table.retrieved} ({table_path}): "
            f"pass --price-per-hour, or run {refresh}"
        )
    return key, price
