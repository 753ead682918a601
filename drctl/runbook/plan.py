"""``drctl runbook plan``: the steps in order with their commands resolved, nothing executed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from drctl.runbook.model import Runbook, Step
from drctl.runbook.params import render, resolve


@dataclass(frozen=True)
class PlannedStep:
    """A step and the exact command the runner would execute for it."""

    step: Step
    command: str
    rollback_command: str | None


@dataclass(frozen=True)
class Plan:
    """A dry run: params, steps, and whether the budgets fit the RTO."""

    runbook: Runbook
    params: dict[str, str]
    steps: list[PlannedStep]

    @property
    def total_budget_seconds(self) -> float:
        """Sum of the main steps' budgets (rollbacks excluded)."""
        return sum(p.step.budget_seconds for p in self.steps)


def make_plan(runbook: Runbook, given: Mapping[str, str]) -> Plan:
    """Resolve params and every main step's command (and its rollback's)."""
    values = resolve(runbook, given)
    planned = []
    for step in runbook.main_steps:
        rollback = runbook.step(step.rollback) if step.rollback else None
        planned.append(
            PlannedStep(
                step,
                render(step.command, values),
                render(rollback.command, values) if rollback else None,
            )
        )
    return Plan(runbook, values, planned)
