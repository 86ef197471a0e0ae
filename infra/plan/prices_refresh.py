"""Rebuild a price table from the AWS Price List API (``modelfleet prices refresh``).

Needs credentials allowed ``pricing:GetProducts``; the API itself lives in
us-east-1 whatever the region priced. Every query is a list price on demand in
USD. A price the API does not return keeps its previous value and source, and is
reported, so a refresh never turns a known price into a silent zero.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

PRICING_API_REGION = "us-east-1"


@dataclass(frozen=True)
class ServiceQuery:
    key: str  # the price table key
    service_code: str
    usage_suffix: str  # the usagetype ends with this (the region prefix varies)
    product_family: str | None = None


SERVICES = (
    ServiceQuery("eks:cluster-hour", "AmazonEKS", "AmazonEKS-Hours:perCluster"),
    ServiceQuery("nat-gateway:hour", "AmazonEC2", "NatGateway-Hours", "NAT Gateway"),
    ServiceQuery("nat-gateway:gb", "AmazonEC2", "NatGateway-Bytes", "NAT Gateway"),
    ServiceQuery("alb:hour", "AWSELB", "LoadBalancerUsage", "Load Balancer-Application"),
    ServiceQuery("alb:lcu-hour", "AWSELB", "LCUUsage", "Load Balancer-Application"),
    ServiceQuery("vpc-endpoint:az-hour", "AmazonVPC", "VpcEndpoint-Hours", "VpcEndpoint"),
    ServiceQuery("vpc-endpoint:gb", "AmazonVPC", "VpcEndpoint-Bytes", "VpcEndpoint"),
    ServiceQuery("public-ipv4:hour", "AmazonVPC", "PublicIPv4:InUseAddress"),
    ServiceQuery("kms:key-month", "awskms", "KMS-Keys"),
    ServiceQuery("cloudwatch:alarm-month", "AmazonCloudWatch", "CW:AlarmMonitorUsage"),
    ServiceQuery("logs:ingest-gb", "AmazonCloudWatch", "DataProcessing-Bytes"),
    ServiceQuery("logs:storage-gb-month", "AmazonCloudWatch", "TimedStorage-ByteHrs"),
    ServiceQuery("ebs:gp3-gb-month", "AmazonEC2", "EBS:VolumeUsage.gp3", "Storage"),
    ServiceQuery("s3:standard-gb-month", "AmazonS3", "TimedStorage-ByteHrs", "Storage"),
)
DEFAULT_EC2_TYPES = (
    "m6i.large", "m6i.xlarge", "m6i.2xlarge", "m5.large", "m5.xlarge", "c6i.xlarge", "t3.medium",
    "g4dn.xlarge", "g4dn.2xlarge", "g5.xlarge", "g5.2xlarge", "g5.4xlarge", "g5.12xlarge",
    "g6.xlarge", "g6.2xlarge", "g6.4xlarge", "g6e.xlarge", "g6e.12xlarge", "p4d.24xlarge", "p4de.24xlarge",
    "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge",
)  # fmt: skip


def _filters(**fields: str) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


def _products(client, service_code: str, filters: list[dict[str, str]]):
    for page in client.get_paginator("get_products").paginate(ServiceCode=service_code, Filters=filters):
        for item in page["PriceList"]:
            yield json.loads(item) if isinstance(item, str) else item


def on_demand_usd(product: dict[str, Any]) -> float | None:
    """The first-tier on-demand USD price of one Price List product."""
    for term in (product.get("terms") or {}).get("OnDemand", {}).values():
        dimensions = sorted(term["priceDimensions"].values(), key=lambda d: float(d.get("beginRange") or 0))
        for dimension in dimensions:
            usd = float(dimension["pricePerUnit"].get("USD", 0))
            if usd > 0:
                return usd
    return None


def _sagemaker(client, region: str) -> dict[str, float]:
    found = {}
    filters = _filters(regionCode=region, productFamily="ML Instance", platoinstancetype="Hosting")
    for product in _products(client, "AmazonSageMaker", filters):
        name = product["product"]["attributes"].get("instanceName")
        usd = on_demand_usd(product)
        if name and usd:
            found[f"sagemaker:{name}"] = usd
    return found


def _ec2(client, region: str, instance_types) -> dict[str, float]:
    found = {}
    for instance_type in instance_types:
        filters = _filters(
            regionCode=region,
            instanceType=instance_type,
            operatingSystem="Linux",
            tenancy="Shared",
            preInstalledSw="NA",
            capacitystatus="Used",
            licenseModel="No License required",
        )
        prices = [usd for p in _products(client, "AmazonEC2", filters) if (usd := on_demand_usd(p))]
        if prices:
            found[f"ec2:{instance_type}"] = min(prices)
    return found


def _service(client, region: str, query: ServiceQuery) -> float | None:
    fields = {"regionCode": region} | (
        {"productFamily": query.product_family} if query.product_family else {}
    )
    for product in _products(client, query.service_code, _filters(**fields)):
        if product["product"]["attributes"].get("usagetype", "").endswith(query.usage_suffix):
            return on_demand_usd(product)
    return None


def _unit(key: str) -> str:
    return "hour" if key.startswith(("ec2:", "sagemaker:")) else key.split(":", 1)[1]


def refresh(
    client, region: str, previous: dict[str, Any] | None, *, ec2_types=DEFAULT_EC2_TYPES, services=SERVICES
) -> tuple[dict[str, Any], list[str]]:
    """A new table for ``region`` and the keys the API did not answer (kept from ``previous``)."""
    today = date.today().isoformat()
    fetched = {**_sagemaker(client, region), **_ec2(client, region, ec2_types)}
    for query in services:
        if (usd := _service(client, region, query)) is not None:
            fetched[query.key] = usd
    old = dict((previous or {}).get("prices", {}))
    source = f"AWS Price List API, {today}"
    fresh = {key: {"usd": usd, "unit": _unit(key), "source": source} for key, usd in fetched.items()}
    prices = {**old, **fresh}
    wanted = {q.key for q in services} | {f"ec2:{t}" for t in ec2_types}
    missing = sorted(wanted - set(fetched))
    table = {
        "region": region,
        "currency": "USD",
        "retrieved": today,
        "hours_per_month": 730,
        "source": f"AWS Price List API (on-demand list prices), {today}; an entry with another "
        "source was kept from the previous table because the API returned no price for it.",
        "assumptions": (previous or {}).get("assumptions")
        or {
            "nat_gateway_gb_per_month": 100,
            "vpc_endpoint_gb_per_month": 10,
            "alb_lcus": 1,
            "log_ingest_gb_per_month": 5,
            "log_storage_months": 1,
            "s3_gb_per_month": 50,
        },
        "prices": dict(sorted(prices.items())),
    }
    return table, missing


def write_table(table: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(table, indent=2) + "\n")
