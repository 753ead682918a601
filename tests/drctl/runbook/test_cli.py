"""A few CliRunner tests of ``drctl runbook``: exit codes, prompts, logs, resume."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from drctl.cli import app
from tests.drctl.runbook.conftest import block, write_runbook

runner = CliRunner()
BODY = (
    block("check id=pre budget=5s", "echo pre >> {{ trail }}")
    + block("run id=act budget=5s rollback=undo", "echo act >> {{ trail }}")
    + block("rollback id=undo budget=5s", "echo undo >> {{ trail }}")
    + block("verify id=gate requires=act budget=5s", "test -f {{ trail }}.ok")
)


def drctl(*args: str | Path, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["runbook", *[str(a) for a in args]], input=stdin)
    return result.exit_code, result.output


def test_list_show_and_lint_the_shipped_runbooks() -> None:
    code, out = drctl("list", "--json")
    assert code == 0
    assert "region-outage" in {b["id"] for b in json.loads(out)}
    code, out = drctl("show", "model-regression")
    assert code == 0 and "roll-forward" in out
    assert drctl("lint")[0] == 0


def test_lint_failure_exits_1_and_unknown_runbook_exits_2(tmp_path: Path) -> None:
    write_runbook(tmp_path, block("run id=act budget=5s", "drctl nope"))
    code, out = drctl("lint", "--dir", tmp_path)
    assert code == 1 and "`drctl nope` does not exist" in out
    code, out = drctl("plan", "missing", "--dir", tmp_path, "--json")
    assert code == 2 and json.loads(out)["error"].endswith("known: demo")


def test_plan_resolves_params_and_requires_missing_ones(tmp_path: Path) -> None:
    code, out = drctl("plan", "model-regression", "--json", "--param", "good_version=1")
    assert code == 2 and "bad_version" in out
    code, out = drctl(
        "plan",
        "model-regression",
        "--json",
        "--param",
        "good_version=1",
        "--param",
        "bad_version=2",
    )
    plan = json.loads(out)
    assert code == 0
    roll_back = next(s for s in plan["steps"] if s["id"] == "roll-back")
    assert roll_back["command"].endswith("--to 1 --load")
    assert roll_back["rollback"].endswith("--to 2 --load")


def test_run_asks_rolls_back_then_resume_finishes(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, BODY)
    trail, log = tmp_path / "trail", tmp_path / "log.json"
    code, out = drctl("run", path, "--param", f"trail={trail}", "--log", log, stdin="y\nn\n")
    assert code == 1
    assert "Proceed?" in out
    assert trail.read_text().split() == ["pre", "act"]  # rollback declined
    assert json.loads(log.read_text())["status"] == "failed"
    code, out = drctl("run", path, "--resume", log, "--param", "x=1")
    assert code == 2 and "drop --param" in out
    (tmp_path / "trail.ok").touch()
    code, _ = drctl("run", path, "--resume", log, "--yes")
    assert code == 0
    assert trail.read_text().split() == ["pre", "act"]
    assert json.loads(log.read_text())["status"] == "ok"


def test_resume_refuses_a_changed_runbook(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, BODY)
    log = tmp_path / "log.json"
    assert drctl("run", path, "--param", f"trail={tmp_path}/t", "--log", log, "--yes")[0] == 1
    path.write_text(path.read_text() + "\nmore prose\n")
    code, out = drctl("run", path, "--resume", log)
    assert code == 2 and "changed since this run started" in out
