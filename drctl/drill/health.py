"""Per-region health-check status over time, from the stand-in or from real Route 53.

``Route53Health`` reads ``get_health_check_status`` (one observation per checker region)
and ``get_health_check`` (Inverted, Disabled) and applies the same rule as Route 53: healthy
when more than 18 % of checkers report success, Inverted flips, Disabled is healthy. It
assumes the observations are the checkers' raw results, before inversion. Locally,
``StandInHealth`` reads the Route 53 stand-in. ``HealthWatcher`` polls either, bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from drctl.rehearsal.clock import Clock, MonotonicClock
from drctl.rehearsal.route53_standin import Route53StandIn, verdict


@dataclass(frozen=True)
class HealthReading:
    """One check's status: Route 53's verdict and the checker votes behind it."""

    check_id: str
    healthy: bool
    healthy_checkers: int
    checkers: int
    inverted: bool = False
    disabled: bool = False


class HealthSource(Protocol):
    """Anything that reports a health check's current status."""

    def read(self, check_id: str) -> HealthReading:
        """The check's status now."""
        ...


class StandInHealth:
    """Health as the Route 53 stand-in sees it (local rehearsal)."""

    def __init__(self, standin: Route53StandIn) -> None:
        self.standin = standin

    def read(self, check_id: str) -> HealthReading:
        """The stand-in's votes and verdict for one check."""
        healthy, total = self.standin.votes(check_id)
        inverted, disabled = self.standin.flags(check_id)
        return HealthReading(
            check_id, self.standin.status(check_id), healthy, total, inverted, disabled
        )


class Route53Health:
    """Health as real Route 53 reports it, through a boto3 ``route53`` client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def read(self, check_id: str) -> HealthReading:
        """Checker observations plus the check's Inverted/Disabled, judged by Route 53's rule."""
        config = self.client.get_health_check(HealthCheckId=check_id)["HealthCheck"]
        inverted = bool(config["HealthCheckConfig"].get("Inverted", False))
        disabled = bool(config["HealthCheckConfig"].get("Disabled", False))
        observations = self.client.get_health_check_status(HealthCheckId=check_id)[
            "HealthCheckObservations"
        ]
        healthy = sum(
            o.get("StatusReport", {}).get("Status", "").startswith("Success") for o in observations
        )
        total = len(observations)
        return HealthReading(
            check_id,
            verdict(healthy, total, inverted, disabled),
            healthy,
            total,
            inverted,
            disabled,
        )


@dataclass(frozen=True)
class HealthLog:
    """One poll of one region's check."""

    t: float
    region: str
    reading: HealthReading


@dataclass
class HealthWatcher:
    """Polls each region's check every ``interval_s``; bounded by polls and time."""

    source: HealthSource
    checks: Mapping[str, str]
    interval_s: float = 1.0
    clock: Clock = field(default_factory=MonotonicClock)
    log: list[HealthLog] = field(default_factory=list)

    def poll(self) -> list[HealthLog]:
        """Read every region's check once and log it."""
        now = self.clock.now()
        entries = [
            HealthLog(now, region, self.source.read(cid)) for region, cid in self.checks.items()
        ]
        self.log.extend(entries)
        return entries

    def run(self, duration_s: float, max_polls: int, stop: threading.Event | None = None) -> None:
        """Poll until ``duration_s`` passes, ``max_polls`` rounds ran or ``stop`` is set."""
        start = self.clock.now()
        for i in range(max_polls):
            due = start + i * self.interval_s
            if due - start >= duration_s or (stop is not None and stop.is_set()):
                return
            self.clock.sleep(due - self.clock.now())
            self.poll()
