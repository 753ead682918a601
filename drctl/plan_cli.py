"""`drctl plan`: print the offline plan of both stacks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.tree import Tree

from drctl.plan import STACKS, StackPlan, plan_all
from infra.config import ConfigError
from infra.offline import PROJECT_DIR
from infra.peer import PeerNotReady

console = Console()


def render(plan: StackPlan) -> Tree:
    """A Rich tree: stack (region, role) -> component -> resources."""
    root = Tree(
        f"[bold]{plan.stack}[/] - region [cyan]{plan.region}[/], role {plan.role}, "
        f"{plan.total} resources"
    )
    for component, items in plan.components.items():
        branch = root.add(f"[green]{component}[/] ({len(items)})")
        for type_, count in sorted(Counter(t for t, _ in items).items()):
            branch.add(f"{type_}" + (f" [dim]x{count}[/]" if count > 1 else ""))
    return root


def plan_command(
    stack: list[str] = typer.Option(list(STACKS), "--stack", "-s", help="Stacks to plan."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a tree."),
    project_dir: Path = typer.Option(PROJECT_DIR, help="Directory holding Pulumi.<stack>.yaml."),
) -> None:
    """Offline plan: resources each stack would create, per region and component."""
    try:
        plans = plan_all(tuple(stack), project_dir)
    except (ConfigError, PeerNotReady) as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    except FileNotFoundError as error:
        console.print(f"[red]error:[/] {error}; stacks are Pulumi.<stack>.yaml files")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps([p.as_dict() for p in plans], indent=2, default=str))
        return
    for plan in plans:
        console.print(render(plan))
    console.print(
        "[dim]Evaluated offline with Pulumi's mocks: no cloud account used; ARNs and ids "
        "are placeholders (account 123456789012).[/]"
    )
