"""Every shipped runbook runs end to end against the local environment (real drctl, moto)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drctl.cli import app
from drctl.runbook.exercise import exercise
from drctl.runbook.localenv import Builds, LocalEnvironment
from drctl.runbook.parse import parse_runbook
from drctl.runbook.runner import RunOptions
from drctl.store.verify import read_release, verify_release

RUNBOOKS = Path(__file__).resolve().parents[3] / "runbooks"
NAMES = sorted(p.stem for p in RUNBOOKS.glob("*.md"))


def test_the_issue_asks_for_these_runbooks() -> None:
    assert set(NAMES) >= {
        "region-outage",
        "engine-corruption",
        "model-regression",
        "gpu-node-failure",
        "replication-failure",
        "dr-no-gpu-capacity",
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_runbook_runs_end_to_end_locally(
    name: str, local_env: LocalEnvironment, tmp_path: Path
) -> None:
    local_env.reset()
    book = parse_runbook(RUNBOOKS / f"{name}.md")
    result = exercise(book, local_env, {}, tmp_path / "log.json", RunOptions())
    failed = [(s.id, s.reason, s.output_tail[-800:]) for s in result.log.steps if s.status != "ok"]
    assert result.ok, [f for f in failed if f[1] is None or "skip" not in str(f)]
    executed = [s for s in result.log.steps if s.status == "ok"]
    assert executed, "at least one step must really run locally"
    for record in result.log.steps:
        step = book.step(record.id)
        assert step is not None
        assert record.status == ("skipped-local" if step.local == "skip" else "ok")
    assert not result.marked


@pytest.mark.slow
def test_fault_is_really_repaired(local_env: LocalEnvironment, tmp_path: Path) -> None:
    """Without the runbook the corruption stays: the runbook's verify would fail."""
    local_env.reset()
    book = parse_runbook(RUNBOOKS / "engine-corruption.md")
    local_env.apply("engine-corruption")
    tree, replica = local_env.store("primary", "us-east-1"), local_env.store("dr", "us-east-1")
    assert not verify_release([tree, replica], "classifier").ok
    result = exercise(book, local_env, {}, tmp_path / "log.json", RunOptions())
    assert result.ok
    assert verify_release([tree, replica], "classifier").ok


@pytest.mark.slow
def test_failing_step_rolls_back_on_the_real_store(
    local_env: LocalEnvironment, tmp_path: Path
) -> None:
    """A fallback build that does not exist: publish fails, its rollback re-pins the GPU version."""
    local_env.reset()
    book = parse_runbook(RUNBOOKS / "dr-no-gpu-capacity.md")
    given = {"fallback_build": str(tmp_path / "no-such-build")}
    result = exercise(book, local_env, given, tmp_path / "log.json", RunOptions())
    assert result.log.status == "failed"
    failed = result.log.steps[-1]
    assert (failed.id, failed.exit_code) == ("serve-fallback", 2)
    assert [(r.id, r.for_step, r.status) for r in result.log.rollbacks] == [
        ("back-to-gpu-engine", "serve-fallback", "ok")
    ]
    release, _ = read_release(local_env.store("dr", "us-west-2"), "classifier")
    assert release is not None and release.version == 1


@pytest.mark.slow
def test_cli_test_updates_last_exercised_on_success(tmp_path: Path) -> None:
    """`drctl runbook test --update-exercised` on a copy: its own environment, date written."""
    shutil.copy(RUNBOOKS / "gpu-node-failure.md", tmp_path)
    args = ["runbook", "test", "gpu-node-failure", "--dir", str(tmp_path), "--update-exercised"]
    result = CliRunner().invoke(app, [*args, "--log", str(tmp_path / "log.json")])
    assert result.exit_code == 0, result.output
    book = parse_runbook(tmp_path / "gpu-node-failure.md")
    assert book.front.last_exercised == dt.datetime.now(dt.UTC).date()


def test_local_steps_never_see_the_callers_aws_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-token")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com")
    env = LocalEnvironment(tmp_path, Builds(tmp_path, tmp_path), url="http://127.0.0.1:1").env()
    assert env["AWS_PROFILE"] is None and env["AWS_SESSION_TOKEN"] is None
    assert env["AWS_ENDPOINT_URL_S3"] is None
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
