"""`drctl drill run`: a failover drill on the real deployment (AWS), with the rehearsal's engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from drctl.drill.engine import Fault

if TYPE_CHECKING:
    from drctl.store.buildtree import S3Build

drill_app = typer.Typer(help="Failover drills against the real deployment.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def _s3(location: str | None) -> S3Build | None:
    from drctl.store.buildtree import S3Build, parse_location

    if location is None:
        return None
    parsed = parse_location(location)
    if not isinstance(parsed, S3Build):
        raise typer.BadParameter(f"{location}: give the s3:// location of an engine_build output")
    return parsed


@drill_app.command("run")
def run_command(
    fault: Annotated[Fault, typer.Option(help="The fault to inject.")],
    model: Annotated[str, typer.Option(help="Model the probes call.")],
    outputs: Annotated[
        list[Path] | None,
        typer.Option(help="`pulumi stack output --json` files (or $TRT_DR_OUTPUTS)."),
    ] = None,
    rto_objective: Annotated[float, typer.Option(help="RTO objective, seconds.")] = 300.0,
    ttl: Annotated[float, typer.Option(help="TTL of the service record, seconds.")] = 60.0,
    rate: Annotated[
        float, typer.Option(min=0.1, max=20, help="Requests per second per probe.")
    ] = 2.0,
    budget: Annotated[
        float, typer.Option(help="Time budget, seconds; then abort and restore.")
    ] = 1800.0,
    bad_build: Annotated[str | None, typer.Option(help="s3:// build for bad-version.")] = None,
    extra_build: Annotated[
        str | None, typer.Option(help="s3:// build for replication-pause.")
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="Where the report is written.")] = Path(
        "reports/drills"
    ),
) -> None:
    """Inject FAULT, observe clients and health checks, recover, fail back, report."""
    from drctl.drill.aws_env import AwsEnvironment, UnsupportedOnAws  # heavy: only when run
    from drctl.drill.engine import SteadyStateFailed, run_drill
    from drctl.drill.metrics import compute
    from drctl.drill.report import write_report
    from drctl.store.errors import StoreError
    from drctl.store.outputs import load_outputs

    try:
        env = AwsEnvironment(
            load_outputs(outputs or []),
            model,
            rto_objective,
            ttl_s=ttl,
            rate_hz=rate,
            bad_build=_s3(bad_build),
            extra_build=_s3(extra_build),
        )
        result = run_drill(env, fault, budget)
    except (StoreError, SteadyStateFailed, UnsupportedOnAws) as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    result.metrics = compute(result, env.primary, env.dr)
    paths = write_report(result, report_dir)
    console.print(f"verdict: {result.metrics['verdict']}; report: {paths['md']}")
    if result.interrupted:
        raise typer.Exit(130)
    raise typer.Exit(0 if result.metrics["verdict"] == "pass" else 1)
