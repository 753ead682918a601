"""Diff arithmetic: totals, per-resource deltas and statuses, percent."""

from __future__ import annotations

import pytest

from drctl.review.cost import CostLine, StackCost
from drctl.review.diff import diff_costs


def line(resource: str, qty: float, unit_usd: float, what: str = "item") -> CostLine:
    return CostLine(
        resource,
        "aws:x/y:Z",
        "comp",
        what,
        qty,
        "hour",
        unit_usd,
        round(qty * unit_usd * 730, 4),
        "test",
        "2026-01-01",
    )


def stack(name: str, *lines: CostLine) -> StackCost:
    return StackCost(name, "us-east-1", "primary", "warm-standby", list(lines))


def test_changed_added_removed_and_unchanged_resources() -> None:
    base = {
        "primary": stack("primary", line("gpu", 1, 2.0), line("nat", 1, 0.05), line("eks", 1, 0.1))
    }
    head = {
        "primary": stack("primary", line("gpu", 2, 2.0), line("eks", 1, 0.1), line("nlb", 1, 0.02))
    }
    diff = diff_costs(base, head)
    (primary,) = diff.stacks
    status = {r.resource: (r.status, r.delta) for r in primary.resources}
    assert status["gpu"] == ("changed", pytest.approx(1460.0))
    assert status["nat"] == ("removed", pytest.approx(-36.5))
    assert status["nlb"] == ("added", pytest.approx(14.6))
    assert status["eks"] == ("unchanged", 0)
    assert [r.resource for r in primary.changed] == ["gpu", "nat", "nlb"]  # largest change first
    assert diff.delta == pytest.approx(1460.0 - 36.5 + 14.6)
    assert diff.base_usd == pytest.approx(730 * (2.0 + 0.05 + 0.1))
    assert diff.percent == pytest.approx(round(100 * diff.delta / diff.base_usd, 1))


def test_stacks_on_one_side_only_and_empty_base() -> None:
    head = {"dr": stack("dr", line("gpu", 1, 1.0))}
    diff = diff_costs({}, head)
    assert diff.percent is None
    assert diff.delta == pytest.approx(730.0)
    gone = diff_costs(head, {})
    assert gone.stacks[0].stack == "dr" and gone.delta == pytest.approx(-730.0)
    assert gone.as_dict()["stacks"][0]["resources"][0]["status"] == "removed"


def test_same_resource_with_a_changed_price_is_changed() -> None:
    diff = diff_costs(
        {"p": stack("p", line("gpu", 1, 2.0))}, {"p": stack("p", line("gpu", 1, 2.5))}
    )
    assert diff.stacks[0].changed[0].status == "changed"
    assert diff.as_dict()["delta_monthly_usd"] == pytest.approx(365.0)
