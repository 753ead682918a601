"""The DR tier's cost effect: both stacks evaluated as pilot-light, warm-standby, active-active.

Each tier is evaluated in a temporary copy of the project (``__main__.py``, the stack files with
``trt-dr:drTier`` changed in both, ``models/``), because the two stacks must agree on the tier.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from drctl.review.cost import StackCost, estimate
from drctl.review.prices import PriceTable
from drctl.review.usage import Usage
from infra.config import NAMESPACE, TIERS
from infra.offline import PROJECT_DIR, evaluate

STACKS = ("primary", "dr")


@dataclass
class TierCost:
    """Monthly cost of every stack for one DR tier."""

    tier: str
    stacks: dict[str, StackCost]

    @property
    def total(self) -> float:
        """Monthly total of all stacks."""
        return round(sum(c.total for c in self.stacks.values()), 2)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (totals only)."""
        per_stack = {name: cost.total for name, cost in self.stacks.items()}
        return {"tier": self.tier, "monthly_usd": self.total, "stacks": per_stack}


def copy_with_tier(project_dir: Path, target: Path, tier: str, stacks: tuple[str, ...]) -> Path:
    """A minimal copy of the project in ``target`` with ``drTier`` set to ``tier`` everywhere."""
    shutil.copy(project_dir / "__main__.py", target / "__main__.py")
    if (project_dir / "models").is_dir():
        shutil.copytree(project_dir / "models", target / "models", dirs_exist_ok=True)
    for stack in stacks:
        data = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text()) or {}
        data.setdefault("config", {})[f"{NAMESPACE}:drTier"] = tier
        (target / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def tier_costs(
    prices: PriceTable,
    usage: Usage,
    project_dir: Path = PROJECT_DIR,
    stacks: tuple[str, ...] = STACKS,
) -> list[TierCost]:
    """Cost of each DR tier side by side, from the same stack files with only the tier changed."""
    result = []
    for tier in TIERS:
        with tempfile.TemporaryDirectory(prefix=f"trt-dr-{tier}-") as tmp:
            copy = copy_with_tier(project_dir, Path(tmp), tier, stacks)
            costs = {
                stack: estimate(evaluate(stack, project_dir=copy), prices, usage.of(stack), tier)
                for stack in stacks
            }
        result.append(TierCost(tier, costs))
    return result
