"""``python -m engine_build``: build, verify and inspect engine builds.

Commands are thin: they parse options and call one typed function (``build.build``,
``verify.verify``, ``verify.inspect``). Exit codes: 0 ok, 1 a gate or a checksum failed,
2 bad input (the message says what to fix).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine_build.build import build as run_build
from engine_build.errors import EngineBuildError, GateFailedError, VerificationError
from engine_build.gates import BOUNDS
from engine_build.key import backend_version_for_release
from engine_build.manifest import LadderStep, Manifest
from engine_build.specfile import load_spec, load_target
from engine_build.verify import inspect as read_build
from engine_build.verify import verify as verify_build

app = typer.Typer(
    name="engine_build",
    help="Build TensorRT / ONNX Runtime engines from ONNX, gated for accuracy.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)


def ladder_table(steps: list[LadderStep]) -> Table:
    """Each precision tried, each gate: threshold and measured value."""
    table = Table(title="precision ladder")
    for column in ("precision", "result", "metric", "measured", "threshold"):
        table.add_column(column)
    for step in steps:
        result = "pass" if step.passed else "FAIL"
        if not step.metrics:
            table.add_row(step.precision, result, "build", "-", step.error or "")
        for name, limit in step.thresholds.items():
            metric, upper = BOUNDS[name]
            value = step.metrics.get(metric)
            shown = "-" if value is None else f"{value:.6g}"
            bound = ("<= " if upper else ">= ") + f"{limit:.6g}"
            table.add_row(step.precision, result, metric, shown, bound)
    return table


def manifest_table(manifest: Manifest) -> Table:
    """The manifest's headline facts and its files."""
    table = Table(title=f"{manifest.model} build {manifest.key[:12]}", show_header=False)
    rows = {
        "key": manifest.key,
        "status": manifest.status,
        "target": json.dumps(manifest.target),
        "backend": f"{manifest.backend} {manifest.backend_version}",
        "precision": manifest.precision,
        "builder": f"{manifest.builder_image} (engine_build {manifest.builder_version})",
        "onnx sha256": manifest.onnx_sha256,
        "build seconds": f"{manifest.build_seconds:.2f}",
        "created at": manifest.created_at,
    }
    if manifest.latency:
        lat = manifest.latency
        rows["latency"] = f"p50 {lat.p50_ms:.3f} ms, p99 {lat.p99_ms:.3f} ms at batch {lat.batch}"
    for entry in manifest.files:
        rows[f"file {entry.path}"] = f"{entry.size} bytes  {entry.sha256[:16]}"
    for name, value in rows.items():
        table.add_row(name, value)
    return table


def fail(exc: EngineBuildError) -> typer.Exit:
    """Print the error (and its details) to stderr; the Exit carries its exit code."""
    err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    if isinstance(exc, GateFailedError):
        err.print(ladder_table([s for s in exc.ladder if isinstance(s, LadderStep)]))
    if isinstance(exc, VerificationError):
        for problem in exc.problems:
            err.print(f"  bad file: {escape(problem)}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


@app.command()
def build(
    spec: Annotated[Path, typer.Option(help="ModelSpec YAML, or a Pulumi stack config")],
    target: Annotated[str, typer.Option(help="cpu, ampere+ or gpu:<SKU>:<cc>")],
    out: Annotated[str, typer.Option(help="output store: a directory or s3://bucket/prefix")],
    builder_image: Annotated[str, typer.Option(help="image tag the build runs in")],
    model: Annotated[str | None, typer.Option(help="model name in a stack config")] = None,
    backend_version: Annotated[str | None, typer.Option(help="exact backend version")] = None,
    trt_release: Annotated[str | None, typer.Option(help="NVIDIA container release")] = None,
    timing_cache: Annotated[Path | None, typer.Option(help="TensorRT timing cache")] = None,
    latency_iterations: Annotated[int, typer.Option(min=1)] = 50,
    force: Annotated[bool, typer.Option(help="rebuild even if accepted")] = False,
) -> None:
    """Build one model for one target; skipped when its key already has an accepted build."""
    try:
        model_spec = load_spec(spec, model)
        parsed = load_target(target)
        version = backend_version or (trt_release and backend_version_for_release(trt_release))
        with Progress(
            SpinnerColumn(),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            # steps: inputs, reference, build+gate per precision, latency, publish
            steps = 4 + 2 * len(model_spec.precisions)
            task = progress.add_task(f"{model_spec.name} for {parsed.label}", total=steps)
            result = run_build(
                model_spec,
                parsed,
                out,
                builder_image,
                backend_version=version or None,
                timing_cache=timing_cache,
                latency_iterations=latency_iterations,
                force=force,
                report=lambda text: progress.update(task, description=text, advance=1),
            )
    except EngineBuildError as exc:
        raise fail(exc) from exc
    verb = "already built" if result.skipped else f"built {result.manifest.precision}"
    console.print(ladder_table(result.manifest.ladder))
    typer.echo(f"{verb}: {result.build_dir}")


@app.command()
def verify(build_dir: Annotated[str, typer.Argument(help="<out>/<model>/<target>/<key>")]) -> None:
    """Re-hash every file the manifest lists; exit 1 naming each bad file."""
    try:
        manifest = verify_build(build_dir)
    except EngineBuildError as exc:
        raise fail(exc) from exc
    typer.echo(f"ok: {len(manifest.files)} files match {build_dir}/manifest.json")


@app.command()
def inspect(
    build_dir: Annotated[str, typer.Argument(help="<out>/<model>/<target>/<key>")],
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest JSON")] = False,
) -> None:
    """Show a build's manifest as a table, or as JSON with --json."""
    try:
        manifest = read_build(build_dir)
    except EngineBuildError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(manifest.model_dump_json(indent=2))
        return
    console.print(manifest_table(manifest))
    console.print(ladder_table(manifest.ladder))
