"""``drctl monitoring watch``: both regions side by side in the terminal, refreshed live.

Each refresh takes one snapshot per region and shows, per model version, what changed since
the previous one: request rate, error share, mean latency and mean queue time. A region
whose scrape fails shows as unreachable instead of stopping the watch.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from drctl.monitoring.errors import MetricsUnavailable
from drctl.monitoring.source import MetricsSource, Snapshot


@dataclass(frozen=True)
class Row:
    """One region's model version over one refresh interval."""

    region: str
    model: str
    version: str
    rate: float
    error_share: float
    latency_ms: float | None
    queue_ms: float | None


def rows(before: Snapshot, after: Snapshot, region: str, seconds: float) -> list[Row]:
    """Rates between two snapshots of one region (versions absent before start at zero)."""
    out = []
    for (model, version), now in sorted(after.items()):
        then = before.get((model, version))
        ok = now.success - (then.success if then else 0.0)
        bad = now.failure - (then.failure if then else 0.0)
        spent = now.duration_us - (then.duration_us if then else 0.0)
        queued = now.queue_us - (then.queue_us if then else 0.0)
        if min(ok, bad, spent, queued) < 0:  # counters reset: show from zero next time
            continue
        total = ok + bad
        out.append(
            Row(
                region,
                model,
                version,
                total / seconds if seconds > 0 else 0.0,
                bad / total if total else 0.0,
                spent / ok / 1000 if ok else None,
                queued / ok / 1000 if ok else None,
            )
        )
    return out


def snapshots(sources: dict[str, MetricsSource]) -> dict[str, Snapshot | None]:
    """One snapshot per region; None where the scrape failed."""
    taken: dict[str, Snapshot | None] = {}
    for region, source in sources.items():
        try:
            taken[region] = source.snapshot()
        except MetricsUnavailable:
            taken[region] = None
    return taken


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(
    before: dict[str, Snapshot | None], after: dict[str, Snapshot | None], seconds: float
) -> Table:
    """The Rich table of one refresh, regions in the order given."""
    view = Table(title=f"trt-dr: both regions (last {seconds:.0f} s)")
    for column in ("region", "model", "version", "req/s", "errors", "latency ms", "queue ms"):
        view.add_column(column, justify="left" if column in ("region", "model") else "right")
    for region, now in after.items():
        if now is None:
            view.add_row(region, "[red]unreachable[/red]", "", "", "", "", "")
            continue
        for row in rows(before.get(region) or {}, now, region, seconds):
            view.add_row(
                row.region,
                row.model,
                row.version,
                f"{row.rate:.1f}",
                f"{row.error_share:.2%}",
                _ms(row.latency_ms),
                _ms(row.queue_ms),
            )
    return view
