"""The rollout controller: watch a canary version against its baseline, then act.

One code path for the pipeline step (``drctl rollout watch``) and the in-cluster CronJob
(the same command in the drctl image, reading Prometheus instead of Triton): take a snapshot
per window from both sources, :func:`~drctl.monitoring.decision.decide`, and on ``rollback``
call the given rollback (release pointer back + Triton load, :func:`drctl.store.rollback.rollback`,
or, for a canary read from the store, :func:`drctl.store.canary.abort_canary` + reload); on
``promote`` call the given promote, if any (:func:`drctl.store.canary.promote_canary` + reload).
The decision and its evidence are written atomically to a JSON record; re-running with the
same record returns the recorded decision instead of acting twice.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from drctl.atomic import write_atomic
from drctl.monitoring.decision import Decision, Policy, Window, decide
from drctl.monitoring.errors import MetricsUnavailable
from drctl.monitoring.source import Counters, MetricsSource, window


@dataclass(frozen=True)
class Subject:
    """One model version and where its metrics come from."""

    source: MetricsSource
    model: str
    version: str

    def counters(self) -> Counters | None:
        """The version's counters now, or None when the scrape fails or the version is absent."""
        try:
            return self.source.snapshot().get((self.model, self.version))
        except MetricsUnavailable:
            return None


@dataclass
class RolloutRecord:
    """The decision with its evidence, as written to the record file."""

    model: str
    canary: str
    baseline: str
    action: str
    reason: str
    started_at: str
    decided_at: str
    windows: list[dict[str, object]] = field(default_factory=list)
    acted: str = ""
    trial: str = ""  # which trial of this version (the canary pointer's ``trial``), if known


def now() -> str:
    """UTC timestamp for records."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def watch(
    canary: Subject,
    baseline: Subject,
    policy: Policy,
    window_s: float,
    max_windows: int,
    sleep: Callable[[float], None] = time.sleep,
    on_window: Callable[[Decision], None] | None = None,
) -> tuple[Decision, list[tuple[Window | None, Window | None]]]:
    """Watch window by window until a decision, or ``max_windows`` (then roll back)."""
    before = (canary.counters(), baseline.counters())
    series: list[tuple[Window | None, Window | None]] = []
    decision = decide([], [], policy)
    for index in range(max_windows):
        sleep(window_s)
        after = (canary.counters(), baseline.counters())
        series.append((window(before[0], after[0]), window(before[1], after[1])))
        before = after
        decision = decide(
            [c for c, _ in series], [b for _, b in series], policy, final=index == max_windows - 1
        )
        if on_window is not None:
            on_window(decision)
        if decision.action != "wait":
            break
    return decision, series


def run_rollout(
    canary: Subject,
    baseline: Subject,
    policy: Policy,
    window_s: float,
    max_windows: int,
    rollback: Callable[[], str],
    record: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_window: Callable[[Decision], None] | None = None,
    promote: Callable[[], str] | None = None,
    trial: str = "",
) -> RolloutRecord:
    """Watch, decide, roll back (or promote, when given) as decided, and record everything.

    ``trial`` tells apart two canaries of the same version (aborted, then published again).
    """
    previous = read_record(record, canary, trial)
    if previous is not None:
        return previous
    started = now()
    decision, series = watch(canary, baseline, policy, window_s, max_windows, sleep, on_window)
    result = RolloutRecord(
        model=canary.model,
        canary=canary.version,
        baseline=baseline.version,
        action=decision.action,
        reason=decision.reason,
        started_at=started,
        decided_at=now(),
        trial=trial,
        windows=[
            {
                "canary": asdict(c) if c else None,
                "baseline": asdict(b) if b else None,
                "verdict": j.verdict,
                "why": j.reason,
            }
            for (c, b), j in zip(series, decision.evidence, strict=True)
        ],
    )
    if decision.action == "rollback":
        result.acted = rollback()
    elif decision.action == "promote" and promote is not None:
        result.acted = promote()
    if record is not None:
        write_record(record, result)
    return result


def read_record(path: Path | None, canary: Subject, trial: str = "") -> RolloutRecord | None:
    """The recorded decision for this model version and trial, if an earlier run made one."""
    if path is None or not path.exists():
        return None
    data = json.loads(path.read_text())
    same = (data.get("model"), data.get("canary"), data.get("trial", ""))
    if same != (canary.model, canary.version, trial):
        return None
    return RolloutRecord(**data)


def write_record(path: Path, result: RolloutRecord) -> None:
    """Write the record atomically (temp file, then rename)."""
    write_atomic(path, json.dumps(asdict(result), indent=2) + "\n")
