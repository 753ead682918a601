"""Refresh ``data/prices.json`` from the AWS Price List API (boto3 ``pricing`` client).

Only entries with a ``query`` are refreshed; each must match exactly one on-demand price, else it
is left unchanged and reported. The API answers from us-east-1 (and a few other endpoints) for
every region; the table's region is part of each query's filters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drctl.atomic import write_atomic
from drctl.review.prices import Price, PriceQuery, PriceTable

PRICING_REGION = "us-east-1"


class PriceListError(Exception):
    """A Price List API answer has no single on-demand price for a query."""


@dataclass
class RefreshResult:
    """What a refresh changed, kept and could not refresh."""

    updated: list[tuple[Price, float]] = field(default_factory=list)
    unchanged: list[Price] = field(default_factory=list)
    failed: list[tuple[Price, str]] = field(default_factory=list)


def on_demand_prices(price_list: Iterable[str | dict[str, Any]]) -> set[tuple[float, str]]:
    """Distinct (USD, unit) first-tier on-demand prices in a ``get_products`` PriceList."""
    found = set()
    for raw in price_list:
        product = json.loads(raw) if isinstance(raw, str) else raw
        for term in ((product.get("terms") or {}).get("OnDemand") or {}).values():
            for dim in (term.get("priceDimensions") or {}).values():
                if str(dim.get("beginRange", "0")) != "0":
                    continue
                usd = (dim.get("pricePerUnit") or {}).get("USD")
                if usd is not None:
                    found.add((float(usd), str(dim.get("unit", ""))))
    return found


def fetch(client: Any, service_code: str, filters: dict[str, str]) -> list[str]:
    """Every product of a TERM_MATCH query, across pages."""
    terms = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()]
    products: list[str] = []
    paginator = client.get_paginator("get_products")
    for page in paginator.paginate(ServiceCode=service_code, Filters=terms):
        products.extend(page.get("PriceList", []))
    return products


def single_price(products: list[str], what: str) -> float:
    """The one non-zero on-demand price of ``products``; PriceListError otherwise."""
    prices = {usd for usd, _ in on_demand_prices(products) if usd > 0}
    if len(prices) != 1:
        raise PriceListError(f"{what}: expected one on-demand price, found {sorted(prices)}")
    return prices.pop()


def _refreshed(
    price: Price, query: PriceQuery, client: Any, today: str, result: RefreshResult
) -> Price:
    what = f"{price.item} {price.key} {price.region}"
    try:
        usd = single_price(fetch(client, query.service_code, query.filters), what)
    except PriceListError as error:
        result.failed.append((price, str(error)))
        return price
    if usd != price.usd:
        result.updated.append((price, usd))
    else:
        result.unchanged.append(price)
    source = f"AWS Price List API ({query.service_code}, on-demand)"
    return price.model_copy(
        update={"usd": usd, "as_of": today, "source": source, "unverified": False}
    )


def refresh(
    table: PriceTable,
    client: Any,
    today: str,
    progress: Callable[[Price], None] | None = None,
) -> tuple[PriceTable, RefreshResult]:
    """A new table with every queryable entry re-priced from the API (others kept)."""
    result = RefreshResult()
    entries = []
    for price in table.prices:
        if price.query is None:
            entries.append(price)
            continue
        if progress:
            progress(price)
        entries.append(_refreshed(price, price.query, client, today, result))
    return table.model_copy(update={"prices": entries}), result


def write_table(table: PriceTable, path: Path) -> None:
    """Write the table atomically (temp file, then rename)."""
    data = table.model_dump(mode="json", exclude_none=True)
    for entry in data["prices"]:
        if not entry.get("unverified"):
            entry.pop("unverified", None)
    write_atomic(path, json.dumps(data, indent=2) + "\n")
