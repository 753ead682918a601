"""The drill engine: steady state -> inject fault -> observe -> recover / fail back -> report.

One code path for real AWS and for the local rehearsal: everything place-specific lives in an
:class:`Environment`. Whatever happens (an error, Ctrl-C, the time budget), the engine stops
its observers and, unless the drill completed its own recovery, calls
``Environment.restore_primary`` so a drill never leaves a system failed over by accident.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from drctl.drill.health import HealthLog
from drctl.drill.probe import ProbeLog


class Fault(StrEnum):
    """The faults a drill can inject."""

    REGION_OUTAGE = "region-outage"
    ENGINE_CORRUPTION = "engine-corruption"
    BAD_VERSION = "bad-version"
    GPU_NODE_LOSS = "gpu-node-loss"
    REPLICATION_PAUSE = "replication-pause"


class SteadyStateFailed(Exception):
    """The system was not healthy before the fault; the drill did not start."""


class DrillBudgetExceeded(Exception):
    """The drill ran past its time budget; it was aborted and the primary restored."""


@dataclass
class Mark:
    """A named moment of the drill, on the monotonic clock every observer uses."""

    t: float
    name: str
    detail: str = ""


@dataclass
class Timeline:
    """The drill's own marks (fault, detected, mitigated, recovered, ...)."""

    marks: list[Mark] = field(default_factory=list)

    def mark(self, name: str, detail: str = "", at: float | None = None) -> float:
        """Record ``name`` now (or at ``at``) and return its time."""
        moment = time.monotonic() if at is None else at
        self.marks.append(Mark(moment, name, detail))
        return moment

    def at(self, name: str) -> float | None:
        """Time of the first mark called ``name``."""
        return next((m.t for m in self.marks if m.name == name), None)


@dataclass
class Observation:
    """What the observers saw: two probe clients, health checks and DNS answers over time."""

    plain: ProbeLog
    client: ProbeLog
    health: list[HealthLog]
    dns: list[tuple[float, str]]


class Observers(Protocol):
    """Probe threads and watchers an environment runs during a drill."""

    def start(self, stop: threading.Event) -> None:
        """Start every observer thread; they end when ``stop`` is set."""

    def join(self) -> None:
        """Wait for every observer thread to end."""

    def observation(self) -> Observation:
        """Everything observed so far."""


class Environment(Protocol):
    """A place to drill: the local rehearsal (stand-ins) or real AWS."""

    label: str
    time_scale: float
    primary: str
    dr: str
    rto_objective_s: float

    def steady_state(self) -> list[str]:
        """Problems that must be fixed before a drill (empty when healthy)."""

    def observers(self) -> Observers:
        """Fresh observers for one drill."""

    def inject(self, fault: Fault, timeline: Timeline) -> None:
        """Cause ``fault``."""

    def mitigate(self, fault: Fault, timeline: Timeline, deadline: float) -> None:
        """Wait for detection and for service to be restored; mark ``detected``/``mitigated``."""

    def recover(self, fault: Fault, timeline: Timeline, deadline: float) -> None:
        """Undo the fault and fail back; return when the primary serves again."""

    def restore_primary(self) -> None:
        """Abort path: bring the primary back to serving, whatever state the drill left."""

    def rpo(self) -> dict[str, Any]:
        """Replication backlog and age of the newest replica, now."""

    def parity(self) -> dict[str, Any]:
        """Released model versions per region and whether they are the same model."""


@dataclass
class DrillResult:
    """Everything one drill produced; ``metrics`` is filled by drctl.drill.metrics."""

    fault: Fault
    environment: str
    time_scale: float
    rto_objective_s: float
    timeline: Timeline
    observation: Observation
    rpo: dict[str, Any]
    parity: dict[str, Any]
    aborted: str | None = None
    interrupted: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)


def wait_until(condition: Any, deadline: float, what: str, poll_s: float = 0.1) -> None:
    """Poll ``condition()`` until true; DrillBudgetExceeded past ``deadline``."""
    while not condition():
        if time.monotonic() > deadline:
            raise DrillBudgetExceeded(f"time budget spent waiting for {what}")
        time.sleep(poll_s)


def run_drill(
    env: Environment, fault: Fault, budget_s: float, warmup_s: float = 1.0
) -> DrillResult:
    """Run one drill; always returns a result (``aborted`` says why it stopped early).

    Ctrl-C ends the drill, restores the primary and returns with ``interrupted`` set, so the
    caller can still write the report before it exits.
    """
    problems = env.steady_state()
    if problems:
        raise SteadyStateFailed("; ".join(problems))
    timeline, stop, observers = Timeline(), threading.Event(), env.observers()
    deadline = time.monotonic() + budget_s
    observers.start(stop)
    aborted: str | None = None
    interrupted = False
    rpo: dict[str, Any] = {}
    try:
        time.sleep(warmup_s)
        rpo = env.rpo()
        timeline.mark("fault", fault.value)
        env.inject(fault, timeline)
        env.mitigate(fault, timeline, deadline)
        timeline.mark("recovering")
        env.recover(fault, timeline, deadline)
        timeline.mark("recovered")
    except KeyboardInterrupt:
        aborted, interrupted = "interrupted (Ctrl-C)", True
    except Exception as error:
        aborted = f"{type(error).__name__}: {error}"
    finally:
        stop.set()
        observers.join()
        if aborted is not None:
            env.restore_primary()
            timeline.mark("primary-restored")
    result = DrillResult(
        fault=fault,
        environment=env.label,
        time_scale=env.time_scale,
        rto_objective_s=env.rto_objective_s,
        timeline=timeline,
        observation=observers.observation(),
        rpo=rpo,
        parity=_parity(env),
        aborted=aborted,
        interrupted=interrupted,
    )
    return result


def _parity(env: Environment) -> dict[str, Any]:
    try:
        return env.parity()
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}
