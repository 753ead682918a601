"""Name resolution as clients do it: TTL-honouring cache over the stand-in or the OS."""

from __future__ import annotations

import socket

import pytest

from drctl.drill.errors import RemoteTargetRefused, ResolveError
from drctl.drill.resolve import CachingResolver, Resolution, StandInResolver, SystemResolver
from drctl.drill.triton_call import ensure_loopback
from drctl.rehearsal.clock import ManualClock
from drctl.rehearsal.route53_config import FailoverRecord, HealthCheckSpec
from drctl.rehearsal.route53_standin import Route53StandIn

NAME = "infer.trtdr.example.com"


class Counting:
    """A resolver whose answer the test changes; counts lookups."""

    def __init__(self) -> None:
        self.answer = Resolution(("127.0.0.1:1",), 5.0, "PRIMARY")
        self.lookups = 0

    def lookup(self, name: str) -> Resolution:
        self.lookups += 1
        return self.answer


def test_answer_is_kept_for_its_ttl_then_refreshed() -> None:
    clock, source = ManualClock(), Counting()
    resolver = CachingResolver(source, clock)
    assert resolver.resolve(NAME).endpoints == ("127.0.0.1:1",)
    source.answer = Resolution(("127.0.0.1:2",), 5.0, "SECONDARY")
    clock.advance(4.9)
    assert resolver.resolve(NAME).endpoints == ("127.0.0.1:1",)
    clock.advance(0.1)
    assert resolver.resolve(NAME).endpoints == ("127.0.0.1:2",)
    assert source.lookups == 2
    assert [(d.t, d.endpoints, d.source) for d in resolver.log] == [
        (0.0, ("127.0.0.1:1",), "PRIMARY"),
        (5.0, ("127.0.0.1:2",), "SECONDARY"),
    ]
    resolver.flush()
    resolver.resolve(NAME)
    assert source.lookups == 3


def test_empty_answer_is_a_resolve_error() -> None:
    source = Counting()
    source.answer = Resolution((), 5.0)
    with pytest.raises(ResolveError):
        CachingResolver(source, ManualClock()).resolve(NAME)


def test_stand_in_answers_map_to_local_endpoints() -> None:
    checks = [HealthCheckSpec("hc-p", "http://127.0.0.1:1/")]
    records = [
        FailoverRecord(NAME, "PRIMARY", ("nlb-p",), 60, "hc-p", "primary"),
        FailoverRecord(NAME, "SECONDARY", ("nlb-d",), 60, None, "dr"),
    ]
    r53 = Route53StandIn(
        checks, records, clock=ManualClock(), prober=lambda *_: True, time_scale=0.1
    )
    resolver = StandInResolver(r53, {"nlb-p": "127.0.0.1:8001", "nlb-d": "127.0.0.1:8002"})
    assert resolver.lookup(NAME) == Resolution(("127.0.0.1:8001",), 6.0, "PRIMARY primary")
    r53.set_flags("hc-p", inverted=True, disabled=False)
    assert resolver.lookup(NAME).endpoints == ("127.0.0.1:8002",)
    with pytest.raises(ResolveError, match="no local endpoint"):
        StandInResolver(r53, {"nlb-p": "127.0.0.1:8001"}).lookup(NAME)


def test_system_resolver_uses_the_operating_system(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = SystemResolver(8000, ttl_s=30.0).lookup("localhost")
    assert "127.0.0.1:8000" in answer.endpoints or "[::1]:8000" in answer.endpoints
    assert answer.ttl_s == 30.0

    def no_such_host(*_: object, **__: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no query leaves the machine
    with pytest.raises(ResolveError, match="does not resolve"):
        SystemResolver(8000).lookup("infer.trtdr.example.com")


def test_loopback_guard() -> None:
    assert ensure_loopback("127.0.0.1:8000") == "127.0.0.1:8000"
    assert ensure_loopback("[::1]:8000") == "[::1]:8000"
    assert ensure_loopback("localhost:1") == "localhost:1"
    for remote in ("10.1.2.3:8000", "nlb.elb.amazonaws.com:8000"):
        with pytest.raises(RemoteTargetRefused):
            ensure_loopback(remote)
    assert ensure_loopback("10.1.2.3:8000", allow_remote=True) == "10.1.2.3:8000"
