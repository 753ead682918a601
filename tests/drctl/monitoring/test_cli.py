"""A few CliRunner tests: exit codes and files of drctl monitoring / rollout."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from drctl.cli import app
from drctl.monitoring.promql import check_groups
from infra.offline import PROJECT_DIR

runner = CliRunner()


def test_lint_passes_on_the_real_runbooks() -> None:
    result = runner.invoke(app, ["monitoring", "lint", "--runbooks", str(PROJECT_DIR / "runbooks")])
    assert result.exit_code == 0, result.output


def test_lint_fails_on_a_trigger_without_alert(tmp_path: Path) -> None:
    for source in (PROJECT_DIR / "runbooks").glob("*.md"):
        (tmp_path / source.name).write_text(source.read_text())
    book = tmp_path / "region-outage.md"
    book.write_text(book.read_text().replace("PrimaryHealthCheckFailed", "NoSuchAlert", 1))
    result = runner.invoke(app, ["monitoring", "lint", "--runbooks", str(tmp_path)])
    assert result.exit_code == 1
    assert "trigger NoSuchAlert has no alert" in result.output


def test_lint_reads_thresholds_from_a_stack_and_rejects_a_missing_dir(tmp_path: Path) -> None:
    ok = runner.invoke(
        app,
        ["monitoring", "lint", "--stack", "primary", "--runbooks", str(PROJECT_DIR / "runbooks")],
    )
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(app, ["monitoring", "lint", "--runbooks", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "pass --runbooks" in missing.output
    bad_stack = runner.invoke(app, ["monitoring", "lint", "--stack", "nosuch"])
    assert bad_stack.exit_code == 2


def test_render_writes_rules_and_dashboard(tmp_path: Path) -> None:
    result = runner.invoke(app, ["monitoring", "render", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for role in ("primary", "dr"):
        groups = yaml.safe_load((tmp_path / f"rules-{role}.yaml").read_text())["groups"]
        assert check_groups(groups) == []
    board = json.loads((tmp_path / "dashboard.json").read_text())
    assert len(board["panels"]) == 14


def test_shipped_rendered_files_are_current(tmp_path: Path) -> None:
    runner.invoke(app, ["monitoring", "render", "--out", str(tmp_path)])
    for name in ("rules-primary.yaml", "rules-dr.yaml", "dashboard.json"):
        assert (PROJECT_DIR / "monitoring" / name).read_text() == (tmp_path / name).read_text()


def test_rollout_watch_needs_outputs_and_a_source(tmp_path: Path) -> None:
    base = ["rollout", "watch", "--model", "m", "--canary-version", "2", "--baseline-version", "1"]
    no_outputs = runner.invoke(app, base)
    assert no_outputs.exit_code == 2 and "--outputs" in no_outputs.output
    out = tmp_path / "o.json"
    out.write_text("{}")
    no_source = runner.invoke(app, [*base, "--outputs", str(out)])
    assert no_source.exit_code == 2 and "--prometheus" in no_source.output
