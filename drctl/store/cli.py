"""``drctl store ...`` and ``drctl status``: thin commands over the store's functions.

Exit codes: 0 ok, 1 the operation found a problem (corruption, lag, conflict, rebuild needed),
2 bad input or configuration. Every command takes ``--json`` and ``--outputs``. A region's
tree is ``<region>/`` in both buckets (see ``regions.py``); ``--root`` overrides the prefix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from drctl.store import render
from drctl.store.buildtree import parse_location, read_manifest
from drctl.store.canary import CanaryResult, abort_canary, annotate, promote_canary
from drctl.store.errors import StoreError
from drctl.store.outputs import load_outputs
from drctl.store.publish import default_publisher, publish
from drctl.store.regions import RegionTrees, bucket_stores, pick, region_trees
from drctl.store.replicator import replicate_all
from drctl.store.restore import restore
from drctl.store.rollback import list_versions, rollback
from drctl.store.s3ops import RegionStore
from drctl.store.status import RegionView, StatusReport, status
from drctl.store.triton import reload_model
from drctl.store.verify import verify_release

store_app = typer.Typer(
    help="Publish, verify, restore and roll back model versions. Exit codes: 0 ok, 1 the "
    "operation found a problem, 2 bad input or configuration. See docs/model-store.md.",
    no_args_is_help=True,
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
RegionsOpt = Annotated[
    list[str] | None, typer.Option("--region", help="Stack role; repeat; default: all.")
]
RootOpt = Annotated[
    str | None, typer.Option("--root", help="Tree prefix in the buckets (default: the region).")
]
EndpointSetOpt = Annotated[
    str | None,
    typer.Option(
        "--load-endpoint-set",
        help="In-cluster: a name resolving to every Triton pod (the headless Service, e.g. "
        "triton-pods.triton.svc.cluster.local:8000); each pod reloads the model.",
    ),
]


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


def trees(outputs: list[Path] | None, root: str | None = None) -> list[RegionTrees]:
    """Every loaded region's trees, primary first."""
    return region_trees(load_outputs(outputs or []), root)


def selected(all_trees: list[RegionTrees], roles: list[str] | None) -> list[RegionTrees]:
    """The regions named by ``--region`` (all when none)."""
    return [pick(all_trees, r) for r in roles] if roles else all_trees


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
    build: Annotated[
        str, typer.Argument(help="engine_build output: a directory or s3://bucket/prefix.")
    ],
    region: RegionOpt = "primary",
    keep_staging: Annotated[bool, typer.Option(help="Keep staged uploads afterwards.")] = False,
    canary: Annotated[
        bool, typer.Option("--canary", help="Put it on trial on the canary pods, not release it.")
    ] = False,
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload a build as a new version of the region's tree; release it once it verifies."""
    with handled(as_json):
        store = pick(trees(outputs, root), region).own
        source = parse_location(build)
        total = None
        if isinstance(source, Path):
            total = sum(f.size for f in read_manifest(source)[0].files)
        with render.transfer_bar(f"publish {build}", total, not as_json) as bar:
            result = publish(store, source, progress=bar, keep_staging=keep_staging, canary=canary)
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
    region: RegionsOpt = None,
    version: Annotated[int | None, typer.Option(help="Version (default: released).")] = None,
    hash_bytes: Annotated[bool, typer.Option("--hash/--no-hash", help="Hash every byte.")] = True,
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check each region's release and its replica: presence, size, checksum, staleness, lag."""
    with handled(as_json):
        reports = {}
        for tree in selected(trees(outputs, root), region):
            with render.transfer_bar(
                f"hash {tree.own.name}", None, hash_bytes and not as_json
            ) as bar:
                report = verify_release(
                    [tree.own, tree.replica], model, version, deep=hash_bytes, progress=bar
                )
                reports[tree.own.name] = annotate(report, tree.own)
    ok = all(r.ok for r in reports.values())

    def show() -> None:
        """One table per region's tree."""
        for name, report in reports.items():
            render.console.print(render.verify_table(report, f"{name} tree"))

    finish(reports, ok, as_json, show)


