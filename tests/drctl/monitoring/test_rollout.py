"""The controller over recorded snapshot series: acts once, records evidence, re-runs safely."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from drctl.monitoring.decision import Policy
from drctl.monitoring.errors import MetricsUnavailable
from drctl.monitoring.rollout import Subject, run_rollout
from drctl.monitoring.source import Counters, Snapshot

POLICY = Policy(error_rate=0.01, latency_ms=100.0, latency_ratio=1.2, min_requests=10, windows=2)


class Recorded:
    """Replays snapshots; ``None`` entries are failed scrapes."""

    def __init__(self, snapshots: list[Snapshot | None]) -> None:
        self.items: Iterator[Snapshot | None] = iter(snapshots)

    def snapshot(self) -> Snapshot:
        item = next(self.items)
        if item is None:
            raise MetricsUnavailable("scrape failed")
        return item


def series(ms_per_request: float, steps: int, failures: int = 0) -> list[Snapshot | None]:
    return [
        {("m", "2"): Counters(100 * i, failures * i, 100 * i * ms_per_request * 1000)}
        for i in range(steps)
    ]


def baseline(steps: int) -> Subject:
    snaps = [{("m", "1"): Counters(100 * i, 0, 100 * i * 10_000)} for i in range(steps)]
    return Subject(Recorded(list(snaps)), "m", "1")


def test_regressed_series_rolls_back_once_and_records(tmp_path: Path) -> None:
    acted: list[int] = []
    record = tmp_path / "rollout.json"
    canary = Subject(Recorded(series(20.0, 10)), "m", "2")

    def act() -> str:
        acted.append(1)
        return "rolled back"

    result = run_rollout(
        canary,
        baseline(10),
        POLICY,
        60,
        8,
        act,
        record,
        sleep=lambda _: None,
    )
    assert result.action == "rollback" and acted == [1]
    saved = json.loads(record.read_text())
    assert saved["action"] == "rollback" and len(saved["windows"]) == 2
    assert saved["windows"][0]["canary"]["latency_ms"] == 20.0
    again = run_rollout(canary, baseline(10), POLICY, 60, 8, lambda: "x", record)
    assert again.action == "rollback" and acted == [1]


def test_healthy_series_promotes_without_acting() -> None:
    canary = Subject(Recorded(series(10.5, 10)), "m", "2")
    result = run_rollout(canary, baseline(10), POLICY, 60, 8, lambda: "acted", sleep=lambda _: None)
    assert result.action == "promote" and result.acted == ""


def test_failed_scrapes_never_promote() -> None:
    snaps = series(10.0, 6)
    snaps[2] = snaps[4] = None
    canary = Subject(Recorded(snaps), "m", "2")
    result = run_rollout(
        canary, baseline(6), POLICY, 60, 5, lambda: "rolled back", sleep=lambda _: None
    )
    assert result.action == "rollback" and result.acted == "rolled back"
    assert "unknown" in [w["verdict"] for w in result.windows]


def test_failing_series_rolls_back() -> None:
    canary = Subject(Recorded(series(10.0, 10, failures=5)), "m", "2")
    result = run_rollout(canary, baseline(10), POLICY, 60, 8, lambda: "ok", sleep=lambda _: None)
    assert result.action == "rollback" and "error rate" in result.reason
