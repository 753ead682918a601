"""The JSON run log: one record per step and per rollback, rewritten atomically after each.

The log is what ``--resume`` reads, so it holds the runbook's digest and the params the run
used; a resumed run appends to the same file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from drctl.atomic import write_atomic
from drctl.runbook.errors import ResumeError

StepStatus = Literal["ok", "failed", "skipped-local", "declined", "interrupted", "rolled-back"]
RunStatus = Literal["running", "ok", "failed", "declined", "interrupted"]
TAIL_CHARS = 4000


def now() -> str:
    """UTC timestamp with seconds precision, as written in logs."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class StepRecord(BaseModel):
    """What happened to one step: timing, exit code, budget overrun, output tail."""

    id: str
    kind: str
    command: str
    status: StepStatus
    started_at: str
    ended_at: str
    duration_seconds: float = 0.0
    exit_code: int | None = None
    budget_seconds: float
    overrun_seconds: float = 0.0
    timed_out: bool = False
    attempts: int = 0
    reason: str | None = None
    for_step: str | None = None
    output_tail: str = ""


class RunLog(BaseModel):
    """A whole run; ``steps`` keeps the latest record per step, ``history`` earlier ones."""

    runbook: str
    path: str
    sha256: str
    mode: Literal["run", "test"]
    params: dict[str, str]
    started_at: str
    finished_at: str | None = None
    status: RunStatus = "running"
    steps: list[StepRecord] = []
    rollbacks: list[StepRecord] = []
    history: list[StepRecord] = []
    resumes: list[str] = []

    def record(self, entry: StepRecord) -> None:
        """Set a step's latest record, moving any earlier one to ``history``."""
        for index, old in enumerate(self.steps):
            if old.id == entry.id:
                self.history.append(old)
                del self.steps[index]
                break
        self.steps.append(entry)

    def done(self) -> set[str]:
        """Steps that need not run again on resume."""
        return {s.id for s in self.steps if s.status in ("ok", "skipped-local")}


def default_log_path(runbook_id: str, base: Path | None = None) -> Path:
    """``.runbook-runs/<id>/<UTC timestamp>.json`` under ``base`` (default: cwd)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return (base or Path.cwd()) / ".runbook-runs" / runbook_id / f"{stamp}.json"


def write_log(log: RunLog, path: Path) -> None:
    """Atomically replace ``path`` with the log (temp file in the same folder, then rename)."""
    write_atomic(path, log.model_dump_json(indent=1))


def read_log(path: Path) -> RunLog:
    """Load a log to resume; unreadable or foreign files are bad input."""
    try:
        return RunLog.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResumeError(f"cannot read run log {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        raise ResumeError(f"{path} is not a runbook run log: {exc.error_count()} problems") from exc
