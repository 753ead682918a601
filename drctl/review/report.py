"""The whole pull-request review: plan, cost diff, DR tier costs and posture, in one object.

Head resources come from this checkout evaluated offline, or from ``pulumi preview --json``
files (one per stack; their old states are then the base). The base is another checkout (a
``git worktree`` of the target branch) or a JSON estimate from ``drctl cost estimate --json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drctl.plan import StackPlan, group, plan_preview
from drctl.review.cost import StackCost, estimate
from drctl.review.diff import CostDiff, diff_costs
from drctl.review.errors import SnapshotError
from drctl.review.markdown import (
    MARKER,
    render_cost_diff,
    render_plan,
    render_posture,
    render_tiers,
)
from drctl.review.posture import Posture, build_posture
from drctl.review.preview import load_preview
from drctl.review.prices import PriceTable
from drctl.review.snapshot import STACKS, evaluate_project
from drctl.review.stackfiles import stack_settings
from drctl.review.tiers import TierCost, tier_costs
from drctl.review.usage import Usage
from infra.offline import Evaluation


@dataclass
class Review:
    """Everything the pull-request comment shows."""

    source: str
    plans: list[StackPlan]
    diff: CostDiff
    tiers: list[TierCost]
    posture: Posture
    prices: PriceTable

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "plan": [p.as_dict() for p in self.plans],
            "cost": self.diff.as_dict(),
            "tiers": [t.as_dict() for t in self.tiers],
            "posture": self.posture.as_dict(),
        }


def estimate_all(
    evaluations: dict[str, Evaluation], prices: PriceTable, usage: Usage, tier: str = ""
) -> dict[str, StackCost]:
    """Cost of every evaluated stack."""
    return {s: estimate(e, prices, usage.of(s), tier) for s, e in evaluations.items()}


def costs_to_json(costs: dict[str, StackCost]) -> dict[str, Any]:
    """The ``drctl cost estimate --json`` document."""
    total = round(sum(c.total for c in costs.values()), 2)
    return {"monthly_usd": total, "stacks": [c.as_dict() for c in costs.values()]}


def load_costs(source: Path, prices: PriceTable, usage: Usage) -> dict[str, StackCost]:
    """Estimates of a base: a checkout directory (evaluated) or an estimate JSON file."""
    if source.is_dir():
        evaluations = evaluate_project(source)
        return estimate_all(evaluations, prices, usage, _tier_of(source))
    try:
        data = json.loads(source.read_text())
        return {s["stack"]: StackCost.from_dict(s) for s in data["stacks"]}
    except FileNotFoundError:
        raise SnapshotError(f"{source} does not exist; pass a checkout or an estimate") from None
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise SnapshotError(
            f"{source} is not a `drctl cost estimate --json` file ({error})"
        ) from None


def _tier_of(project_dir: Path) -> str:
    settings = stack_settings(project_dir)
    return next((s.dr_tier for s in settings.values()), "")


def _head(
    head_dir: Path, previews: dict[str, Path]
) -> tuple[dict[str, Evaluation], dict[str, Evaluation], list[StackPlan]]:
    if not previews:
        evaluations = evaluate_project(head_dir, STACKS)
        return evaluations, {}, [group(e) for e in evaluations.values()]
    parsed = {stack: load_preview(path, stack) for stack, path in previews.items()}
    plans = [plan_preview(path, stack) for stack, path in previews.items()]
    after = {s: p.after for s, p in parsed.items()}
    before = {s: p.before for s, p in parsed.items()}
    return after, before, plans


def build_review(
    head_dir: Path,
    base: Path | None,
    previews: dict[str, Path],
    prices: PriceTable,
    usage: Usage,
    policy_config: dict[str, Any],
    with_tiers: bool = True,
) -> Review:
    """Plan, cost diff (base vs head), DR tier costs and posture of the head."""
    settings = stack_settings(head_dir)
    tier = next((s.dr_tier for s in settings.values()), "")
    head_evals, preview_base, plans = _head(head_dir, previews)
    head_costs = estimate_all(head_evals, prices, usage, tier)
    if base is not None:
        base_costs = load_costs(base, prices, usage)
    else:
        base_costs = estimate_all(preview_base, prices, usage, tier)
    diff = diff_costs(base_costs, head_costs)
    tiers = tier_costs(prices, usage, head_dir) if with_tiers else []
    posture = build_posture(head_evals, settings, policy_config)
    source = "pulumi preview" if previews else "offline evaluation (Pulumi mocks)"
    return Review(source, plans, diff, tiers, posture, prices)


def _price_note(review: Review) -> str:
    used = {
        (line.description.split(" x")[0], line.source, line.as_of)
        for s in review.diff.stacks
        for r in s.resources
        for line in r.head_lines
        if line.unverified
    }
    dates = sorted(
        {line.as_of for s in review.diff.stacks for r in s.resources for line in r.head_lines}
    )
    as_of = f"{dates[0]}" + (f" to {dates[-1]}" if len(dates) > 1 else "") if dates else "n/a"
    note = f"Prices: on-demand USD from `data/prices.json`, as of {as_of}; 730 h per month."
    if used:
        names = ", ".join(sorted({name for name, _, _ in used}))
        note += f" Unverified prices used: {names}."
    return note


def render_review(review: Review) -> str:
    """The Markdown comment: marker, cost, tiers, posture, plan, price note."""
    parts = [
        MARKER,
        "## trt-dr review",
        f"Resources from: {review.source}.",
        render_cost_diff(review.diff),
    ]
    if review.tiers:
        parts.append(render_tiers(review.tiers, review.posture.tier))
    parts += [render_posture(review.posture), render_plan(review.plans), _price_note(review)]
    return "\n\n".join(parts) + "\n"
