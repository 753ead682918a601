"""Price refresh from the Price List API: parsing a recorded answer shape through a real boto3
client with botocore's Stubber (moto has no Pricing API); a real refresh is marked ``aws``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from drctl.review.prices import PriceTable, load_prices
from drctl.review.refresh import PRICING_REGION, on_demand_prices, refresh, write_table
from tests.drctl.review.conftest import FIXTURES

RECORDED = json.loads((FIXTURES / "pricing-get-products-p5.json").read_text())


def answer(usd: str | None = None, products: int = 1) -> dict[str, Any]:
    product = json.loads(RECORDED["PriceList"][0])
    if usd is not None:
        (term,) = product["terms"]["OnDemand"].values()
        (dim,) = term["priceDimensions"].values()
        dim["pricePerUnit"]["USD"] = usd
    items = [json.dumps(product)]
    for i in range(1, products):  # a second product with another price: ambiguous
        other = copy.deepcopy(product)
        (term,) = other["terms"]["OnDemand"].values()
        (dim,) = term["priceDimensions"].values()
        dim["pricePerUnit"]["USD"] = str(40 + i)
        items.append(json.dumps(other))
    return {"FormatVersion": "aws_v1", "PriceList": items}


def one_entry_table(prices: PriceTable) -> PriceTable:
    entry = prices.lookup("ec2_instance", "p5.48xlarge", "us-east-1")
    other = prices.lookup("eks_cluster", "standard", "us-east-1")
    return prices.model_copy(update={"prices": [entry, other]})


def test_parse_recorded_answer_keeps_on_demand_first_tier_only() -> None:
    assert on_demand_prices(RECORDED["PriceList"]) == {(55.04, "Hrs")}


def test_refresh_updates_price_and_date(prices: PriceTable, tmp_path: Path) -> None:
    client = boto3.client("pricing", region_name=PRICING_REGION)
    small = one_entry_table(prices)
    entry = small.prices[0]
    assert entry.query is not None
    filters = [
        {"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in entry.query.filters.items()
    ]
    with Stubber(client) as stub:
        stub.add_response(
            "get_products",
            answer("50.0000000000"),
            {"ServiceCode": "AmazonEC2", "Filters": filters},
        )
        new, result = refresh(small, client, "2027-01-02")
        stub.assert_no_pending_responses()
    refreshed = new.prices[0]
    assert (refreshed.usd, refreshed.as_of) == (50.0, "2027-01-02")
    assert "Price List API" in refreshed.source
    assert result.updated == [(entry, 50.0)] and not result.failed
    assert new.prices[1] == small.prices[1]  # no query: kept as is
    path = tmp_path / "prices.json"
    write_table(new, path)
    assert load_prices(path).prices[0].usd == 50.0
    assert not list(tmp_path.glob("*.tmp"))


def test_ambiguous_or_empty_answers_keep_the_entry(prices: PriceTable) -> None:
    client = boto3.client("pricing", region_name=PRICING_REGION)
    small = one_entry_table(prices)
    for response in (answer(products=2), {"FormatVersion": "aws_v1", "PriceList": []}):
        with Stubber(client) as stub:
            stub.add_response("get_products", response)
            new, result = refresh(small, client, "2027-01-02")
        assert new.prices[0] == small.prices[0]
        assert "expected one on-demand price" in result.failed[0][1]


@pytest.mark.aws
def test_real_refresh_of_one_entry(prices: PriceTable) -> None:
    client = boto3.client("pricing", region_name=PRICING_REGION)
    new, result = refresh(one_entry_table(prices), client, "2099-01-01")
    assert not result.failed
    assert new.prices[0].usd > 0
