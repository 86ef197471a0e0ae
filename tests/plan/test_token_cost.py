"""Dollars per million tokens: the arithmetic, and the price each instance type is read at."""

from __future__ import annotations

import pytest

from infra.plan.cost import PriceTable, instance_price_key
from infra.plan.token_cost import TokenCostError, hourly_price, usd_per_million_tokens


def test_the_price_per_million_tokens_is_the_hourly_price_over_an_hours_tokens():
    # $3.60 an hour at 1000 tokens/s: 3.6 million tokens an hour, so $1 per million.
    assert usd_per_million_tokens(3.6, 1000) == pytest.approx(1.0)
    assert usd_per_million_tokens(3.6, 1000, instances=2) == pytest.approx(2.0)  # two instances served it
    assert usd_per_million_tokens(0.8048, 2081.3) == pytest.approx(0.8048 / (2081.3 * 3600) * 1e6)


@pytest.mark.parametrize(
    ("price", "rate", "instances"), [(1.0, 0, 1), (1.0, -5, 1), (-1.0, 10, 1), (1.0, 10, 0)]
)
def test_no_price_per_token_from_no_tokens_or_nonsense(price, rate, instances):
    with pytest.raises(TokenCostError):
        usd_per_million_tokens(price, rate, instances)


def test_an_eks_node_is_priced_as_ec2_and_an_ml_type_as_sagemaker():
    assert instance_price_key("g6.xlarge") == "ec2:g6.xlarge"
    assert instance_price_key("ml.g5.xlarge") == "sagemaker:ml.g5.xlarge"
    table = PriceTable.for_region("us-east-1")
    assert hourly_price(table, "g6.xlarge", "us-east-1", "t.json") == ("ec2:g6.xlarge", 0.8048)
    assert hourly_price(table, "ml.g5.xlarge", "us-east-1", "t.json") == ("sagemaker:ml.g5.xlarge", 1.4084)


def test_a_type_the_table_lacks_names_the_table_and_its_date():
    table = PriceTable.for_region("eu-west-1")
    with pytest.raises(TokenCostError) as missing:
        hourly_price(table, "g6.xlarge", "eu-west-1", "infra/plan/prices/eu-west-1.json")
    assert str(missing.value) == (
        "no price for ec2:g6.xlarge in the eu-west-1 price table of 2026-11-23 "
        "(infra/plan/prices/eu-west-1.json): pass --price-per-hour, or run "
        "`modelfleet prices refresh --region eu-west-1`"
    )


def test_a_region_without_a_table_says_so():
    with pytest.raises(TokenCostError, match=r"no price table for region ap-southeast-7 \(x.json\)"):
        hourly_price(None, "g6.xlarge", "ap-southeast-7", "x.json")
