"""DR tier side by side: only the tier changes; DR cost rises pilot-light -> active-active."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drctl.review.prices import PriceTable
from drctl.review.tiers import copy_with_tier, tier_costs
from drctl.review.usage import Usage
from infra.config import TIERS
from infra.offline import PROJECT_DIR


@pytest.fixture(scope="module")
def tiers(prices: PriceTable, usage: Usage) -> list:
    return tier_costs(prices, usage)


def test_every_tier_priced_and_ordered(tiers: list) -> None:
    assert [t.tier for t in tiers] == list(TIERS)
    dr = [t.stacks["dr"].total for t in tiers]
    assert dr[0] < dr[1] < dr[2]
    primary = {t.stacks["primary"].total for t in tiers}
    assert len(primary) == 1  # the example primary has the same size in every tier


def test_tier_difference_is_the_dr_gpu_nodes(tiers: list, prices: PriceTable) -> None:
    stack = yaml.safe_load((PROJECT_DIR / "Pulumi.dr.yaml").read_text())["config"]
    nodes = stack["trt-dr:gpuNodes"]
    hourly = prices.lookup("ec2_instance", stack["trt-dr:gpu"]["instanceType"], "us-west-2").usd
    by = {t.tier: t for t in tiers}
    extra = nodes["active-active"]["desired"] - nodes["pilot-light"]["desired"]
    delta = by["active-active"].total - by["pilot-light"].total
    assert delta == pytest.approx(extra * hourly * 730, abs=0.05)


def test_copy_changes_only_the_tier(tmp_path: Path) -> None:
    copy_with_tier(PROJECT_DIR, tmp_path, "pilot-light", ("primary", "dr"))
    for stack in ("primary", "dr"):
        old = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
        new = yaml.safe_load((tmp_path / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert new.pop("trt-dr:drTier") == "pilot-light"
        old.pop("trt-dr:drTier", None)
        assert new == old
