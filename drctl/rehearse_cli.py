"""`drctl rehearse`: the local two-region rehearsal, from build to summary report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from drctl.drill.engine import Fault, SteadyStateFailed
from drctl.rehearsal.errors import RehearsalError
from infra.config import ConfigError

if TYPE_CHECKING:
    from drctl.rehearsal.flow import Rehearsal

console = Console()
errors = Console(stderr=True)


def summary_table(rehearsal: Rehearsal) -> Table:
    """One row per drill."""
    from drctl.rehearsal import flow

    table = Table(title=f"rehearsal (compressed clock x{rehearsal.time_scale:g})")
    for column in (
        "drill",
        "verdict",
        "RTO s",
        "RTO real-scale s",
        "failed: DNS / failover client",
    ):
        table.add_column(column)
    for row in flow.summary_rows(rehearsal):
        colour = "green" if row["verdict"] == "pass" else "red"
        table.add_row(
            row["drill"],
            f"[{colour}]{row['verdict']}[/]",
            str(row["rto_s"]),
            str(row["rto_real_scale_s"]),
            f"{row['failed_dns_client']} / {row['failed_failover_client']}",
        )
    return table


def rehearse_command(
    report_dir: Annotated[Path, typer.Option(help="Where reports are written.")] = Path(
        "reports/rehearsal"
    ),
    fault: Annotated[
        list[Fault] | None, typer.Option(help="Drills to run, in order (default: the full flow).")
    ] = None,
    time_scale: Annotated[
        float, typer.Option(min=0.02, max=1.0, help="Route 53 clock factor (0.1: 10x faster).")
    ] = 0.1,
    budget: Annotated[float, typer.Option(min=10, help="Time budget per drill, seconds.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Rehearse failover locally: moto, Route 53 stand-in, two real Tritons, three drills."""
    from drctl.rehearsal import flow  # moto, engine_build, matplotlib: only when it runs
    from drctl.rehearsal.triton import install_signal_handlers

    install_signal_handlers()
    faults = tuple(fault) if fault else flow.FLOW
    say = (lambda _t: None) if as_json else (lambda text: console.print(f"[dim]{text}[/]"))
    try:
        rehearsal = flow.run(report_dir, faults, time_scale, budget, say=say)
    except (ConfigError, RehearsalError, SteadyStateFailed) as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    if as_json:
        print((report_dir / "summary.json").read_text())
    else:
        console.print(summary_table(rehearsal))
        console.print(f"report: {report_dir / 'summary.md'}")
    if rehearsal.interrupted:
        raise typer.Exit(130)
    raise typer.Exit(0 if rehearsal.ok else 1)


__all__ = ["rehearse_command"]
