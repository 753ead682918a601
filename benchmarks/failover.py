"""Measured local failover RTO against Route 53's predicted budget, per health-check setting.

For each (interval, failure threshold, TTL) the local rehearsal environment runs region-outage
drills (primary Triton killed) with the Route 53 stand-in on a compressed clock, and prints the
measured times converted back to real scale next to the predicted budget
interval x threshold + TTL. Usage: ``python -m benchmarks.failover [--runs 2] [--scale 0.05]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from drctl.drill.engine import Fault, run_drill
from drctl.drill.metrics import compute
from drctl.rehearsal.env import LocalEnvironment
from drctl.rehearsal.flow import load_stack_settings
from infra.config import Settings
from infra.offline import PROJECT_DIR

SETTINGS = ((10, 3, 60), (30, 3, 60))


def with_check(settings: Settings, interval: int, threshold: int) -> Settings:
    """The stack settings with another health-check interval and threshold."""
    check = settings.health_check.model_copy(
        update={"interval": interval, "failure_threshold": threshold}
    )
    return settings.model_copy(update={"health_check": check})


def measure(interval: int, threshold: int, runs: int, scale: float) -> list[dict[str, float]]:
    """Real-scale seconds of detection, DNS switch and all clients on DR, per run."""
    primary = with_check(load_stack_settings("primary"), interval, threshold)
    dr = with_check(load_stack_settings("dr"), interval, threshold)
    rows = []
    with (
        tempfile.TemporaryDirectory() as work,
        LocalEnvironment(primary, dr, Path(work), PROJECT_DIR, time_scale=scale) as env,
    ):
        for _ in range(runs):
            result = run_drill(env, Fault.REGION_OUTAGE, budget_s=120)
            metrics = compute(result, env.primary, env.dr)
            rows.append(
                {
                    key: metrics[key] / scale
                    for key in ("t_detect", "t_dns_switch", "t_all_clients_on_dr")
                }
                | {"failed": metrics["failed_requests"]["dns_client"]}
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    table = Table(title=f"region-outage failover, compressed clock x{args.scale:g}, real-scale s")
    for column in (
        "interval/threshold/TTL",
        "predicted",
        "detect",
        "DNS switch",
        "RTO (median)",
        "RTO (runs)",
        "failed requests",
    ):
        table.add_column(column)
    for interval, threshold, ttl in SETTINGS:
        rows = measure(interval, threshold, args.runs, args.scale)
        rto = [r["t_all_clients_on_dr"] for r in rows]
        table.add_row(
            f"{interval}/{threshold}/{ttl}",
            f"{interval * threshold + ttl}",
            f"{statistics.median(r['t_detect'] for r in rows):.0f}",
            f"{statistics.median(r['t_dns_switch'] for r in rows):.0f}",
            f"{statistics.median(rto):.0f}",
            ", ".join(f"{v:.0f}" for v in rto),
            ", ".join(f"{r['failed']:.0f}" for r in rows),
        )
    Console().print(table)


if __name__ == "__main__":
    main()
