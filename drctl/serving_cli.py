"""``drctl serving ready|load``: does each region's Triton serve the released version?

Thin commands over :mod:`drctl.serving` and :mod:`drctl.store.triton`; endpoints come from
the stacks' ``inferenceEndpoint`` outputs (``--outputs`` or ``$TRT_DR_OUTPUTS``) unless
``--endpoint`` is given. Exit codes: 0 serving / loaded, 1 not serving or load refused,
2 bad input (no such region, no endpoint output, nothing released).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from drctl.serving import check_serving, released_version
from drctl.store import render
from drctl.store.cli import (
    EndpointSetOpt,
    JsonOpt,
    OutputsOpt,
    RegionsOpt,
    finish,
    handled,
    selected,
    trees,
)
from drctl.store.errors import OutputsError
from drctl.store.regions import RegionTrees
from drctl.store.triton import reload_model

serving_app = typer.Typer(
    help="Check or refresh what each region's Triton serves. Exit codes: 0 ok, 1 not serving "
    "or load refused, 2 bad input.",
    no_args_is_help=True,
)
ModelOpt = Annotated[str, typer.Option("--model", help="Model name.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="Triton URL instead of the stack's inferenceEndpoint."),
]


def endpoint_of(tree: RegionTrees, override: str | None) -> str:
    """The URL to ask: ``--endpoint``, else the stack's ``inferenceEndpoint``."""
    url = override or tree.stack.inference_endpoint
    if not url:
        raise OutputsError(
            f"{tree.stack.role} outputs have no inferenceEndpoint: pass --endpoint "
            "http://HOST:8000 or refresh the outputs (pulumi stack output --json)"
        )
    return url


@serving_app.command("ready")
def ready_command(
    model: ModelOpt,
    region: RegionsOpt = None,
    version: Annotated[
        int | None, typer.Option(help="Version expected (default: the released one).")
    ] = None,
    endpoint: EndpointOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Exit 0 when each region's Triton has the released (or given) version READY."""
    with handled(as_json):
        checks = [
            check_serving(
                t.stack.role,
                endpoint_of(t, endpoint),
                model,
                version if version is not None else released_version(t, model),
            )
            for t in selected(trees(outputs), region)
        ]
    table = Table(title=f"{model}: served versions")
    for column in ("region", "endpoint", "expected", "ready versions", "ok"):
        table.add_column(column)
    for c in checks:
        ready = ", ".join(map(str, c.ready_versions)) or (c.error or "none")
        table.add_row(c.region, c.endpoint, str(c.expected), ready, "yes" if c.ok else "NO")
    rows = [{**asdict(c), "ok": c.ok} for c in checks]
    finish(rows, all(c.ok for c in checks), as_json, lambda: render.console.print(table))


@serving_app.command("load")
def load_command(
    model: ModelOpt,
    region: RegionsOpt = None,
    endpoint: EndpointOpt = None,
    load_endpoint_set: EndpointSetOpt = None,
    outputs: OutputsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Have Triton load ``model`` again: it then serves the version the tree's config pins.

    Out of the cluster the load request reaches one pod behind the load balancer; in the
    cluster, ``--load-endpoint-set`` (the headless Service) reaches every pod.
    """
    loaded: list[dict[str, str]] = []
    with handled(as_json):
        if load_endpoint_set:
            done = reload_model(model, [], load_endpoint_set)
            loaded += [{"region": "pods", "endpoint": url} for url in done]
        else:
            for tree in selected(trees(outputs), region):
                url = endpoint_of(tree, endpoint)
                reload_model(model, [url], None)
                loaded.append({"region": tree.stack.role, "endpoint": url})
    lines = "\n".join(f"{r['region']}: {r['endpoint']} loaded {model}" for r in loaded)
    finish(loaded, True, as_json, lambda: render.console.print(lines))
