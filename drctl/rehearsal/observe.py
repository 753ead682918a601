"""The drill's observers in the rehearsal: a DNS-following probe, a failover-client probe and a
health watcher, all reading the Route 53 stand-in, in threads bounded in time and count."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from drctl.drill.client import FailoverClient
from drctl.drill.client_probe import ClientProbe
from drctl.drill.engine import Observation
from drctl.drill.health import HealthWatcher, StandInHealth
from drctl.drill.probe import Probe
from drctl.drill.resolve import CachingResolver, StandInResolver

if TYPE_CHECKING:
    from drctl.rehearsal.env import LocalEnvironment

MAX_SECONDS = 600.0
MAX_REQUESTS = 50_000


class LocalObservers:
    """Observers of one drill against the local environment."""

    def __init__(self, env: LocalEnvironment) -> None:
        self.env = env
        targets = {d.nlb_name: env.servers[r].endpoint for r, d in env.declared.items()}
        regions = {env.servers[r].endpoint: d.region for r, d in env.declared.items()}
        self.plain = Probe(
            env.hostname,
            CachingResolver(StandInResolver(env.standin, targets)),
            env.model,
            env.inputs,
            rate_hz=env.rate_hz,
            timeout_s=1.0,
            regions=regions,
        )
        self.client = FailoverClient(
            {d.region: env.servers[r].endpoint for r, d in env.declared.items()},
            name=env.hostname,
            resolver=CachingResolver(StandInResolver(env.standin, targets)),
            timeout_s=1.0,
        )
        self.client_probe = ClientProbe(self.client, env.model, env.inputs, env.rate_hz)
        checks = {d.region: d.health_check_id for d in env.declared.values()}
        self.health = HealthWatcher(StandInHealth(env.standin), checks, interval_s=0.1)
        self.timeline_start = len(env.standin.timeline)
        self.threads: list[threading.Thread] = []

    def start(self, stop: threading.Event) -> None:
        """Start the three observer threads."""
        self.threads = [
            threading.Thread(
                target=self.plain.run, args=(MAX_SECONDS, MAX_REQUESTS, stop), name="probe"
            ),
            threading.Thread(
                target=self.client_probe.run,
                args=(MAX_SECONDS, MAX_REQUESTS, stop),
                name="client-probe",
            ),
            threading.Thread(
                target=self.health.run, args=(MAX_SECONDS, MAX_REQUESTS, stop), name="health"
            ),
        ]
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        """Wait for the observers (they stop within one request timeout)."""
        for thread in self.threads:
            thread.join(timeout=15.0)
        self.client.close()

    def observation(self) -> Observation:
        """What was observed, DNS answers translated to region names."""
        events = self.env.standin.timeline[self.timeline_start :]
        dns = [(e.at, self.env.region_of_answer(e.value)) for e in events if e.kind == "dns"]
        return Observation(self.plain.log, self.client_probe.log, list(self.health.log), dns)

    def last(self, count: int) -> list[list[tuple[bool, str]]]:
        """The last ``count`` (ok, region) of each probe, for waits during the drill."""
        return [
            [(r.ok, r.region) for r in log.requests[-count:]]
            for log in (self.plain.log, self.client_probe.log)
        ]
