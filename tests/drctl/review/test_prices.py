"""Price lookup: region first, then any-region, then global; every real entry is dated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drctl.review.errors import PriceNotFound, PriceTableError
from drctl.review.prices import PriceTable, load_prices
from tests.drctl.review.conftest import table


def test_lookup_prefers_the_region_then_any_then_global() -> None:
    prices = table(
        ("nat_gateway", "hour", "us-east-1", "hour", 0.045),
        ("nat_gateway", "hour", "*", "hour", 0.05),
        ("route53_hosted_zone", "zone", "global", "month", 0.5),
    )
    assert prices.lookup("nat_gateway", "hour", "us-east-1").usd == 0.045
    assert prices.lookup("nat_gateway", "hour", "eu-west-1").usd == 0.05
    assert prices.lookup("route53_hosted_zone", "zone", "us-west-2").usd == 0.5


def test_missing_price_names_item_region_and_the_fix() -> None:
    with pytest.raises(
        PriceNotFound, match=r"ec2_instance 'p5.48xlarge' in eu-west-1.*prices.json"
    ):
        table().lookup("ec2_instance", "p5.48xlarge", "eu-west-1")


def test_repository_table_is_sourced_and_dated(prices: PriceTable) -> None:
    for price in prices.prices:
        assert price.source and price.as_of
    rtc = prices.lookup("s3_replication", "rtc", "us-east-1")
    assert rtc.unverified
    assert prices.lookup("ec2_instance", "p5.48xlarge", "us-east-1").gpus == 8
    assert not prices.lookup("ec2_instance", "g6e.xlarge", "us-west-2").unverified


def test_entry_without_source_is_rejected(tmp_path: Path) -> None:
    bad = {
        "prices": [
            {
                "item": "nlb",
                "key": "hour",
                "region": "*",
                "unit": "hour",
                "usd": 0.0225,
                "as_of": "2026-01-01",
            }
        ]
    }
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(PriceTableError, match="source"):
        load_prices(path)


def test_unreadable_tables(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match="does not exist"):
        load_prices(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(PriceTableError, match="not JSON"):
        load_prices(tmp_path / "bad.json")
