"""`drctl runbook lint` over the whole set also checks alerts against runbook triggers."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from drctl.cli import app

RUNBOOKS = Path(__file__).resolve().parents[3] / "runbooks"
runner = CliRunner()


def test_shipped_alerts_and_triggers_name_each_other() -> None:
    result = runner.invoke(app, ["runbook", "lint"])
    assert result.exit_code == 0, result.output
    assert "alerts <-> runbook triggers: ok" in result.output


def test_a_trigger_without_an_alert_fails_the_lint(tmp_path: Path) -> None:
    shutil.copytree(RUNBOOKS, tmp_path / "runbooks")
    path = tmp_path / "runbooks" / "model-regression.md"
    text = path.read_text()
    path.write_text(
        text.replace("ModelLatencyRegression]", "ModelLatencyRegression, NoSuchAlert]", 1)
    )
    result = runner.invoke(app, ["runbook", "lint", "--dir", str(tmp_path / "runbooks")])
    assert result.exit_code == 1
    assert "NoSuchAlert" in result.output


def test_an_alert_without_a_runbook_fails_the_lint(tmp_path: Path) -> None:
    shutil.copytree(RUNBOOKS, tmp_path / "runbooks")
    (tmp_path / "runbooks" / "model-regression.md").unlink()
    result = runner.invoke(app, ["runbook", "lint", "--dir", str(tmp_path / "runbooks")])
    assert result.exit_code == 1
    assert "ModelLatencyRegression" in result.output
