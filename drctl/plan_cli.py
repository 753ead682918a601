"""`drctl plan`: print the offline plan of both stacks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.tree import Tree

from drctl.review.errors import PreviewFileError
from infra.config import ConfigError

if TYPE_CHECKING:
    from drctl.plan import StackPlan

console = Console()
# Pulumi's SDK is imported only when a plan runs: `drctl --help` stays fast.
PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("primary", "dr")


def render(plan: StackPlan) -> Tree:
    """A Rich tree: stack (region, role) -> component -> resources."""
    changes = ", ".join(f"{op} {n}" for op, n in sorted(plan.changes.items()))
    root = Tree(
        f"[bold]{plan.stack}[/] - region [cyan]{plan.region}[/], role {plan.role}, "
        f"{plan.total} resources" + (f" ({changes})" if changes else "")
    )
    for component, items in plan.components.items():
        branch = root.add(f"[green]{component}[/] ({len(items)})")
        if plan.ops:
            for type_, name in items:
                op = plan.ops.get(name)
                if op:
                    branch.add(f"[yellow]{op}[/] {type_} {name}")
            continue
        for type_, count in sorted(Counter(t for t, _ in items).items()):
            branch.add(f"{type_}" + (f" [dim]x{count}[/]" if count > 1 else ""))
    return root


def parse_previews(values: list[str]) -> dict[str, Path]:
    """``STACK=FILE`` pairs of ``--preview`` options; BadParameter when one has no ``=``."""
    result = {}
    for value in values:
        stack, sep, path = value.partition("=")
        if not sep or not stack or not path:
            raise typer.BadParameter(f"{value!r}: use --preview STACK=FILE, e.g. dr=preview.json")
        result[stack] = Path(path)
    return result


def plan_command(
    stack: list[str] = typer.Option(list(STACKS), "--stack", "-s", help="Stacks to plan."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a tree."),
    project_dir: Path = typer.Option(PROJECT_DIR, help="Directory holding Pulumi.<stack>.yaml."),
    preview: list[str] = typer.Option(
        [], "--preview", help="STACK=FILE: read `pulumi preview --json` output for STACK."
    ),
) -> None:
    """Offline plan: resources each stack would create, per region and component.

    With --preview STACK=FILE the stack's plan comes from a `pulumi preview --json` file and
    shows creates, updates, replaces and deletes.
    """
    from drctl.plan import plan_all, plan_preview
    from infra.peer import PeerNotReady

    previews = parse_previews(preview)
    try:
        offline = tuple(s for s in stack if s not in previews)
        plans = [plan_preview(path, name) for name, path in previews.items()]
        plans = plan_all(offline, project_dir) + plans if offline else plans
    except PreviewFileError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
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
    if len(previews) < len(plans):
        console.print(
            "[dim]Evaluated offline with Pulumi's mocks: no cloud account used; ARNs and ids "
            "are placeholders (account 123456789012).[/]"
        )
