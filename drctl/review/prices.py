"""The dated price table (``data/prices.json``): every price names its source and as-of date.

Prices are data, never literals in code; ``scripts/refresh_prices.py`` refreshes the entries that
carry a Price List API ``query``. Entries marked ``unverified`` were not confirmed from a stored
source and are flagged in every report that uses them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drctl.review.errors import PriceNotFound, PriceTableError

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
PRICES_PATH = DATA_DIR / "prices.json"
ANY_REGION = "*"
GLOBAL = "global"


class PriceQuery(BaseModel):
    """How to find this entry in the AWS Price List API (service code and TERM_MATCH filters)."""

    model_config = ConfigDict(extra="forbid")
    service_code: str
    filters: dict[str, str]


class Price(BaseModel):
    """One price: an item (e.g. ``ec2_instance``), a key (``p5.48xlarge``), a region and a unit."""

    model_config = ConfigDict(extra="forbid")
    item: str
    key: str
    region: str
    unit: str
    usd: float = Field(ge=0)
    source: str = Field(min_length=1)
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    unverified: bool = False
    gpus: int | None = None
    query: PriceQuery | None = None


class PriceTable(BaseModel):
    """The whole table: currency, hours per month and the entries."""

    model_config = ConfigDict(extra="forbid")
    currency: str = "USD"
    hours_per_month: float = Field(default=730, gt=0)
    notes: str = ""
    prices: list[Price]

    def lookup(self, item: str, key: str, region: str) -> Price:
        """The entry for ``item``/``key`` in ``region``, else its any-region or global entry."""
        for wanted in (region, ANY_REGION, GLOBAL):
            for price in self.prices:
                if (price.item, price.key, price.region) == (item, key, wanted):
                    return price
        raise PriceNotFound(
            f"no price for {item} {key!r} in {region}; add an entry (with source and as_of) to "
            f"data/prices.json or refresh it with scripts/refresh_prices.py"
        )

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form, without unset optional fields."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def load_prices(path: Path = PRICES_PATH) -> PriceTable:
    """Read and validate the price table."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise PriceTableError(f"price table {path} does not exist; pass --prices FILE") from None
    except json.JSONDecodeError as error:
        raise PriceTableError(f"price table {path} is not JSON: {error}") from None
    try:
        return PriceTable.model_validate(data)
    except ValidationError as error:
        raise PriceTableError(f"price table {path} is invalid: {error}") from None
