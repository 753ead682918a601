"""The runner with plain shell steps: order, rollbacks, resume, confirmation, budgets, local."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from drctl.runbook.parse import parse_runbook
from drctl.runbook.runlog import read_log
from drctl.runbook.runner import RunOptions, check_resumable, new_log, run_runbook
from tests.drctl.runbook.conftest import block, write_runbook

STEPS = (
    block("check id=pre budget=5s", "echo pre >> {{ trail }}")
    + block("run id=one budget=5s rollback=undo-one", "echo one >> {{ trail }}")
    + block("rollback id=undo-one budget=5s", "echo undo-one >> {{ trail }}")
    + block("run id=two budget=5s rollback=undo-two", "echo two >> {{ trail }}")
    + block("rollback id=undo-two budget=5s", "echo undo-two >> {{ trail }}")
    + block("verify id=gate requires=one,two budget=5s", "test -f {{ trail }}.ok")
    + block("run id=three budget=5s irreversible=true", "echo three >> {{ trail }}")
    + block("verify id=after requires=three budget=5s", "echo after >> {{ trail }}")
)


def start(tmp_path: Path, body: str = STEPS, **options: object) -> tuple[Path, Path, object]:
    path = write_runbook(tmp_path, body)
    book = parse_runbook(path)
    trail = tmp_path / "trail.txt"
    log = new_log(book, {"trail": str(trail)}, "run")
    log_path = tmp_path / "log.json"
    result = run_runbook(book, log, log_path, RunOptions(**options))  # type: ignore[arg-type]
    return trail, log_path, result


def test_all_steps_pass_in_order_and_log_each(tmp_path: Path) -> None:
    (tmp_path / "trail.txt.ok").touch()
    trail, log_path, _ = start(tmp_path, yes=True)
    assert trail.read_text().split() == ["pre", "one", "two", "three", "after"]
    log = json.loads(log_path.read_text())
    assert log["status"] == "ok"
    assert [s["id"] for s in log["steps"]] == ["pre", "one", "two", "gate", "three", "after"]
    assert all(s["exit_code"] == 0 and s["overrun_seconds"] == 0 for s in log["steps"])
    assert all(s["started_at"] <= s["ended_at"] for s in log["steps"])


def test_a_failing_step_runs_declared_rollbacks_newest_first(tmp_path: Path) -> None:
    trail, log_path, _ = start(tmp_path, yes=True)
    assert trail.read_text().split() == ["pre", "one", "two", "undo-two", "undo-one"]
    log = read_log(log_path)
    assert log.status == "failed"
    assert [(r.id, r.for_step, r.status) for r in log.rollbacks] == [
        ("undo-two", "two", "ok"),
        ("undo-one", "one", "ok"),
    ]
    assert {s.id: s.status for s in log.steps}["one"] == "rolled-back"


def test_resume_skips_completed_steps(tmp_path: Path) -> None:
    """Rollbacks declined: the completed steps stay done and are not repeated on resume."""
    asked: list[str] = []

    def confirm(prompt: str) -> bool:
        asked.append(prompt)
        return "rollback" not in prompt

    trail, log_path, _ = start(tmp_path, confirm=confirm)
    assert trail.read_text().split() == ["pre", "one", "two"]
    assert len(asked) == 4  # one, two, then the two rollbacks (declined)
    (tmp_path / "trail.txt.ok").touch()
    book = parse_runbook(tmp_path / "demo.md")
    log = read_log(log_path)
    check_resumable(book, log)
    resumed = run_runbook(book, log, log_path, RunOptions(yes=True))
    assert resumed.status == "ok"
    assert trail.read_text().split() == ["pre", "one", "two", "three", "after"]
    assert [h.id for h in resumed.history] == ["gate"]
    assert len(resumed.resumes) == 1


def test_declining_a_mutating_step_stops_without_running_it(tmp_path: Path) -> None:
    trail, _, result = start(tmp_path, confirm=lambda _q: False)
    assert trail.read_text().split() == ["pre"]
    assert result.status == "declined"  # type: ignore[attr-defined]
    assert result.steps[-1].status == "declined"  # type: ignore[attr-defined]


def test_overrun_is_recorded_and_timeout_kills(tmp_path: Path) -> None:
    body = block("check id=slow budget=100ms timeout=5s", "sleep 0.4") + block(
        "check id=hung budget=100ms timeout=300ms", "sleep 30"
    )
    _, _, log = start(tmp_path, body)
    slow, hung = log.steps  # type: ignore[attr-defined]
    assert slow.status == "ok" and slow.overrun_seconds > 0.2
    assert hung.status == "failed" and hung.timed_out and hung.exit_code == 124
    assert hung.duration_seconds < 10


def test_poll_retries_until_success(tmp_path: Path) -> None:
    body = block(
        "check id=third-time budget=5s poll=100ms",
        "echo x >> {{ trail }}; test $(wc -l < {{ trail }}) -ge 3",
    )
    _, _, log = start(tmp_path, body)
    assert log.steps[0].status == "ok" and log.steps[0].attempts == 3  # type: ignore[attr-defined]


def test_local_mode_skips_declared_steps_and_fails_on_missing_needs(tmp_path: Path) -> None:
    body = block(
        "check id=skipped budget=5s needs=triton local=skip reason='no triton'", "false"
    ) + block("check id=needs-k8s budget=5s needs=kubectl", "true")
    _, _, log = start(tmp_path, body, local=True, capabilities=frozenset({"s3"}))
    skipped, lacking = log.steps  # type: ignore[attr-defined]
    assert (skipped.status, skipped.reason) == ("skipped-local", "no triton")
    assert lacking.status == "failed" and "kubectl" in (lacking.reason or "")
    assert log.status == "failed"  # type: ignore[attr-defined]


def test_drctl_in_a_step_is_this_interpreters_drctl(tmp_path: Path) -> None:
    command = "drctl runbook --help > {{ trail }}.help; grep lint {{ trail }}.help"
    body = block("check id=cli budget=60s", command)
    _, _, log = start(tmp_path, body)
    assert log.status == "ok"  # type: ignore[attr-defined]


def test_ctrl_c_kills_the_step_and_leaves_a_resumable_log(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    body = block("check id=long budget=60s", f"echo $$ > {pid_file}; sleep 30")

    def ctrl_c_once_the_step_runs() -> None:
        deadline = time.monotonic() + 20.0
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    # pytest-xdist workers may ignore SIGINT; an operator's terminal does not.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Thread(target=ctrl_c_once_the_step_runs)
    timer.start()
    try:
        _, log_path, log = start(tmp_path, body)
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert log.status == "interrupted"  # type: ignore[attr-defined]
    assert read_log(log_path).steps[0].status == "interrupted"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
