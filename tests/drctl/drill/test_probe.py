"""The probe: steady, bounded traffic through the service name; a real two-region failover."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from drctl.drill.errors import RemoteTargetRefused
from drctl.drill.probe import Probe
from drctl.drill.resolve import CachingResolver, Resolution, StandInResolver
from drctl.rehearsal.clock import ManualClock
from drctl.rehearsal.measure import two_region_standin
from drctl.rehearsal.route53_standin import Route53StandIn
from drctl.rehearsal.triton import TritonProcess
from tests.drctl.drill.conftest import DR, PRIMARY, start_region, tiny_inputs

NAME = "infer.trtdr.example.com"


class Fixed:
    """A resolver that always gives the same endpoint."""

    def __init__(self, endpoint: str, ttl_s: float = 1.0) -> None:
        self.answer = Resolution((endpoint,), ttl_s, "fixed")

    def lookup(self, name: str) -> Resolution:
        return self.answer


def test_probe_is_steady_and_bounded_and_logs_failures(dead_endpoint: str) -> None:
    clock = ManualClock()
    resolver = CachingResolver(Fixed(dead_endpoint), clock)
    probe = Probe(
        NAME,
        resolver,
        "tiny",
        tiny_inputs,
        rate_hz=4.0,
        clock=clock,
        regions={dead_endpoint: PRIMARY},
    )
    log = probe.run(duration_s=10.0, max_requests=6)
    assert [r.t for r in log.requests] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25])
    assert log.failed() == 6
    assert {r.region for r in log.requests} == {PRIMARY}
    assert all("Error" in r.error for r in log.requests)
    assert [d.t for d in log.dns] == pytest.approx([0.0, 1.0])  # TTL 1 s honoured
    assert len(probe.run(duration_s=0.6, max_requests=100).requests) == 6 + 3


def test_probe_stops_on_request_and_refuses_remote_targets() -> None:
    stop = threading.Event()
    stop.set()
    clock = ManualClock()
    probe = Probe(
        NAME, CachingResolver(Fixed("127.0.0.1:1"), clock), "tiny", tiny_inputs, clock=clock
    )
    assert probe.run(60.0, 100, stop).requests == []
    remote = Probe(
        NAME, CachingResolver(Fixed("10.0.0.1:8000"), clock), "tiny", tiny_inputs, clock=clock
    )
    with pytest.raises(RemoteTargetRefused):
        remote.run(1.0, 1)


def regions_standin(primary: TritonProcess, dr: TritonProcess) -> Route53StandIn:
    """Checks at 10 s x 0.05 = 0.5 s, threshold 2, 3 checkers; TTL 20 s x 0.05 = 1 s."""
    return two_region_standin(primary, dr, NAME, 0.05)


@pytest.mark.slow
def test_region_outage_moves_traffic_to_dr(tmp_path: Path) -> None:
    primary = start_region(tmp_path, PRIMARY)
    dr = start_region(tmp_path, DR)
    stop = threading.Event()
    try:
        r53 = regions_standin(primary, dr)
        checker = threading.Thread(target=r53.run, args=(20.0, stop))
        checker.start()
        targets = {"nlb-p": primary.http_url, "nlb-d": dr.http_url}
        probe = Probe(NAME, CachingResolver(StandInResolver(r53, targets)), "tiny", tiny_inputs)
        runner = threading.Thread(target=probe.run, args=(6.0, 60))
        runner.start()
        stop.wait(1.5)
        primary.kill()
        runner.join(timeout=30.0)
    finally:
        stop.set()
        primary.stop()
        dr.stop()
    checker.join(timeout=5.0)
    log = probe.log
    regions = [r.region for r in log.requests if r.ok]
    assert regions[0] == PRIMARY
    assert regions[-1] == DR
    assert regions == sorted(regions, key=lambda r: r == DR)  # never back to the dead primary
    first_dr = next(r.t for r in log.requests if r.ok and r.region == DR)
    assert all(r.t < first_dr for r in log.requests if not r.ok)
    assert [d.endpoints[0] for d in log.dns][-1] == dr.http_url
    assert ("health", "hc-p", "unhealthy") in [(e.kind, e.subject, e.value) for e in r53.timeline]
