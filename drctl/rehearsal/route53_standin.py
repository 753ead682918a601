"""The **Route 53 stand-in**: health checkers and failover DNS answers, run locally.

moto stores health checks and records but always reports healthy and answers no DNS, so the
rehearsal applies Route 53's documented rules itself (AWS Route 53 developer guide):

* each check has ``checkers`` independent checkers (one per checker region), staggered over
  the request interval; a probe passes on TCP connect within 4 s and a 2xx/3xx within 2 s;
* a checker changes its opinion after ``failure_threshold`` consecutive opposite results;
* the check is healthy when MORE than 18 % of checkers say healthy; ``Inverted`` flips that;
  a ``Disabled`` check is always healthy;
* a failover name answers PRIMARY while its check is healthy, else SECONDARY when that is
  healthy; when both are unhealthy it answers PRIMARY; a record without a check is healthy.

``time_scale`` compresses the clock: interval, timeouts and TTL are multiplied by it (0.1
turns a 10 s interval into 1 s and a 60 s TTL into 6 s); thresholds and the 18 % rule do not
change. Every event is stamped with clock seconds; ``real_equivalent`` divides by the scale.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from drctl.rehearsal.clock import Clock, MonotonicClock
from drctl.rehearsal.errors import HealthCheckConfigError
from drctl.rehearsal.route53_config import FailoverRecord, HealthCheckSpec, read_flags

HEALTHY_FRACTION = 0.18
CONNECT_TIMEOUT_S = 4.0
RESPONSE_TIMEOUT_S = 2.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
Prober = Callable[[str, float, float], bool]


def verdict(healthy_checkers: int, checkers: int, inverted: bool, disabled: bool) -> bool:
    """Route 53's rule: Disabled is healthy; else more than 18 % healthy, flipped by Inverted."""
    if disabled:
        return True
    share = healthy_checkers / checkers if checkers else 0.0
    return (share > HEALTHY_FRACTION) != inverted


def http_probe(url: str, connect_timeout: float, response_timeout: float) -> bool:
    """One Route 53-style HTTP check of a loopback URL: connect, GET, pass on 2xx/3xx."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        raise HealthCheckConfigError(f"the stand-in only probes loopback endpoints, not {url}")
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=connect_timeout)
    try:
        conn.connect()
        if conn.sock is not None:
            conn.sock.settimeout(response_timeout)
        conn.request("GET", parts.path or "/")
        return 200 <= conn.getresponse().status < 400
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@dataclass
class Checker:
    """One checker region's view of one endpoint."""

    next_due: float
    healthy: bool = True
    streak: int = 0

    def observe(self, ok: bool, threshold: int) -> None:
        """Count consecutive opposite results; flip after ``threshold`` of them."""
        if ok == self.healthy:
            self.streak = 0
            return
        self.streak += 1
        if self.streak >= threshold:
            self.healthy, self.streak = ok, 0


@dataclass(frozen=True)
class DnsAnswer:
    """What the name resolves to now, for how long, and which failover role answered."""

    name: str
    values: tuple[str, ...]
    ttl_s: float
    role: str
    set_identifier: str
    at: float


@dataclass(frozen=True)
class Event:
    """One timeline entry: a check changed status or a name changed its answer."""

    at: float
    kind: str
    subject: str
    value: str
    detail: str = ""


@dataclass
class _State:
    spec: HealthCheckSpec
    checkers: list[Checker] = field(default_factory=list)
    healthy: bool = True


