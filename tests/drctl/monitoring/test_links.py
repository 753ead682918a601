"""Alert <-> runbook links on the real runbooks/ and on crafted mismatches."""

from __future__ import annotations

from drctl.monitoring.links import all_alerts, check_links, lint_links, load_runbooks
from drctl.monitoring.rules import Alert
from drctl.runbook.model import Runbook
from drctl.runbook.parse import parse_text
from infra.offline import PROJECT_DIR

RUNBOOK = """---
id: {id}
title: t
trigger: [{triggers}]
owner: me
rto: 5m
---
"""


def runbook(id_: str, *triggers: str) -> Runbook:
    return parse_text(RUNBOOK.format(id=id_, triggers=", ".join(triggers)))


def test_real_runbooks_and_rendered_alerts_match() -> None:
    assert lint_links(PROJECT_DIR / "runbooks") == []


def test_every_runbook_trigger_is_covered_by_some_alert() -> None:
    names = {a.name for a in all_alerts()}
    for book in load_runbooks(PROJECT_DIR / "runbooks"):
        assert set(book.front.trigger) <= names


def test_alert_without_runbook_is_reported() -> None:
    problems = check_links([Alert("Orphan", "nowhere", "s", "1")], [])
    assert problems == ["alert Orphan names runbook 'nowhere', which is missing"]


def test_alert_whose_runbook_does_not_list_it_is_reported() -> None:
    problems = check_links([Alert("A", "rb", "s", "1")], [runbook("rb", "B")])
    assert any("does not list it" in p for p in problems)
    assert any("trigger B has no alert" in p for p in problems)


def test_matching_links_pass() -> None:
    assert check_links([Alert("A", "rb", "s", "1")], [runbook("rb", "A")]) == []
