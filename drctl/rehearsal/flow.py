"""`drctl rehearse`: the whole disaster-recovery story on this machine, no cloud account.

build -> publish -> replicate -> serve in both regions -> region-outage drill (with fail back)
-> engine-corruption drill -> bad-version drill -> summary report. Route 53's rules run on a
compressed clock; the report shows each measured time next to its real-scale equivalent and
the RTO that the stack's real settings predict.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drctl.atomic import write_atomic
from drctl.drill.engine import DrillResult, Fault, run_drill
from drctl.drill.metrics import compute
from drctl.drill.report import clock_label, write_report
from drctl.rehearsal.env import LocalEnvironment
from infra.config import Settings, settings_from_file
from infra.offline import PROJECT_DIR

FLOW = (Fault.REGION_OUTAGE, Fault.ENGINE_CORRUPTION, Fault.BAD_VERSION)


def load_stack_settings(stack: str, project_dir: Path = PROJECT_DIR) -> Settings:
    """A stack's validated settings straight from its Pulumi.<stack>.yaml."""
    return settings_from_file(stack, project_dir)


def predicted_rto_s(settings: Settings) -> float:
    """Route 53's failover estimate for the real settings: interval x threshold + TTL."""
    hc = settings.health_check
    return float(hc.interval * hc.failure_threshold + settings.effective_ttl)


@dataclass
class Rehearsal:
    """What one rehearsal produced."""

    report_dir: Path
    time_scale: float
    predicted_rto_s: float
    setup_s: float = 0.0
    drills: list[tuple[DrillResult, dict[str, Path]]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """Every drill passed."""
        return bool(self.drills) and all(r.metrics.get("verdict") == "pass" for r, _ in self.drills)


def run(
    report_dir: Path,
    faults: Sequence[Fault] = FLOW,
    time_scale: float = 0.1,
    budget_s: float = 60.0,
    project_dir: Path = PROJECT_DIR,
    say: Callable[[str], None] = lambda _text: None,
) -> Rehearsal:
    """Set up both regions, run the drills in order, write every report and the summary."""
    primary, dr = (
        load_stack_settings("primary", project_dir),
        load_stack_settings("dr", project_dir),
    )
    rehearsal = Rehearsal(report_dir, time_scale, predicted_rto_s(primary))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="trt-dr-rehearsal-") as work:
        say("setting up: moto, builds, publish, replication, two Tritons, Route 53 stand-in")
        with LocalEnvironment(primary, dr, Path(work), project_dir, time_scale) as env:
            rehearsal.setup_s = round(time.monotonic() - started, 1)
            env.write_outputs(report_dir / "outputs")
            for fault in faults:
                say(f"drill: {fault.value}")
                result = run_drill(env, fault, budget_s)
                result.metrics = compute(result, env.primary, env.dr)
                rehearsal.drills.append((result, write_report(result, report_dir)))
                if result.interrupted:
                    rehearsal.interrupted = True
                    break
    write_summary(rehearsal)
    return rehearsal


def summary_rows(rehearsal: Rehearsal) -> list[dict[str, Any]]:
    """One row per drill for the summary table."""
    rows = []
    for result, paths in rehearsal.drills:
        m = result.metrics
        rows.append(
            {
                "drill": result.fault.value,
                "verdict": m.get("verdict"),
                "rto_s": m.get("rto_s"),
                "rto_real_scale_s": m.get("rto_real_scale_s"),
                "failed_dns_client": m.get("failed_requests", {}).get("dns_client"),
                "failed_failover_client": m.get("failed_requests", {}).get("failover_client"),
                "report": str(paths["md"]),
            }
        )
    return rows


def write_summary(rehearsal: Rehearsal) -> Path:
    """``summary.md`` and ``summary.json`` in the report directory."""
    rows = summary_rows(rehearsal)
    lines = [
        "# trt-dr rehearsal",
        "",
        f"Clock: {clock_label(rehearsal.time_scale)}.",
        f"Setup (moto, 4 builds, publish, replication, 2 Tritons): {rehearsal.setup_s} s.",
        f"Predicted failover RTO with the stack's real settings (interval x threshold + TTL): "
        f"{rehearsal.predicted_rto_s:.0f} s.",
        "",
        "| drill | verdict | RTO (s, compressed) | RTO (s, real scale) | failed: DNS client "
        "| failed: failover client | report |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['drill']} | {row['verdict']} | {row['rto_s']} | {row['rto_real_scale_s']} | "
            f"{row['failed_dns_client']} | {row['failed_failover_client']} | "
            f"{Path(row['report']).name} |"
        )
    if rehearsal.interrupted:
        lines += ["", "Interrupted (Ctrl-C): the primary was restored; later drills did not run."]
    path = rehearsal.report_dir / "summary.md"
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    data = {
        "ok": rehearsal.ok,
        "time_scale": rehearsal.time_scale,
        "predicted_rto_s": rehearsal.predicted_rto_s,
        "setup_s": rehearsal.setup_s,
        "drills": rows,
    }
    write_atomic(rehearsal.report_dir / "summary.json", json.dumps(data, indent=2).encode())
    return path
