"""Rich tables and JSON for store results; kept apart so commands stay thin."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from drctl.store.rollback import RollbackResult, VersionInfo
from drctl.store.status import StatusReport
from drctl.store.verify import VerifyReport

console = Console()
errors = Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    """Dataclasses (with their ``ok``/``findings``/lag properties) as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in ("ok", "findings", "max_lag_seconds"):
            if hasattr(type(value), extra):
                data[extra] = to_jsonable(getattr(value, extra))
        return data
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    """Machine-readable output on stdout."""
    print(json.dumps(to_jsonable(value), indent=1, sort_keys=True))


@contextmanager
def transfer_bar(label: str, total: int | None, enabled: bool) -> Iterator[Any]:
    """A Rich byte progress bar; yields the callback to feed with byte counts."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def verify_table(report: VerifyReport, label: str = "") -> Table:
    """Findings of a verify run, one row each."""
    table = Table(
        title=f"{label} {report.model} version {report.version}: ".lstrip()
        + ("OK" if report.ok else f"{len(report.findings)} problem(s)")
    )
    for col in ("region", "kind", "key", "detail"):
        table.add_column(col)
    for finding in report.findings:
        table.add_row(finding.region, finding.kind, finding.key, finding.detail)
    for region in report.regions:
        table.add_row(
            region.region,
            "checked",
            f"{region.files_checked} files",
            f"released {region.released_version}, {region.bytes_hashed} bytes hashed"
            + (f", canary {region.canary} on trial" if region.canary is not None else ""),
        )
    return table


def versions_table(model: str, versions: Sequence[VersionInfo]) -> Table:
    """One row per version."""
    table = Table(title=f"versions of {model}")
    for col in (
        "version",
        "released",
        "complete",
        "precision",
        "backend",
        "build key",
        "published by",
    ):
        table.add_column(col)
    for v in versions:
        table.add_row(
            str(v.version),
            "yes" if v.released else "",
            "yes" if v.complete else "NO",
            v.precision or "",
            v.backend or "",
            v.build_key[:12],
            v.publisher or "",
        )
    return table


def rollback_table(result: RollbackResult) -> Table:
    """Each region's pointer before and after."""
    table = Table(title=f"{result.model} rolled back to version {result.version}")
    table.add_column("region")
    table.add_column("before")
    table.add_column("after")
    for region, before in result.before.items():
        table.add_row(region, str(before), str(result.version))
    return table


def status_table(report: StatusReport) -> Table:
    """The both-regions status table."""
    table = Table(
        title="trt-dr status: " + ("OK" if report.ok else "ATTENTION"),
        caption="\n".join(report.errors) or None,
    )
    for col in (
        "region",
        "endpoint",
        "health",
        "model",
        "released",
        "canary",
        "ready",
        "parity",
        "replication lag",
        "problems",
    ):
        table.add_column(col)
    for row in report.rows:
        ready = {True: "yes", False: "NO", None: "?"}[row.ready]
        table.add_row(
            row.region,
            row.endpoint or "-",
            report.health.get(row.region, ""),
            row.model,
            str(row.released),
            "-" if row.canary is None else str(row.canary),
            ready,
            "yes" if row.parity else "NO",
            f"{row.lag_seconds:.0f}s",
            str(row.problems),
        )
    if not report.rows:
        for region, health in report.health.items():
            table.add_row(region, "", health, "(no released model)", "", "", "", "", "", "")
    return table
