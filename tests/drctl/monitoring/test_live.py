"""drctl monitoring watch: rates between snapshots, unreachable regions, a real HTTP scrape."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from drctl.cli import app
from drctl.monitoring.live import rows, table
from drctl.monitoring.source import Counters

DATA = Path(__file__).parent / "data"


def test_rows_are_rates_between_snapshots() -> None:
    before = {("m", "1"): Counters(100, 0, 100_000, 10_000)}
    after = {
        ("m", "1"): Counters(200, 1, 300_000, 20_000),
        ("m", "2"): Counters(10, 0, 50_000, 0),
    }
    got = {r.version: r for r in rows(before, after, "primary", 10.0)}
    assert got["1"].rate == pytest.approx(10.1)
    assert got["1"].error_share == pytest.approx(1 / 101)
    assert got["1"].latency_ms == pytest.approx(2.0)
    assert got["1"].queue_ms == pytest.approx(0.1)
    assert got["2"].latency_ms == pytest.approx(5.0)
    assert rows(after, before, "primary", 10.0) == []


def test_table_shows_unreachable_regions() -> None:
    console = Console(record=True, width=120)
    console.print(table({}, {"dr": None}, 5.0))
    assert "unreachable" in console.export_text()


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        """No request log in test output."""


@pytest.fixture
def metrics_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(DATA)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/triton-2.51-metrics.txt"
    server.shutdown()


def test_watch_command_scrapes_both_regions(metrics_server: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "monitoring",
            "watch",
            "--metrics",
            f"primary={metrics_server}",
            "--metrics",
            "dr=http://127.0.0.1:9/metrics",
            "--interval",
            "0",
            "--iterations",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "classifier" in result.output and "unreachable" in result.output


def test_watch_command_rejects_bad_pairs() -> None:
    result = CliRunner().invoke(app, ["monitoring", "watch", "--metrics", "nourl"])
    assert result.exit_code == 2
