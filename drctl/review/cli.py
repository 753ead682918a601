"""`drctl cost estimate|diff`, `drctl posture`, `drctl review`: thin commands over the review API.

Exit codes: 0 ok, 1 the posture check found a problem (`posture` and `review --strict`), 2 bad
input (missing price, unreadable usage/preview/base, invalid stack config).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from drctl.atomic import write_atomic
from drctl.plan_cli import parse_previews
from drctl.review.cost import StackCost
from drctl.review.diff import diff_costs
from drctl.review.errors import ReviewError
from drctl.review.markdown import render_cost_diff, render_posture, usd
from drctl.review.posture import POLICY_CONFIG, Posture, build_posture, load_policy_config
from drctl.review.prices import PRICES_PATH, PriceTable, load_prices
from drctl.review.report import (
    build_review,
    costs_to_json,
    estimate_all,
    load_costs,
    render_review,
)
from drctl.review.snapshot import evaluate_project
from drctl.review.stackfiles import stack_settings
from drctl.review.tiers import tier_costs
from drctl.review.usage import Usage, load_usage
from infra.config import ConfigError
from infra.offline import PROJECT_DIR
from infra.peer import PeerNotReady

console = Console()
err = Console(stderr=True)
cost_app = typer.Typer(
    help="Monthly cost estimates and pull-request cost diffs.", no_args_is_help=True
)

PRICES = typer.Option(PRICES_PATH, "--prices", help="Price table (data/prices.json).")
USAGE = typer.Option(None, "--usage", help="Usage file (see data/usage.example.yaml).")
PROJECT = typer.Option(PROJECT_DIR, "--project-dir", help="Checkout holding Pulumi.<stack>.yaml.")
POLICY = typer.Option(POLICY_CONFIG, "--policy-config", help="Policy pack config (JSON).")


def _inputs(prices: Path, usage: Path | None) -> tuple[PriceTable, Usage]:
    return load_prices(prices), load_usage(usage)


def _fail(error: Exception) -> typer.Exit:
    err.print(f"[red]error:[/] {error}")
    return typer.Exit(2)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        print(text)
        return
    write_atomic(out, text)
    err.print(f"wrote {out}")


def _cost_table(costs: dict[str, StackCost]) -> Table:
    table = Table(title="Monthly estimate (on-demand, USD)")
    for col in ("stack", "component", "resource", "item", "monthly"):
        table.add_column(col, justify="right" if col == "monthly" else "left")
    for cost in costs.values():
        for line in sorted(cost.lines, key=lambda x: -x.monthly_usd):
            flag = " *" if line.unverified else ""
            table.add_row(
                cost.stack,
                line.component,
                line.resource,
                line.description,
                usd(line.monthly_usd) + flag,
            )
        table.add_row(cost.stack, "", "", "[bold]total[/]", f"[bold]{usd(cost.total)}[/]")
    return table


@cost_app.command("estimate")
def estimate_command(
    project_dir: Path = PROJECT,
    prices: Path = PRICES,
    usage: Path | None = USAGE,
    as_json: bool = typer.Option(False, "--json", help="Print the estimate as JSON."),
    tiers: bool = typer.Option(False, "--tiers", help="Also price every DR tier side by side."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to FILE (atomic)."),
) -> None:
    """Monthly cost per stack and resource of a checkout (offline evaluation)."""
    try:
        table, use = _inputs(prices, usage)
        costs = estimate_all(evaluate_project(project_dir), table, use)
        by_tier = tier_costs(table, use, project_dir) if tiers else []
    except (ReviewError, ConfigError, PeerNotReady) as error:
        raise _fail(error) from None
    if as_json:
        doc = {**costs_to_json(costs), "tiers": [t.as_dict() for t in by_tier]}
        _write(json.dumps(doc, indent=2), out)
        return
    console.print(_cost_table(costs))
    for tier in by_tier:
        console.print(f"{tier.tier:>14}: {usd(tier.total)}")
    console.print("[dim]* unverified price: check data/prices.json before relying on it[/]")


@cost_app.command("diff")
def diff_command(
    base: Path = typer.Argument(..., help="Base: a checkout directory or an estimate JSON."),
    head: Path = typer.Argument(..., help="Head: a checkout directory or an estimate JSON."),
    prices: Path = PRICES,
    usage: Path | None = USAGE,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of Markdown."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to FILE (atomic)."),
) -> None:
    """Monthly cost delta BASE -> HEAD as Markdown for a pull-request comment (or JSON)."""
    try:
        table, use = _inputs(prices, usage)
        diff = diff_costs(load_costs(base, table, use), load_costs(head, table, use))
    except (ReviewError, ConfigError, PeerNotReady) as error:
        raise _fail(error) from None
    _write(json.dumps(diff.as_dict(), indent=2) if as_json else render_cost_diff(diff), out)


def posture_of(project_dir: Path, policy_config: Path | None) -> Posture:
    """Posture of a checkout's stacks: RTO budget, RPO, capacity and policy findings."""
    settings = stack_settings(project_dir)
    evaluations = evaluate_project(project_dir, tuple(settings))
    return build_posture(evaluations, settings, load_policy_config(policy_config))


def posture_command(
    project_dir: Path = PROJECT,
    policy_config: Path = POLICY,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of Markdown."),
) -> None:
    """DR posture: RTO budget vs objective, RPO, DR GPU capacity, policy findings (1 if not ok)."""
    try:
        posture = posture_of(project_dir, policy_config)
    except (ReviewError, ConfigError, PeerNotReady) as error:
        raise _fail(error) from None
    print(json.dumps(posture.as_dict(), indent=2) if as_json else render_posture(posture))
    if not posture.ok:
        err.print("[red]posture check failed:[/] fix the findings above or the stack config")
        raise typer.Exit(1)


def review_command(
    project_dir: Path = PROJECT,
    base: Path | None = typer.Option(None, "--base", help="Base checkout or estimate JSON."),
    preview: list[str] = typer.Option(
        [], "--preview", help="STACK=FILE from `pulumi preview --json`."
    ),
    prices: Path = PRICES,
    usage: Path | None = USAGE,
    policy_config: Path = POLICY,
    tiers: bool = typer.Option(True, "--tiers/--no-tiers", help="Price every DR tier."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of Markdown."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when the posture check fails."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to FILE (atomic)."),
) -> None:
    """The pull-request comment: plan, cost delta, DR tier costs and DR posture."""
    previews = parse_previews(preview)
    try:
        table, use = _inputs(prices, usage)
        config = load_policy_config(policy_config)
        review = build_review(project_dir, base, previews, table, use, config, tiers)
    except (ReviewError, ConfigError, PeerNotReady) as error:
        raise _fail(error) from None
    _write(json.dumps(review.as_dict(), indent=2) if as_json else render_review(review), out)
    if strict and not review.posture.ok:
        raise typer.Exit(1)