class Route53StandIn:
    """Route 53 health checking and failover DNS on an injectable (compressible) clock."""

    def __init__(
        self,
        checks: Iterable[HealthCheckSpec],
        records: Iterable[FailoverRecord],
        *,
        clock: Clock | None = None,
        prober: Prober = http_probe,
        time_scale: float = 1.0,
    ) -> None:
        if time_scale <= 0:
            raise HealthCheckConfigError("time_scale must be > 0")
        self.clock = clock or MonotonicClock()
        self.prober = prober
        self.time_scale = time_scale
        self.started_at = self.clock.now()
        self.timeline: list[Event] = []
        self._lock = threading.RLock()
        self._checks = {spec.id: self._new_state(spec) for spec in checks}
        self._records = _group(records, self._checks)
        self._answers: dict[str, DnsAnswer] = {}
        self._publish()

    def _new_state(self, spec: HealthCheckSpec) -> _State:
        interval = spec.request_interval_s * self.time_scale
        start = self.started_at
        return _State(
            spec, [Checker(start + interval * i / spec.checkers) for i in range(spec.checkers)]
        )

    def status(self, check_id: str) -> bool:
        """Route 53's current view of a check (after Inverted and Disabled)."""
        with self._lock:
            state = self._checks[check_id]
            healthy = sum(c.healthy for c in state.checkers)
            return verdict(healthy, len(state.checkers), state.spec.inverted, state.spec.disabled)

    def votes(self, check_id: str) -> tuple[int, int]:
        """(checkers that say healthy, checkers) for a check, before Inverted and Disabled."""
        with self._lock:
            checkers = self._checks[check_id].checkers
            return sum(c.healthy for c in checkers), len(checkers)

    def flags(self, check_id: str) -> tuple[bool, bool]:
        """(inverted, disabled) of a check as the stand-in applies them now."""
        with self._lock:
            spec = self._checks[check_id].spec
            return spec.inverted, spec.disabled

    def set_flags(self, check_id: str, *, inverted: bool, disabled: bool) -> None:
        """Change Inverted/Disabled as ``update_health_check`` does; effective at once."""
        with self._lock:
            state = self._checks[check_id]
            state.spec = replace(state.spec, inverted=inverted, disabled=disabled)
            self._publish()

    def sync_flags(self, client: Any) -> None:
        """Copy Inverted/Disabled from a Route 53 API (moto) so drills flip them there."""
        for check_id, (inverted, disabled) in read_flags(client).items():
            if check_id in self._checks:
                spec = self._checks[check_id].spec
                if (spec.inverted, spec.disabled) != (inverted, disabled):
                    self.set_flags(check_id, inverted=inverted, disabled=disabled)

    def resolve(self, name: str) -> DnsAnswer:
        """The failover answer for ``name`` right now, TTL already on the scaled clock."""
        key = name.rstrip(".").lower()
        with self._lock:
            if key not in self._records:
                raise HealthCheckConfigError(f"no failover records for {name!r}")
            return self._answer(key)

    def _answer(self, name: str) -> DnsAnswer:
        primary, secondary = self._records[name]
        primary_up = primary is not None and self._record_healthy(primary)
        secondary_up = secondary is not None and self._record_healthy(secondary)
        chosen = secondary if (secondary_up and not primary_up) else (primary or secondary)
        assert chosen is not None
        return DnsAnswer(
            name=name,
            values=chosen.values,
            ttl_s=chosen.ttl * self.time_scale,
            role=chosen.role,
            set_identifier=chosen.set_identifier,
            at=self.clock.now(),
        )

    def _record_healthy(self, record: FailoverRecord) -> bool:
        return record.health_check_id is None or self.status(record.health_check_id)

    def tick(self) -> float:
        """Run every probe that is due, update statuses and answers; return the next due time."""
        now = self.clock.now()
        with self._lock:
            due = [(s, c) for s in self._checks.values() for c in s.checkers if c.next_due <= now]
        results = self._probe_all(due)
        with self._lock:
            for (state, checker), ok in zip(due, results, strict=True):
                checker.observe(ok, state.spec.failure_threshold)
                interval = state.spec.request_interval_s * self.time_scale
                while checker.next_due <= now:
                    checker.next_due += interval
            self._publish()
            dues = [c.next_due for s in self._checks.values() for c in s.checkers]
            return min(dues, default=now + self.time_scale)

    def _probe_all(self, due: list[tuple[_State, Checker]]) -> list[bool]:
        if not due:
            return []
        connect = CONNECT_TIMEOUT_S * self.time_scale
        response = RESPONSE_TIMEOUT_S * self.time_scale
        with ThreadPoolExecutor(max_workers=min(16, len(due))) as pool:
            futures = [pool.submit(self.prober, s.spec.url, connect, response) for s, _ in due]
            return [f.result() for f in futures]

    def _publish(self) -> None:
        now = self.clock.now()
        for check_id, state in self._checks.items():
            healthy = self.status(check_id)
            if healthy != state.healthy:
                state.healthy = healthy
                votes = f"{sum(c.healthy for c in state.checkers)}/{len(state.checkers)}"
                detail = f"{votes} checkers healthy; inverted={state.spec.inverted}"
                detail += f" disabled={state.spec.disabled}"
                self.timeline.append(Event(now, "health", check_id, _word(healthy), detail))
        self._record_answers()

    def _record_answers(self) -> None:
        for name in self._records:
            answer = self._answer(name)
            previous = self._answers.get(name)
            if previous is None or previous.values != answer.values:
                self._answers[name] = answer
                detail = f"{answer.role} {answer.set_identifier} ttl={answer.ttl_s:g}s"
                self.timeline.append(Event(answer.at, "dns", name, ",".join(answer.values), detail))

    def run(
        self,
        duration: float,
        stop: threading.Event | None = None,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        """Tick until ``duration`` clock seconds pass or ``stop`` is set (bounded either way)."""
        end = self.clock.now() + duration
        while self.clock.now() < end and not (stop and stop.is_set()):
            if on_tick is not None:
                on_tick()
            delay = min(self.tick(), end) - self.clock.now()
            if stop is not None and isinstance(self.clock, MonotonicClock):
                stop.wait(max(0.0, delay))  # real time: wake at once when stopped
            else:
                self.clock.sleep(delay)

    def real_equivalent(self, clock_seconds: float) -> float:
        """Seconds on Route 53's real clock that ``clock_seconds`` of this run stand for."""
        return clock_seconds / self.time_scale


def _word(healthy: bool) -> str:
    return "healthy" if healthy else "unhealthy"


def _group(
    records: Iterable[FailoverRecord], checks: Mapping[str, _State]
) -> dict[str, tuple[FailoverRecord | None, FailoverRecord | None]]:
    """``{name: (primary, secondary)}``, refusing duplicates and unknown health checks."""
    grouped: dict[str, dict[str, FailoverRecord]] = {}
    for record in records:
        if record.health_check_id and record.health_check_id not in checks:
            raise HealthCheckConfigError(
                f"{record.name} {record.role} names unknown health check {record.health_check_id}"
            )
        roles = grouped.setdefault(record.name.rstrip(".").lower(), {})
        if record.role in roles:
            raise HealthCheckConfigError(f"{record.name} has two {record.role} records")
        roles[record.role] = record
    return {name: (r.get("PRIMARY"), r.get("SECONDARY")) for name, r in grouped.items()}
