"""Refresh data/prices.json from the AWS Price List API (needs AWS credentials, no cost).

Usage: .venv/bin/python scripts/refresh_prices.py [--prices data/prices.json] [--dry-run]
Entries with a `query` are re-priced (as_of becomes today); the others are kept and must be
checked by hand. Exit 1 when any query did not match exactly one on-demand price.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drctl.review.errors import PriceTableError
from drctl.review.prices import PRICES_PATH, load_prices
from drctl.review.refresh import PRICING_REGION, refresh, write_table

console = Console()


def main(
    prices: Path = typer.Option(PRICES_PATH, help="Price table to refresh in place."),
    dry_run: bool = typer.Option(False, help="Show changes without writing."),
) -> None:
    """Re-price every entry with a Price List API query and write the table atomically."""
    try:
        table = load_prices(prices)
    except PriceTableError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    client = boto3.client("pricing", region_name=PRICING_REGION)
    queried = [p for p in table.prices if p.query is not None]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    try:
        with Progress(console=console) as bar:
            task = bar.add_task("Price List API", total=len(queried))
            new, result = refresh(table, client, today, lambda _: bar.advance(task))
    except (BotoCoreError, ClientError) as error:
        console.print(f"[red]error:[/] Price List API: {error}; check AWS credentials")
        raise typer.Exit(2) from None
    for old, usd in result.updated:
        console.print(f"{old.item} {old.key} {old.region}: {old.usd} -> {usd}")
    for old, reason in result.failed:
        console.print(f"[yellow]kept[/] {old.item} {old.key} {old.region}: {reason}")
    console.print(f"{len(result.updated)} changed, {len(result.unchanged)} unchanged")
    if not dry_run:
        write_table(new, prices)
    if result.failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
