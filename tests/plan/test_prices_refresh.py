"""`prices refresh` against botocore's own stubbed Price List client: parsing, merging, no silent zeros."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra.cli.commands import EXIT_PROGRAM_STOPPED, main
from infra.plan.prices_refresh import ServiceQuery, on_demand_usd, refresh


def _product(usd: str, **attributes) -> str:
    return json.dumps(
        {
            "product": {"attributes": attributes},
            "terms": {
                "OnDemand": {
                    "T1": {
                        "priceDimensions": {
                            "free": {"beginRange": "0", "pricePerUnit": {"USD": "0.0000000000"}},
                            "paid": {"beginRange": "10", "pricePerUnit": {"USD": usd}},
                        }
                    }
                }
            },
        }
    )


def test_on_demand_price_skips_free_tiers():
    assert on_demand_usd(json.loads(_product("0.2300000000"))) == pytest.approx(0.23)
    assert on_demand_usd({"terms": {}}) is None


def test_refresh_reads_sagemaker_ec2_and_services_and_keeps_what_the_api_lacks():
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    previous = {
        "prices": {"kms:key-month": {"usd": 1.0, "unit": "key-month", "source": "old"}},
        "assumptions": {"alb_lcus": 2},
    }
    with Stubber(client) as stub:
        sagemaker = [
            _product("0.2500000000", instanceName="ml.c5.xlarge"),
            _product("1.6000000000", instanceName="ml.g5.xlarge"),
        ]
        stub.add_response(
            "get_products",
            {"PriceList": sagemaker, "FormatVersion": "aws_v1"},
            {"ServiceCode": "AmazonSageMaker", "Filters": ANY},
        )
        stub.add_response(
            "get_products",
            {"PriceList": [_product("1.1230000000", instanceType="g5.xlarge")]},
            {"ServiceCode": "AmazonEC2", "Filters": ANY},
        )
        nat = [
            _product("9.9", usagetype="EUW1-NatGateway-Bytes"),
            _product("0.0480000000", usagetype="EUW1-NatGateway-Hours"),
        ]
        stub.add_response("get_products", {"PriceList": nat}, {"ServiceCode": "AmazonEC2", "Filters": ANY})
        stub.add_response("get_products", {"PriceList": []}, {"ServiceCode": "awskms", "Filters": ANY})
        table, missing = refresh(
            client,
            "eu-west-1",
            previous,
            ec2_types=["g5.xlarge"],
            services=[
                ServiceQuery("nat-gateway:hour", "AmazonEC2", "NatGateway-Hours"),
                ServiceQuery("kms:key-month", "awskms", "KMS-Keys"),
            ],
        )
        stub.assert_no_pending_responses()
    prices = table["prices"]
    assert prices["sagemaker:ml.g5.xlarge"]["usd"] == pytest.approx(1.6)
    assert prices["ec2:g5.xlarge"]["usd"] == pytest.approx(1.123)
    assert prices["nat-gateway:hour"]["usd"] == pytest.approx(0.048)  # the Hours product, not Bytes
    assert prices["kms:key-month"] == {"usd": 1.0, "unit": "key-month", "source": "old"}
    assert missing == ["kms:key-month"]
    assert table["assumptions"] == {"alb_lcus": 2} and table["region"] == "eu-west-1"


def test_refresh_without_credentials_fails_cleanly(tmp_path, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out = tmp_path / "t.json"
    assert main(["prices", "refresh", "--region", "eu-west-1", "--out", str(out)]) == EXIT_PROGRAM_STOPPED
    assert "AWS Price List API" in capsys.readouterr().err
    assert not out.exists()
