"""The alert <-> runbook contract: every alert has a runbook, every runbook trigger an alert.

``drctl runbook lint`` calls :func:`lint_links` (one line, see docs/monitoring.md); the
monitoring side owns the alert names, so a mismatch is fixed here, not in the runbooks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from drctl.monitoring import rules
from drctl.monitoring.rules import Alert
from drctl.runbook.model import Runbook
from drctl.runbook.parse import parse_runbook
from infra.config import MonitoringSettings

ROLES = ("primary", "dr")


def all_alerts(settings: MonitoringSettings | None = None) -> list[Alert]:
    """Alerts of both stacks (an alert rendered in both counts once)."""
    chosen = settings or MonitoringSettings()
    seen: dict[str, Alert] = {}
    for role in ROLES:
        for alert in rules.alerts(chosen, role):
            seen.setdefault(alert.name, alert)
    return list(seen.values())


def check_links(alerts: Iterable[Alert], runbooks: Sequence[Runbook]) -> list[str]:
    """Problems: alerts without their runbook, runbook triggers without an alert."""
    by_id = {r.front.id: r for r in runbooks}
    names = set()
    problems = []
    for alert in alerts:
        names.add(alert.name)
        runbook = by_id.get(alert.runbook)
        if runbook is None:
            problems.append(f"alert {alert.name} names runbook {alert.runbook!r}, which is missing")
        elif alert.name not in runbook.front.trigger:
            problems.append(
                f"alert {alert.name} names runbook {alert.runbook!r}, whose trigger does not "
                f"list it ({', '.join(runbook.front.trigger)})"
            )
    for runbook in runbooks:
        for trigger in runbook.front.trigger:
            if trigger not in names:
                problems.append(f"runbook {runbook.front.id}: trigger {trigger} has no alert")
    return problems


def load_runbooks(directory: Path) -> list[Runbook]:
    """Every ``*.md`` runbook in ``directory`` (parse errors propagate with their file)."""
    return [parse_runbook(path) for path in sorted(directory.glob("*.md"))]


def lint_links(directory: Path, settings: MonitoringSettings | None = None) -> list[str]:
    """The hook for ``drctl runbook lint``: link problems between rendered alerts and runbooks."""
    return check_links(all_alerts(settings), load_runbooks(directory))
