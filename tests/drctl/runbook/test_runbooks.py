"""Every shipped runbook runs end to end against the local rehearsal environment.

Real drctl commands in subprocesses, moto as AWS, real tritonservers serving the trees.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drctl.cli import app
from drctl.rehearsal.aws_local import AWS_ENV
from drctl.runbook.exercise import exercise
from drctl.runbook.localenv import RunbookEnvironment, step_env
from drctl.runbook.parse import parse_runbook
from drctl.runbook.runner import RunOptions
from drctl.serving import check_serving
from drctl.store.errors import TritonLoadFailed
from drctl.store.triton import load_model
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
    name: str, local_env: RunbookEnvironment, tmp_path: Path
) -> None:
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
def test_fault_is_really_repaired(local_env: RunbookEnvironment, tmp_path: Path) -> None:
    """Without the runbook the corruption stays: the runbook's verify would fail."""
    book = parse_runbook(RUNBOOKS / "engine-corruption.md")
    local_env.apply("engine-corruption")
    tree, replica = local_env.store("primary"), local_env.store("dr", "us-east-1")
    assert not verify_release([tree, replica], "classifier").ok
    with pytest.raises(TritonLoadFailed):  # Triton refuses the damaged engine (and keeps
        load_model(local_env.params()["primary_endpoint"], local_env.model)  # the one loaded)
    result = exercise(book, local_env, {"region": "primary"}, tmp_path / "log.json", RunOptions())
    assert result.ok
    assert verify_release([tree, replica], "classifier").ok
    assert serving(local_env, "primary").ok


def serving(env: RunbookEnvironment, role: str, version: int = 1) -> object:
    """What the role's real Triton serves, asked directly (not through the runbook)."""
    return check_serving(role, env.params()[f"{role}_endpoint"], env.model, version)


@pytest.mark.slow
def test_regressed_version_is_served_until_the_runbook_rolls_it_back(
    local_env: RunbookEnvironment, tmp_path: Path
) -> None:
    book = parse_runbook(RUNBOOKS / "model-regression.md")
    faulted = local_env.apply("bad-version")
    assert serving(local_env, "primary", int(faulted["bad_version"])).ok
    given = {k: faulted[k] for k in ("good_version", "bad_version")}
    result = exercise(book, local_env, given, tmp_path / "log.json", RunOptions())
    assert result.ok
    good = serving(local_env, "primary", int(faulted["good_version"]))
    assert good.ok and good.ready_versions == [int(faulted["good_version"])]


@pytest.mark.slow
def test_failing_step_rolls_back_on_the_real_store(
    local_env: RunbookEnvironment, tmp_path: Path
) -> None:
    """A fallback build that does not exist: publish fails, its rollback re-pins the GPU version."""
    book = parse_runbook(RUNBOOKS / "dr-no-gpu-capacity.md")
    given = {"fallback_build": str(tmp_path / "no-such-build")}
    result = exercise(book, local_env, given, tmp_path / "log.json", RunOptions())
    assert result.log.status == "failed"
    failed = result.log.steps[-1]
    assert (failed.id, failed.exit_code) == ("serve-fallback", 2)
    assert [(r.id, r.for_step, r.status) for r in result.log.rollbacks] == [
        ("back-to-gpu-engine", "serve-fallback", "ok")
    ]
    release, _ = read_release(local_env.store("dr"), "classifier")
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


def test_local_steps_never_see_the_callers_aws_settings(tmp_path: Path) -> None:
    caller = {
        "AWS_PROFILE": "production",
        "AWS_SESSION_TOKEN": "real-token",
        "AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com",
        "HOME": "/home/me",
    }
    env = step_env("http://127.0.0.1:1", "us-east-1", tmp_path, caller)
    assert env["AWS_PROFILE"] is None and env["AWS_ENDPOINT_URL_S3"] is None
    assert env["AWS_SESSION_TOKEN"] == AWS_ENV["AWS_SESSION_TOKEN"] != "real-token"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["AWS_ACCESS_KEY_ID"] == AWS_ENV["AWS_ACCESS_KEY_ID"]
    assert "HOME" not in env and env["TRT_DR_OUTPUTS"] == str(tmp_path)
