"""Drill metrics are arithmetic over the logs: checked on hand-made logs."""

from __future__ import annotations

from drctl.drill.engine import DrillResult, Fault, Mark, Observation, Timeline
from drctl.drill.health import HealthLog, HealthReading
from drctl.drill.metrics import all_on, compute, failed
from drctl.drill.probe import ProbeLog, RequestLog


def req(t: float, region: str, ok: bool = True) -> RequestLog:
    return RequestLog(t, f"{region}:8000", region if ok else "", 2.0, ok, "" if ok else "refused")


def outage_result(scale: float = 0.1, objective: float = 300.0) -> DrillResult:
    plain = [req(9.5, "p"), req(10.1, "p", False), req(10.5, "p", False)]
    plain += [req(11.0, "d"), req(12.0, "d"), req(16.0, "p")]
    client = [
        req(t, r) for t, r in ((9.5, "p"), (10.1, "d"), (10.5, "d"), (11.0, "d"), (12.0, "d"))
    ]
    client.append(req(16.0, "p"))
    health = [
        HealthLog(9.0, "p", HealthReading("hc-p", True, 3, 3)),
        HealthLog(10.4, "p", HealthReading("hc-p", False, 0, 3)),
    ]
    marks = [(10.0, "fault"), (12.5, "mitigated"), (13.0, "recovering"), (17.0, "recovered")]
    timeline = Timeline([Mark(t, name) for t, name in marks])
    return DrillResult(
        fault=Fault.REGION_OUTAGE,
        environment="hand-made",
        time_scale=scale,
        rto_objective_s=objective,
        timeline=timeline,
        observation=Observation(
            ProbeLog(plain), ProbeLog(client), health, [(10.45, "d"), (15.0, "p")]
        ),
        rpo={},
        parity={"same_model": True},
    )


def test_outage_metrics_follow_the_logs() -> None:
    metrics = compute(outage_result(), primary="p", dr="d")
    assert metrics["t_detect"] == 0.4
    assert metrics["t_dns_switch"] == 0.45
    assert metrics["t_all_clients_on_dr"] == 1.0  # DNS client from 11.0; failover client from 10.1
    assert metrics["rto_s"] == 1.0 and metrics["rto_real_scale_s"] == 10.0
    assert metrics["failed_requests"] == {"dns_client": 2, "failover_client": 0}
    assert metrics["t_failback_on_primary"] == 6.0
    assert metrics["verdict"] == "pass"


def test_a_slow_failover_fails_its_objective() -> None:
    metrics = compute(outage_result(scale=1.0, objective=0.5), primary="p", dr="d")
    assert metrics["verdict"] == "fail"
    assert metrics["reasons"] == ["RTO 1.0 s exceeds the objective 0.500 s"]


def test_helpers() -> None:
    log = [req(1, "d"), req(2, "p", False), req(3, "d"), req(4, "d")]
    assert all_on(log, "d", 0, 10) == 3
    assert all_on(log, "p", 0, 10) is None
    assert failed(log, 0, 2.5) == 1
