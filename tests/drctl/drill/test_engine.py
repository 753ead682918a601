"""The drill engine's control flow: phases in order, and every abort restores the primary."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from drctl.drill.engine import (
    DrillBudgetExceeded,
    Fault,
    Observation,
    SteadyStateFailed,
    Timeline,
    run_drill,
    wait_until,
)
from drctl.drill.probe import ProbeLog


class Recorder:
    """Observers that record nothing but whether they were started and joined."""

    def __init__(self) -> None:
        self.started = self.joined = False
        self.stop: threading.Event | None = None

    def start(self, stop: threading.Event) -> None:
        self.started, self.stop = True, stop

    def join(self) -> None:
        assert self.stop is not None and self.stop.is_set()
        self.joined = True

    def observation(self) -> Observation:
        return Observation(ProbeLog(), ProbeLog(), [], [])


class ScriptedEnvironment:
    """An in-memory Environment whose phases can be told to fail."""

    label, time_scale, primary, dr, rto_objective_s = "scripted", 1.0, "p", "d", 60.0

    def __init__(self, fail_in: str | None = None, problems: list[str] | None = None) -> None:
        self.fail_in = fail_in
        self.problems = problems or []
        self.calls: list[str] = []
        self.recorder = Recorder()

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_in == name:
            raise RuntimeError(f"{name} broke")
        if self.fail_in == f"{name}:interrupt":
            raise KeyboardInterrupt

    def steady_state(self) -> list[str]:
        return self.problems

    def observers(self) -> Recorder:
        return self.recorder

    def inject(self, fault: Fault, timeline: Timeline) -> None:
        self._step("inject")

    def mitigate(self, fault: Fault, timeline: Timeline, deadline: float) -> None:
        self._step("mitigate")
        if self.fail_in == "budget":
            wait_until(lambda: False, deadline, "something that never happens")
        timeline.mark("mitigated")

    def recover(self, fault: Fault, timeline: Timeline, deadline: float) -> None:
        self._step("recover")

    def restore_primary(self) -> None:
        self.calls.append("restore_primary")

    def rpo(self) -> dict[str, Any]:
        return {"backlog_objects": 0}

    def parity(self) -> dict[str, Any]:
        return {"same_model": True}


def test_a_clean_drill_runs_every_phase_and_never_forces_a_restore() -> None:
    env = ScriptedEnvironment()
    result = run_drill(env, Fault.REGION_OUTAGE, budget_s=5, warmup_s=0)
    assert env.calls == ["inject", "mitigate", "recover"]
    names = [m.name for m in result.timeline.marks]
    assert names == ["fault", "mitigated", "recovering", "recovered"]
    assert result.aborted is None and env.recorder.joined


@pytest.mark.parametrize("phase", ["inject", "mitigate", "recover"])
def test_an_error_in_any_phase_restores_the_primary(phase: str) -> None:
    env = ScriptedEnvironment(fail_in=phase)
    result = run_drill(env, Fault.REGION_OUTAGE, budget_s=5, warmup_s=0)
    assert env.calls[-1] == "restore_primary"
    assert result.aborted == f"RuntimeError: {phase} broke"
    assert result.timeline.marks[-1].name == "primary-restored"
    assert env.recorder.joined


def test_the_time_budget_aborts_and_restores() -> None:
    env = ScriptedEnvironment(fail_in="budget")
    started = time.monotonic()
    result = run_drill(env, Fault.BAD_VERSION, budget_s=0.3, warmup_s=0)
    assert time.monotonic() - started < 2.0
    assert result.aborted is not None and "time budget" in result.aborted
    assert env.calls[-1] == "restore_primary"
    assert isinstance(DrillBudgetExceeded("x"), Exception)


def test_ctrl_c_restores_and_reports_the_interruption() -> None:
    env = ScriptedEnvironment(fail_in="mitigate:interrupt")
    result = run_drill(env, Fault.REGION_OUTAGE, budget_s=5, warmup_s=0)
    assert result.interrupted and result.aborted == "interrupted (Ctrl-C)"
    assert env.calls[-1] == "restore_primary"


def test_an_unhealthy_system_is_not_drilled() -> None:
    env = ScriptedEnvironment(problems=["dr Triton is not running"])
    with pytest.raises(SteadyStateFailed, match="dr Triton is not running"):
        run_drill(env, Fault.REGION_OUTAGE, budget_s=5, warmup_s=0)
    assert env.calls == [] and not env.recorder.started