@store_app.command("restore")
def restore_command(
    model: str,
    region: RegionOpt,
    tree: Annotated[
        str | None, typer.Option(help="Whose tree to repair (default: --region's).")
    ] = None,
    version: Annotated[int | None, typer.Option(help="Version (default: released).")] = None,
    repoint: Annotated[bool, typer.Option(help="Move the pointer after repair.")] = True,
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Repair a tree in a region's bucket from the other bucket, an older version, or a rebuild."""
    with handled(as_json):
        all_trees = trees(outputs, root)
        owner = pick(all_trees, tree or region)
        target, peer = _target_and_peer(owner, pick(all_trees, region))
        with render.transfer_bar(f"restore {model}", None, not as_json) as bar:
            result = restore(target, peer, model, version, repoint=repoint, progress=bar)

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
            render.console.print(f"{model} version {result.version} verified in {target.name}")

    finish(result, result.ok, as_json, show)


def _target_and_peer(owner: RegionTrees, where: RegionTrees) -> tuple[RegionStore, RegionStore]:
    """The copy of ``owner``'s tree in ``where``'s bucket, and the other copy."""
    if owner.own.bucket == where.own.bucket:
        return owner.own, owner.replica
    return owner.replica, owner.own


@store_app.command("versions")
def versions_command(
    model: str,
    region: RegionOpt = "primary",
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List a model's versions in a region's tree with their manifests."""
    with handled(as_json):
        versions = list_versions(pick(trees(outputs, root), region).own, model)
    finish(
        versions,
        True,
        as_json,
        lambda: render.console.print(render.versions_table(model, versions)),
    )


@store_app.command("rollback")
def rollback_command(
    model: str,
    region: RegionsOpt = None,
    to: Annotated[int | None, typer.Option(help="Version (default: previous).")] = None,
    endpoint: Annotated[list[str] | None, typer.Option(help="Triton URL to load on.")] = None,
    load: Annotated[bool, typer.Option(help="Also load on each inferenceEndpoint.")] = False,
    load_endpoint_set: EndpointSetOpt = None,
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a model's release pointer back in each region; optionally have Triton load it."""
    with handled(as_json):
        results = {}
        for tree in selected(trees(outputs, root), region):
            urls = [tree.stack.inference_endpoint] if load and tree.stack.inference_endpoint else []
            results[tree.own.name] = rollback([tree.own], model, to, endpoints=urls)
        reload_model(model, endpoint or [], load_endpoint_set)

    def show() -> None:
        """One table per region."""
        for result in results.values():
            render.console.print(render.rollback_table(result))

    finish(results, True, as_json, show)


@store_app.command("replicate-standin")
def replicate_command(
    lag: Annotated[float, typer.Option(help="Seconds a version stays PENDING.")] = 0.0,
    fail: Annotated[
        list[str] | None, typer.Option(help="Mark keys with this prefix FAILED (repeat).")
    ] = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """EMULATORS ONLY: one pass of the replication stand-in (refuses real AWS endpoints)."""
    prefixes = tuple(fail or ())
    with handled(as_json):
        stores = bucket_stores(load_outputs(outputs or []))
        passes = replicate_all(stores, lag_seconds=lag, fail=lambda k: k.startswith(prefixes))

    def show() -> None:
        """One line per source region."""
        for name, p in passes.items():
            render.console.print(
                f"{name}: {len(p.copied)} copied, {len(p.delayed)} pending, "
                f"{len(p.failed)} failed, {len(p.deleted)} deletes"
            )

    finish(passes, True, as_json, show)


def _canary_command(
    action: Callable[[RegionStore], CanaryResult],
    region: str,
    endpoint: list[str] | None,
    endpoint_set: str | None,
    root: str | None,
    outputs: list[Path] | None,
    as_json: bool,
) -> None:
    """Shared body of promote/abort: act on one region's tree, then reload, then report."""
    with handled(as_json):
        result = action(pick(trees(outputs, root), region).own)
        loaded = reload_model(result.model, endpoint or [], endpoint_set)
    what = {"promoted": "released", "aborted": "aborted"}.get(result.state)
    message = (
        f"{result.model} version {result.version} {what} in {result.region} (baseline "
        f"{result.baseline}); reloaded on {len(loaded)} endpoint(s)"
        if what
        else f"no canary of {result.model} in progress in {result.region}; nothing to do"
    )
    finish(
        {"result": result, "loaded": loaded}, True, as_json, lambda: render.console.print(message)
    )


EndpointOpt = Annotated[
    list[str] | None, typer.Option("--endpoint", help="Triton URL to load on (repeat).")
]


@store_app.command("promote")
def promote_command(
    model: str,
    region: RegionOpt = "primary",
    endpoint: EndpointOpt = None,
    load_endpoint_set: EndpointSetOpt = None,
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Release the version on trial (release pointer -> canary) and end the canary."""
    who = f"drctl store promote ({default_publisher()})"
    _canary_command(
        lambda store: promote_canary(store, model, who),
        region,
        endpoint,
        load_endpoint_set,
        root,
        outputs,
        as_json,
    )


@store_app.command("abort")
def abort_command(
    model: str,
    region: RegionOpt = "primary",
    endpoint: EndpointOpt = None,
    load_endpoint_set: EndpointSetOpt = None,
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """End the canary without releasing it; canary pods fall back to the stable config."""
    _canary_command(
        lambda store: abort_canary(store, model),
        region,
        endpoint,
        load_endpoint_set,
        root,
        outputs,
        as_json,
    )


def status_command(
    model: Annotated[list[str] | None, typer.Option(help="Model (default: all).")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(min=0.0, help="Seconds between refreshes.")] = 5.0,
    iterations: Annotated[int, typer.Option(min=0, help="Refreshes (0: until Ctrl-C).")] = 0,
    root: RootOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One table for both regions: health, readiness, canary, release parity, replication lag."""
    with handled(as_json):
        views = [
            RegionView(t.own, t.replica, t.stack.inference_endpoint) for t in trees(outputs, root)
        ]
        if watch and not as_json:
            watch_status(views, model or [], interval, iterations)
            return
        report = status(views, model or [])
    finish(report, report.ok, as_json, lambda: render.console.print(render.status_table(report)))


def _refresh(views: list[RegionView], models: list[str]) -> StatusReport:
    """One refresh; a failure becomes an error line of the table, never the end of the watch."""
    try:
        return status(views, models)
    except (StoreError, OSError) as exc:
        return StatusReport(errors=[f"refresh failed: {exc}"])


def watch_status(
    views: list[RegionView], models: list[str], interval: float, iterations: int
) -> None:
    """Redraw the status table every ``interval`` seconds (``iterations`` 0: until Ctrl-C)."""
    count = 0
    first = render.status_table(_refresh(views, models))
    with Live(first, console=render.console, auto_refresh=False) as live:
        try:
            while iterations == 0 or count < iterations:
                time.sleep(interval)
                live.update(render.status_table(_refresh(views, models)), refresh=True)
                count += 1
        except KeyboardInterrupt:
            return
