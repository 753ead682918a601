"""Shared, cached inputs of the review tests: the real stacks evaluated once, and small tables."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from drctl.review.prices import PriceTable, load_prices
from drctl.review.stackfiles import stack_settings
from drctl.review.usage import Usage, load_usage
from infra.config import Settings
from infra.offline import PROJECT_DIR, Evaluation, Registered, evaluate

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def evaluations() -> dict[str, Evaluation]:
    """Both stacks of this checkout, evaluated once per test process."""
    return {stack: evaluate(stack) for stack in ("primary", "dr")}


@pytest.fixture(scope="session")
def settings() -> dict[str, Settings]:
    return stack_settings(PROJECT_DIR)


@pytest.fixture(scope="session")
def prices() -> PriceTable:
    return load_prices()


@pytest.fixture(scope="session")
def usage() -> Usage:
    return load_usage(PROJECT_DIR / "data" / "usage.example.yaml")


def table(*entries: tuple[str, str, str, str, float]) -> PriceTable:
    """A small price table: (item, key, region, unit, usd) entries, all dated and sourced."""
    return PriceTable.model_validate(
        {
            "hours_per_month": 730,
            "prices": [
                {
                    "item": i,
                    "key": k,
                    "region": r,
                    "unit": u,
                    "usd": usd,
                    "source": "test",
                    "as_of": "2026-01-01",
                }
                for i, k, r, u, usd in entries
            ],
        }
    )


def mutated(resources: list[Registered], name: str, **inputs: object) -> list[Registered]:
    """A deep copy of ``resources`` where the resource ``name`` has ``inputs`` replaced."""
    out = copy.deepcopy(resources)
    for res in out:
        if res.name == name:
            for key, value in inputs.items():
                if value is None:
                    res.inputs.pop(key, None)
                else:
                    res.inputs[key] = value
            return out
    raise AssertionError(f"no resource {name}")
