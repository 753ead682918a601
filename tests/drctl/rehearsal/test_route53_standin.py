"""Route 53 stand-in: rules on a manual clock with a scripted prober, one real HTTP endpoint."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from drctl.rehearsal.clock import ManualClock
from drctl.rehearsal.errors import HealthCheckConfigError
from drctl.rehearsal.route53_config import FailoverRecord, HealthCheckSpec
from drctl.rehearsal.route53_standin import Checker, Route53StandIn, http_probe

NAME = "infer.trtdr.example.com"
P_URL, D_URL = "http://127.0.0.1:1/v2/health/ready", "http://127.0.0.1:2/v2/health/ready"


class Script:
    """A prober whose answer per URL the test sets; counts the probes it saw."""

    def __init__(self) -> None:
        self.up = {P_URL: True, D_URL: True}
        self.calls: list[tuple[str, float, float]] = []

    def __call__(self, url: str, connect: float, response: float) -> bool:
        self.calls.append((url, connect, response))
        return self.up[url]


def checks(**primary: object) -> list[HealthCheckSpec]:
    base = {"request_interval_s": 10.0, "failure_threshold": 3, "checkers": 3}
    return [
        HealthCheckSpec(id="hc-p", url=P_URL, **{**base, **primary}),  # type: ignore[arg-type]
        HealthCheckSpec(id="hc-d", url=D_URL, **base),  # type: ignore[arg-type]
    ]


def records(ttl: int = 60) -> list[FailoverRecord]:
    return [
        FailoverRecord(NAME, "PRIMARY", ("nlb-p",), ttl, "hc-p", "primary"),
        FailoverRecord(NAME, "SECONDARY", ("nlb-d",), ttl, "hc-d", "dr"),
    ]


def standin(script: Script, scale: float = 1.0, **primary: object) -> Route53StandIn:
    return Route53StandIn(
        checks(**primary), records(), clock=ManualClock(), prober=script, time_scale=scale
    )


def test_checker_flips_only_after_threshold_consecutive_results() -> None:
    checker = Checker(next_due=0.0)
    for ok in (False, False, True, False, False):
        checker.observe(ok, 3)
    assert checker.healthy
    checker.observe(False, 3)
    assert not checker.healthy
    checker.observe(True, 3)
    checker.observe(True, 3)
    assert not checker.healthy
    checker.observe(True, 3)
    assert checker.healthy


def test_primary_answers_while_healthy() -> None:
    r53 = standin(Script())
    r53.run(60.0)
    answer = r53.resolve(NAME + ".")
    assert (answer.values, answer.role, answer.ttl_s) == (("nlb-p",), "PRIMARY", 60.0)


def test_outage_fails_over_after_interval_times_threshold() -> None:
    script = Script()
    r53 = standin(script)
    r53.run(20.0)
    script.up[P_URL] = False
    fault_at = r53.clock.now()
    r53.run(60.0)
    switch = [e for e in r53.timeline if e.kind == "dns" and e.value == "nlb-d"]
    assert r53.resolve(NAME).role == "SECONDARY"
    # 3 checkers staggered over 10 s, threshold 3: the 3rd checker flips 20-30 s after the fault
    # (only 1/3 = 33 % > 18 % healthy keeps it up until the last checker flips).
    assert 20.0 <= switch[0].at - fault_at <= 30.0


def test_more_than_18_percent_healthy_checkers_keep_it_healthy() -> None:
    r53 = standin(Script())
    state = r53._checks["hc-p"]
    state.checkers = [Checker(0.0, healthy=i < 2) for i in range(11)]  # 2/11 = 18.2 %
    assert r53.status("hc-p")
    state.checkers[1].healthy = False  # 1/11 = 9 %
    assert not r53.status("hc-p")


def test_exactly_18_percent_is_unhealthy() -> None:
    r53 = standin(Script())
    r53._checks["hc-p"].checkers = [Checker(0.0, healthy=i < 9) for i in range(50)]  # 18 %
    assert not r53.status("hc-p")


def test_a_check_inverted_from_the_start_is_on_the_timeline() -> None:
    specs = checks(inverted=True)
    r53 = Route53StandIn(specs, records(), clock=ManualClock(), prober=Script())
    assert [(e.kind, e.subject, e.value) for e in r53.timeline] == [
        ("health", "hc-p", "unhealthy"),
        ("dns", NAME, "nlb-d"),
    ]


def test_inverted_forces_failover_and_disabled_counts_healthy() -> None:
    script = Script()
    r53 = standin(script)
    r53.set_flags("hc-p", inverted=True, disabled=False)
    assert r53.resolve(NAME).role == "SECONDARY"
    r53.set_flags("hc-p", inverted=True, disabled=True)
    assert r53.resolve(NAME).role == "PRIMARY"
    script.up[P_URL] = False
    r53.run(100.0)
    assert r53.status("hc-p")
    assert r53.resolve(NAME).role == "PRIMARY"


def test_both_unhealthy_answers_primary() -> None:
    script = Script()
    r53 = standin(script)
    script.up = {P_URL: False, D_URL: False}
    r53.run(100.0)
    assert not r53.status("hc-p")
    assert not r53.status("hc-d")
    assert r53.resolve(NAME).role == "PRIMARY"


def test_failback_after_threshold_good_results_and_timeline() -> None:
    script = Script()
    r53 = standin(script)
    script.up[P_URL] = False
    r53.run(60.0)
    script.up[P_URL] = True
    r53.run(60.0)
    kinds = [(e.kind, e.value) for e in r53.timeline]
    assert kinds == [
        ("dns", "nlb-p"),
        ("health", "unhealthy"),
        ("dns", "nlb-d"),
        ("health", "healthy"),
        ("dns", "nlb-p"),
    ]


def test_compressed_clock_scales_interval_timeouts_and_ttl() -> None:
    script = Script()
    r53 = standin(script, scale=0.1)
    r53.run(10.0)
    per_checker = [c for c in script.calls if c[0] == P_URL]
    assert len(per_checker) == 30  # 3 checkers, one probe per 1 s instead of per 10 s
    assert per_checker[0][1:] == pytest.approx((0.4, 0.2))
    assert r53.resolve(NAME).ttl_s == pytest.approx(6.0)
    assert r53.real_equivalent(2.5) == pytest.approx(25.0)


def test_records_without_any_check_still_run() -> None:
    plain = [
        FailoverRecord(NAME, "PRIMARY", ("nlb-p",), 60),
        FailoverRecord(NAME, "SECONDARY", ("nlb-d",), 60),
    ]
    r53 = Route53StandIn([], plain, clock=ManualClock(), prober=Script())
    r53.run(5.0)
    assert r53.clock.now() == pytest.approx(5.0)
    assert r53.resolve(NAME).role == "PRIMARY"


def test_record_without_check_is_healthy_and_bad_config_is_refused() -> None:
    plain = [FailoverRecord(NAME, "PRIMARY", ("nlb-p",), 60), records()[1]]
    script = Script()
    script.up[D_URL] = False
    r53 = Route53StandIn(checks(), plain, clock=ManualClock(), prober=script)
    r53.run(100.0)
    assert r53.resolve(NAME).role == "PRIMARY"
    with pytest.raises(HealthCheckConfigError):
        Route53StandIn([], records(), clock=ManualClock(), prober=script)
    with pytest.raises(HealthCheckConfigError):
        Route53StandIn(checks(), records() + records()[:1], clock=ManualClock(), prober=script)
    with pytest.raises(HealthCheckConfigError):
        HealthCheckSpec(id="x", url=P_URL, failure_threshold=11)
    with pytest.raises(HealthCheckConfigError):
        r53.resolve("other.example.com")


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def endpoint() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2/health/ready", handler
    server.shutdown()
    server.server_close()


def test_http_probe_against_real_local_endpoint(endpoint: tuple[str, type[_Handler]]) -> None:
    url, handler = endpoint
    assert http_probe(url, 0.4, 0.2)
    handler.status = 302
    assert http_probe(url, 0.4, 0.2)
    handler.status = 400
    assert not http_probe(url, 0.4, 0.2)
    dead = url.replace(url.split(":")[2].split("/")[0], "1")
    assert not http_probe(dead, 0.4, 0.2)
    with pytest.raises(HealthCheckConfigError):
        http_probe("http://example.com/", 0.4, 0.2)


def test_real_clock_fails_over_from_a_real_endpoint(endpoint: tuple[str, type[_Handler]]) -> None:
    url, handler = endpoint
    spec = {"request_interval_s": 10.0, "failure_threshold": 2, "checkers": 3}
    r53 = Route53StandIn(
        [HealthCheckSpec("hc-p", url, **spec), HealthCheckSpec("hc-d", url, **spec)],  # type: ignore[arg-type]
        [records()[0], FailoverRecord(NAME, "SECONDARY", ("nlb-d",), 60, None, "dr")],
        time_scale=0.02,
    )
    r53.run(0.5)
    assert r53.resolve(NAME).role == "PRIMARY"
    handler.status = 503
    r53.run(1.5)
    assert r53.resolve(NAME).role == "SECONDARY"
    assert r53.resolve(NAME).ttl_s == pytest.approx(1.2)
