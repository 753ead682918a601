"""Markdown golden files (fixed inputs, so the files change only when the layout does).

Regenerate after an intended layout change with ``TRT_DR_UPDATE_GOLDEN=1 pytest <this file>``
and review the diff.
"""

from __future__ import annotations

import json
import os

import pytest
from markdown_it import MarkdownIt

from drctl.review.cost import StackCost
from drctl.review.diff import CostDiff, diff_costs
from drctl.review.markdown import (
    headline,
    render_cost_diff,
    render_posture,
    render_tiers,
    unit_usd,
    usd,
)
from drctl.review.posture import Capacity, Posture
from drctl.review.rules import RtoBudget, Violation
from drctl.review.tiers import TierCost
from tests.drctl.review.conftest import FIXTURES, GOLDEN


def load(name: str) -> dict[str, StackCost]:
    data = json.loads((FIXTURES / name).read_text())
    return {s["stack"]: StackCost.from_dict(s) for s in data["stacks"]}


@pytest.fixture(scope="module")
def diff() -> CostDiff:
    return diff_costs(load("cost-base.json"), load("cost-head.json"))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TRT_DR_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; see the module docstring to regenerate"


def tables(text: str) -> int:
    md = MarkdownIt("commonmark").enable("table")
    return sum(1 for token in md.parse(text) if token.type == "table_open")


def test_cost_diff_golden(diff: CostDiff) -> None:
    text = render_cost_diff(diff) + "\n"
    check_golden("cost-diff.md", text)
    assert tables(text) == 1


def test_tiers_golden() -> None:
    base = load("cost-base.json")
    head = load("cost-head.json")
    pilot = {**base, "dr": StackCost("dr", "us-west-2", "dr", "pilot-light", [])}
    tiers = [
        TierCost("pilot-light", pilot),
        TierCost("warm-standby", base),
        TierCost("active-active", head),
    ]
    text = render_tiers(tiers, "warm-standby") + "\n"
    check_golden("tiers.md", text)
    assert tables(text) == 1


def test_posture_golden() -> None:
    posture = Posture(
        tier="pilot-light",
        rto={"primary": RtoBudget(30, 60, 0, 420, 300, 300), "dr": RtoBudget(30, 60, 0, 0, 0, 300)},
        rpo_minutes={"primary": 15, "dr": None},
        capacity=Capacity(16, "H100", 0, 6, "L40S", 0.25),
        findings={
            "primary": [],
            "dr": [
                Violation(
                    "failover-records-health-checked",
                    "urn:pulumi:dr::trt-dr::trt-dr:infra:Failover$aws:route53/record:Record::dr-record",
                    "failover record has no healthCheckId",
                )
            ],
        },
    )
    text = render_posture(posture) + "\n"
    check_golden("posture.md", text)
    assert tables(text) == 1 and not posture.ok


def test_headline_directions(diff: CostDiff) -> None:
    assert headline(diff).startswith("**Monthly cost will increase by $1,326.68**")
    down = diff_costs(load("cost-head.json"), load("cost-base.json"))
    assert headline(down).startswith("**Monthly cost will decrease by $1,326.68**")
    same = diff_costs(load("cost-base.json"), load("cost-base.json"))
    assert headline(same).startswith("**Monthly cost will not change**")
    assert "No priced resource changed." in render_cost_diff(same)


def test_money_formats() -> None:
    assert (usd(1234.5), usd(-2), usd(3, signed=True), usd(0, signed=True)) == (
        "$1,234.50",
        "-$2.00",
        "+$3.00",
        "$0.00",
    )
    assert (unit_usd(0.045), unit_usd(1), unit_usd(55.04)) == ("$0.045", "$1.00", "$55.04")
