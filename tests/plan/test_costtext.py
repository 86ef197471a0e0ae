"""How money reads: a known figure, unknown, or incomplete with what it leaves out (pure)."""

from __future__ import annotations

from infra.plan import costtext
from infra.plan.cost import Unpriced
from infra.plan.diff import ModelCost

UNPRICED = (
    Unpriced("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "eu-west-1", 40, (
        "no price for sagemaker:ml.c5.xlarge", "no price for sagemaker:ml.g5.xlarge")),
    Unpriced("aws:cloudwatch/logDelivery:LogDelivery", "eu-west-1", 1, ("no pricing rule for this type",)),
)  # fmt: skip


def test_a_complete_total_is_a_plain_range():
    assert costtext.total(10.0, 20.0, ()) == "$10-$20"
    assert costtext.delta(10.0, 30.0) == "+$20"
    assert costtext.delta(30.0, 30.2) == "±$0"


def test_an_incomplete_total_and_delta_say_so_with_the_count():
    assert costtext.total(10.0, 20.0, UNPRICED) == "$10-$20 priced; incomplete: 41 resources unpriced"
    assert costtext.delta(10.0, 230.0, UNPRICED) == (
        "unknown (+$220 on priced resources; incomplete: 41 resources unpriced)"
    )
    assert costtext.total(None, None, UNPRICED) == "unknown (incomplete: 41 resources unpriced)"


def test_unpriced_detail_names_types_regions_and_missing_prices():
    assert costtext.unpriced_detail(UNPRICED) == [
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration x40 in eu-west-1: "
        "no price for sagemaker:ml.c5.xlarge, sagemaker:ml.g5.xlarge",
        "aws:cloudwatch/logDelivery:LogDelivery x1 in eu-west-1: no pricing rule for this type",
    ]


def test_a_model_with_an_unpriced_resource_is_unknown_never_its_priced_part():
    unpriced = ModelCost(5.0, 5.0, unpriced=1)
    assert costtext.part(unpriced) == "unknown"
    assert costtext.part_delta(None, unpriced) == "unknown"
    assert costtext.part(None) == "none"
    assert costtext.part_delta(ModelCost(100.0, 300.0, 0), ModelCost(100.0, 500.0, 0)) == "+$200"
    assert costtext.part_delta(ModelCost(100.0, 300.0, 0), None) == "-$300"
