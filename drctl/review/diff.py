"""Cost diff between two estimates (base and head), per stack and per resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drctl.review.cost import CostLine, StackCost


@dataclass
class ResourceDelta:
    """One resource's monthly cost before and after."""

    resource: str
    type: str
    component: str
    base_lines: list[CostLine] = field(default_factory=list)
    head_lines: list[CostLine] = field(default_factory=list)

    @property
    def base_usd(self) -> float:
        """Monthly cost in the base (0 when added)."""
        return round(sum(line.monthly_usd for line in self.base_lines), 2)

    @property
    def head_usd(self) -> float:
        """Monthly cost in the head (0 when removed)."""
        return round(sum(line.monthly_usd for line in self.head_lines), 2)

    @property
    def delta(self) -> float:
        """Head minus base."""
        return round(self.head_usd - self.base_usd, 2)

    @property
    def status(self) -> str:
        """added, removed, changed or unchanged."""
        if not self.base_lines:
            return "added"
        if not self.head_lines:
            return "removed"
        same = [_key(x) for x in self.base_lines] == [_key(x) for x in self.head_lines]
        return "unchanged" if same else "changed"


def _key(line: CostLine) -> tuple[str, float, float]:
    return (line.description, line.quantity, line.unit_usd)


@dataclass
class StackDelta:
    """One stack's totals before and after, and its resources."""

    stack: str
    region: str
    base_usd: float
    head_usd: float
    resources: list[ResourceDelta]

    @property
    def delta(self) -> float:
        """Head minus base."""
        return round(self.head_usd - self.base_usd, 2)

    @property
    def changed(self) -> list[ResourceDelta]:
        """Resources whose priced lines differ."""
        return [r for r in self.resources if r.status != "unchanged"]


@dataclass
class CostDiff:
    """The whole diff: every stack of base or head."""

    stacks: list[StackDelta]

    @property
    def base_usd(self) -> float:
        """Base monthly total."""
        return round(sum(s.base_usd for s in self.stacks), 2)

    @property
    def head_usd(self) -> float:
        """Head monthly total."""
        return round(sum(s.head_usd for s in self.stacks), 2)

    @property
    def delta(self) -> float:
        """Head minus base."""
        return round(self.head_usd - self.base_usd, 2)

    @property
    def percent(self) -> float | None:
        """Relative change in percent (None when the base costs nothing)."""
        return None if not self.base_usd else round(100 * self.delta / self.base_usd, 1)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "base_monthly_usd": self.base_usd,
            "head_monthly_usd": self.head_usd,
            "delta_monthly_usd": self.delta,
            "delta_percent": self.percent,
            "stacks": [
                {
                    "stack": s.stack,
                    "region": s.region,
                    "base_monthly_usd": s.base_usd,
                    "head_monthly_usd": s.head_usd,
                    "delta_monthly_usd": s.delta,
                    "resources": [
                        {
                            "resource": r.resource,
                            "type": r.type,
                            "status": r.status,
                            "base_monthly_usd": r.base_usd,
                            "head_monthly_usd": r.head_usd,
                            "delta_monthly_usd": r.delta,
                        }
                        for r in s.changed
                    ],
                }
                for s in self.stacks
            ],
        }


def _resources(base: StackCost | None, head: StackCost | None) -> list[ResourceDelta]:
    found: dict[tuple[str, str], ResourceDelta] = {}
    for side, cost in (("base", base), ("head", head)):
        for line in cost.lines if cost else []:
            key = (line.type, line.resource)
            entry = found.setdefault(key, ResourceDelta(line.resource, line.type, line.component))
            (entry.base_lines if side == "base" else entry.head_lines).append(line)
    return sorted(found.values(), key=lambda r: (-abs(r.delta), r.component, r.resource))


def diff_costs(base: dict[str, StackCost], head: dict[str, StackCost]) -> CostDiff:
    """Per-stack and per-resource differences; stacks only on one side count as added/removed."""
    names = list(head) + [s for s in base if s not in head]
    stacks = []
    for name in names:
        b, h = base.get(name), head.get(name)
        either = h or b
        region = either.region if either else "unknown"
        stacks.append(
            StackDelta(name, region, b.total if b else 0.0, h.total if h else 0.0, _resources(b, h))
        )
    return CostDiff(stacks)
