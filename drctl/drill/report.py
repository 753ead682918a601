"""Drill reports: JSON (every log, so numbers can be recomputed), Markdown and a timeline PNG."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from drctl.atomic import write_atomic
from drctl.drill.engine import DrillResult

MARK_COLOURS = {"t_detect": "orange", "t_dns_switch": "purple", "t_all_clients_on_dr": "green"}


def to_dict(result: DrillResult) -> dict[str, Any]:
    """The whole drill as JSON-ready data."""
    observation = result.observation
    return {
        "fault": result.fault.value,
        "environment": result.environment,
        "time_scale": result.time_scale,
        "clock": clock_label(result.time_scale),
        "aborted": result.aborted,
        "metrics": result.metrics,
        "rpo": result.rpo,
        "parity": result.parity,
        "marks": [asdict(m) for m in result.timeline.marks],
        "requests": {
            "dns_client": [asdict(r) for r in observation.plain.requests],
            "failover_client": [asdict(r) for r in observation.client.requests],
        },
        "dns_lookups": [asdict(d) for d in observation.plain.dns],
        "dns_answers": [{"t": t, "value": v} for t, v in observation.dns],
        "health": [{"t": h.t, "region": h.region, **asdict(h.reading)} for h in observation.health],
    }


def clock_label(time_scale: float) -> str:
    """How to read the report's times."""
    if time_scale == 1.0:
        return "real time"
    return (
        f"compressed clock x{time_scale:g}: Route 53 intervals, timeouts and TTLs run "
        f"{1 / time_scale:g}x faster; divide times by {time_scale:g} for the real-scale value"
    )


def _short_clock(time_scale: float) -> str:
    return "real time" if time_scale == 1 else f"compressed clock x{time_scale:g}"


def markdown(result: DrillResult, png_name: str | None = None) -> str:
    """A human summary of one drill."""
    m = result.metrics
    lines = [
        f"## Drill: {result.fault.value} ({result.environment})",
        "",
        f"Verdict: **{m.get('verdict', 'n/a')}**"
        + (f" ({'; '.join(m['reasons'])})" if m.get("reasons") else ""),
        "",
        f"Clock: {clock_label(result.time_scale)}.",
        "",
        "| measure | value (s after fault) | real scale (s) |",
        "|---|---|---|",
    ]
    for key in (
        "t_detect",
        "t_dns_switch",
        "t_all_clients_on_dr",
        "t_mitigated",
        "t_failback_on_primary",
        "rto_s",
        "rto_objective_s",
    ):
        if key in m:
            value = m[key]
            real = "-" if value is None else f"{value / result.time_scale:.1f}"
            lines.append(f"| {key} | {'-' if value is None else value} | {real} |")
    lines += ["", "| client | requests | failed | p50 latency (ms) |", "|---|---|---|---|"]
    for client in ("dns_client", "failover_client"):
        lines.append(
            f"| {client} | {m.get('requests', {}).get(client, '-')} | "
            f"{m.get('failed_requests', {}).get(client, '-')} | "
            f"{m.get('p50_ms', {}).get(client, '-')} |"
        )
    lines += ["", f"RPO at fault time: `{json.dumps(result.rpo, sort_keys=True)}`", ""]
    lines += [f"Model parity: `{json.dumps(result.parity, sort_keys=True)}`", ""]
    if png_name:
        lines += [f"![timeline]({png_name})", ""]
    return "\n".join(lines)


def timeline_png(result: DrillResult, path: Path) -> None:
    """Requests over time (latency, region, failures) with the drill's key moments."""
    t0 = result.timeline.at("fault") or 0.0
    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True, height_ratios=[3, 1])
    for label, log, marker in (
        ("DNS client", result.observation.plain, "o"),
        ("failover client", result.observation.client, "^"),
    ):
        by_region: dict[str, list[tuple[float, float]]] = {}
        for r in log.requests:
            key = r.region if r.ok else "failed"
            by_region.setdefault(key, []).append((r.t - t0, r.latency_ms))
        for region, points in sorted(by_region.items()):
            xs, ys = zip(*points, strict=True)
            axes[0].scatter(
                xs,
                ys,
                s=8,
                marker="x" if region == "failed" else marker,
                label=f"{label}: {region}",
            )
    for key, colour in MARK_COLOURS.items():
        value = result.metrics.get(key)
        if value is not None:
            axes[0].axvline(value, color=colour, linestyle="--", label=key)
    axes[0].axvline(0.0, color="red", label="t_fault")
    axes[0].set_ylabel("latency (ms)")
    axes[0].legend(fontsize=7, loc="upper right")
    for region in sorted({h.region for h in result.observation.health}):
        points = [
            (h.t - t0, 1 if h.reading.healthy else 0)
            for h in result.observation.health
            if h.region == region
        ]
        xs, ys = zip(*points, strict=True)
        axes[1].step(xs, ys, where="post", label=f"health {region}")
    axes[1].set_yticks([0, 1], ["unhealthy", "healthy"])
    axes[1].set_xlabel(f"seconds after fault ({_short_clock(result.time_scale)})")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"{result.fault.value} drill - {result.environment}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(result: DrillResult, directory: Path, stem: str | None = None) -> dict[str, Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>.png``; return their paths."""
    stem = stem or result.fault.value
    paths = {kind: directory / f"{stem}.{kind}" for kind in ("json", "md", "png")}
    timeline_png(result, paths["png"])
    write_atomic(paths["json"], json.dumps(to_dict(result), indent=2, default=str).encode())
    write_atomic(paths["md"], markdown(result, paths["png"].name).encode())
    return paths
