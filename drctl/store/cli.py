"""``drctl store ...`` and ``drctl status``: thin commands over the store's functions.

Exit codes: 0 ok, 1 the operation found a problem (corruption, lag, conflict, rebuild needed),
2 bad input or configuration. Every command takes ``--json`` and ``--outputs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from drctl.store import render
from drctl.store.buildtree import read_manifest
from drctl.store.errors import StoreError
from drctl.store.outputs import OutputsError, StackOutputs, by_role, load_outputs
from drctl.store.publish import publish
from drctl.store.replicator import replicate_all
from drctl.store.restore import restore
from drctl.store.rollback import list_versions, rollback
from drctl.store.s3ops import RegionStore, s3_client
from drctl.store.status import status
from drctl.store.verify import verify_release

store_app = typer.Typer(
    help="Publish, verify, restore and roll back model versions.", no_args_is_help=True
)

OutputsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--outputs",
        help="Saved `pulumi stack output --json` of a stack (repeat per stack); "
        "default: every *.json in $TRT_DR_OUTPUTS.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
RegionOpt = Annotated[str, typer.Option("--region", help="Stack role (primary or dr).")]


@contextmanager
def handled(as_json: bool) -> Iterator[None]:
    """Turn store failures into a message with a next step and the documented exit code."""
    try:
        yield
    except StoreError as exc:
        if as_json:
            render.print_json({"error": str(exc), "exit_code": exc.exit_code})
        else:
            render.errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code) from exc


def stores(outputs: list[Path] | None) -> tuple[list[StackOutputs], list[RegionStore]]:
    """The stacks' outputs and one store per stack, primary first."""
    stacks = sorted(load_outputs(outputs or []), key=lambda s: s.role != "primary")
    return stacks, [
        RegionStore(s.role, s.region, s.bucket_name, s3_client(s.region)) for s in stacks
    ]


def _store(all_stores: list[RegionStore], role: str) -> RegionStore:
    """The store of ``role``."""
    for store in all_stores:
        if store.name == role:
            return store
    raise OutputsError(f"no stack outputs with role {role!r}; pass its --outputs file")


def finish(value: object, ok: bool, as_json: bool, show: Callable[[], None]) -> None:
    """Print a result and exit 1 when it reports a problem."""
    if as_json:
        render.print_json(value)
    else:
        show()
    if not ok:
        raise typer.Exit(1)


@store_app.command("publish")
def publish_command(
    build_dir: Annotated[Path, typer.Argument(help="engine_build output directory.")],
    region: RegionOpt = "primary",
    keep_staging: Annotated[bool, typer.Option(help="Keep staged uploads afterwards.")] = False,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload a build as a new version and release it once every file verifies."""
    with handled(as_json):
        _, all_stores = stores(outputs)
        store = _store(all_stores, region)
        manifest, _ = read_manifest(build_dir)
        total = sum(f.size for f in manifest.files)
        with render.transfer_bar(f"publish {manifest.model}", total, not as_json) as bar:
            result = publish(store, build_dir, progress=bar, keep_staging=keep_staging)
    finish(
        result,
        True,
        as_json,
        lambda: render.console.print(
            f"{result.model} version {result.version} {result.state} in {store.name} "
            f"({result.bytes_uploaded} bytes uploaded, {result.total_seconds:.1f}s)"
        ),
    )


@store_app.command("verify")
def verify_command(
    model: str,
    version: Annotated[int | None, typer.Option(help="Version (default: released).")] = None,
    hash_bytes: Annotated[bool, typer.Option("--hash/--no-hash", help="Hash every byte.")] = True,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a release in both regions: presence, size, checksum, staleness, replication lag."""
    with handled(as_json):
        all_stores = stores(outputs)[1]
        with render.transfer_bar(f"hash {model}", None, hash_bytes and not as_json) as bar:
            report = verify_release(all_stores, model, version, deep=hash_bytes, progress=bar)
    finish(report, report.ok, as_json, lambda: render.console.print(render.verify_table(report)))


@store_app.command("restore")
def restore_command(
    model: str,
    region: RegionOpt,
    version: Annotated[int | None, typer.Option(help="Version (default: released).")] = None,
    repoint: Annotated[bool, typer.Option(help="Move the pointer after repair.")] = True,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Repair a region from its peer, an earlier object version, or request a rebuild."""
    with handled(as_json):
        all_stores = stores(outputs)[1]
        target = _store(all_stores, region)
        peer = next((s for s in all_stores if s is not target), None)
        result = restore(target, peer, model, version, repoint=repoint)

    def show() -> None:
        """Repairs, then the outcome."""
        for repair in result.repairs:
            render.console.print(f"{repair.problem}: {repair.key} <- {repair.source}")
        if result.rebuild_requested:
            render.errors.print(
                "[red]no verified copy left:[/red] a rebuild was requested "
                f"under rebuild-requests/{model}/; run engine_build, then publish"
            )
        else:
            render.console.print(f"{model} version {result.version} verified in {region}")

    finish(result, result.ok, as_json, show)


@store_app.command("versions")
def versions_command(
    model: str, region: RegionOpt = "primary", outputs: OutputsOpt = None, as_json: JsonOpt = False
) -> None:
    """List a model's versions with their manifests."""
    with handled(as_json):
        versions = list_versions(_store(stores(outputs)[1], region), model)
    finish(
        versions,
        True,
        as_json,
        lambda: render.console.print(render.versions_table(model, versions)),
    )


@store_app.command("rollback")
def rollback_command(
    model: str,
    to: Annotated[int | None, typer.Option(help="Version (default: previous).")] = None,
    endpoint: Annotated[list[str] | None, typer.Option(help="Triton URL to load on.")] = None,
    load: Annotated[bool, typer.Option(help="Also load on each inferenceEndpoint.")] = False,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a model's release pointer back in both regions; optionally have Triton load it."""
    with handled(as_json):
        stacks, all_stores = stores(outputs)
        urls = list(endpoint or [])
        urls += [s.inference_endpoint for s in stacks if load and s.inference_endpoint]
        result = rollback(all_stores, model, to, endpoints=urls)
    finish(result, True, as_json, lambda: render.console.print(render.rollback_table(result)))


@store_app.command("replicate-standin")
def replicate_command(
    lag: Annotated[float, typer.Option(help="Seconds a version stays PENDING.")] = 0.0,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """EMULATORS ONLY: one pass of the replication stand-in (refuses real AWS endpoints)."""
    with handled(as_json):
        passes = replicate_all(stores(outputs)[1], lag_seconds=lag)

    def show() -> None:
        """One line per source region."""
        for name, p in passes.items():
            render.console.print(
                f"{name}: {len(p.copied)} copied, {len(p.delayed)} pending, "
                f"{len(p.failed)} failed, {len(p.deleted)} deletes"
            )

    finish(passes, True, as_json, show)


def status_command(
    model: Annotated[list[str] | None, typer.Option(help="Model (default: all).")] = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One table for both regions: health, readiness, release parity, replication lag."""
    with handled(as_json):
        stacks, all_stores = stores(outputs)
        pairs = [(st, by_role(stacks, st.name).inference_endpoint) for st in all_stores]
        report = status(pairs, model or [])
    finish(report, report.ok, as_json, lambda: render.console.print(render.status_table(report)))
