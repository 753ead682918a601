"""Drill metrics, computed only from what the observers logged and the drill's marks.

Every number in a report can be recomputed from the JSON it sits in: request logs, health
readings, DNS answers and marks. Times are seconds after the fault on the drill's clock;
on a compressed clock the real-scale equivalent is the value divided by ``time_scale``.
"""

from __future__ import annotations

import statistics
from typing import Any

from drctl.drill.engine import DrillResult, Fault
from drctl.drill.probe import RequestLog


def first_health_change(
    result: DrillResult, region: str, healthy: bool, after: float
) -> float | None:
    """First health reading of ``region`` after ``after`` with the given verdict."""
    return next(
        (
            h.t
            for h in result.observation.health
            if h.t >= after and h.region == region and h.reading.healthy == healthy
        ),
        None,
    )


def first_dns(result: DrillResult, value: str, after: float) -> float | None:
    """First authoritative DNS answer equal to ``value`` after ``after``."""
    return next((t for t, v in result.observation.dns if t >= after and v == value), None)


def all_on(requests: list[RequestLog], region: str, start: float, end: float) -> float | None:
    """Start of the final run of requests in [start, end) that all succeeded in ``region``."""
    window = [r for r in requests if start <= r.t < end]
    if not window or not (window[-1].ok and window[-1].region == region):
        return None
    begin = window[-1].t
    for request in reversed(window):
        if not (request.ok and request.region == region):
            break
        begin = request.t
    return begin


def failed(requests: list[RequestLog], start: float, end: float) -> int:
    """Failed requests sent in [start, end)."""
    return sum(1 for r in requests if start <= r.t < end and not r.ok)


def p50(requests: list[RequestLog], start: float, end: float) -> float | None:
    """Median latency (ms) of successful requests in [start, end)."""
    values = [r.latency_ms for r in requests if start <= r.t < end and r.ok]
    return round(statistics.median(values), 3) if values else None


def _rel(t: float | None, t0: float) -> float | None:
    return None if t is None else round(t - t0, 3)


def compute(result: DrillResult, primary: str, dr: str) -> dict[str, Any]:
    """The report's numbers for one drill."""
    marks = result.timeline
    t0 = marks.at("fault")
    if t0 is None:
        return {"verdict": "aborted before the fault", "aborted": result.aborted}
    end = marks.at("recovering") or marks.at("primary-restored") or float("inf")
    plain, client = result.observation.plain.requests, result.observation.client.requests
    out: dict[str, Any] = {
        "t_fault": 0.0,
        "t_detect": _rel(
            first_health_change(result, primary, False, t0) or marks.at("detected"), t0
        ),
        "t_mitigated": _rel(marks.at("mitigated"), t0),
        "failed_requests": {
            "dns_client": failed(plain, t0, end),
            "failover_client": failed(client, t0, end),
        },
        "requests": {"dns_client": len(plain), "failover_client": len(client)},
        "p50_ms": {"dns_client": p50(plain, t0, end), "failover_client": p50(client, t0, end)},
    }
    if result.fault is Fault.REGION_OUTAGE:
        on_dr = [all_on(plain, dr, t0, end), all_on(client, dr, t0, end)]
        out["t_dns_switch"] = _rel(first_dns(result, dr, t0), t0)
        out["t_all_clients_on_dr"] = _rel(None if None in on_dr else max(on_dr), t0)  # type: ignore[type-var]
        out["rto_s"] = out["t_all_clients_on_dr"]
        back = marks.at("recovering")
        out["t_failback_on_primary"] = (
            _rel(all_on(plain, primary, back, float("inf")), t0) if back is not None else None
        )
    else:
        out["rto_s"] = out["t_mitigated"]
    return _verdict(result, out)


def _verdict(result: DrillResult, out: dict[str, Any]) -> dict[str, Any]:
    objective = result.rto_objective_s * result.time_scale
    out["rto_objective_s"] = round(objective, 3)
    out["rto_real_scale_s"] = (
        None if out["rto_s"] is None else round(out["rto_s"] / result.time_scale, 1)
    )
    reasons = []
    if result.aborted:
        reasons.append(f"aborted: {result.aborted}")
    if out["rto_s"] is None:
        reasons.append("service was not restored during the drill")
    elif out["rto_s"] > objective:
        reasons.append(f"RTO {out['rto_s']} s exceeds the objective {objective:.3f} s")
    if result.parity.get("same_model") is False:
        reasons.append("regions serve different models")
    out["verdict"] = "pass" if not reasons else "fail"
    out["reasons"] = reasons
    return out
