"""``drctl runbook run``: execute the steps in order, log each one, roll back on failure.

- ``check``/``verify`` steps only read and run without asking; ``run``/``rollback`` steps ask
  ``confirm`` first unless ``yes``. Declining stops the run (status ``declined``, resumable);
  so does Ctrl-C during a step, which kills the step (status ``interrupted``, resumable).
- A step succeeds when its exit code is in ``expect`` (default 0). Budgets are soft: the log
  records ``overrun_seconds``; the hard ``timeout`` kills the step (exit 124, failed).
- On failure the rollbacks of the run steps that completed (and of the failed step itself,
  which may have half-applied) are offered newest first; each one runs only if confirmed.
  Rolled-back steps are marked ``rolled-back`` so a resumed run repeats them.
- The log is rewritten atomically after every step; ``resume`` continues a logged run,
  skipping steps that are ``ok`` (or skipped locally).
- In local mode (``drctl runbook test``) a step marked ``local=skip`` is logged as skipped with
  its reason, and a step that ``needs=`` something the environment lacks fails loudly.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drctl.runbook.errors import ResumeError
from drctl.runbook.execute import Outcome, execute, step_environment, write_shim
from drctl.runbook.model import Runbook, Step
from drctl.runbook.params import render
from drctl.runbook.runlog import TAIL_CHARS, RunLog, RunStatus, StepRecord, now, write_log

Confirm = Callable[[str], bool]
STOPPED: dict[str, RunStatus] = {"declined": "declined", "interrupted": "interrupted"}
Observer = Callable[[StepRecord], None]


@dataclass
class RunOptions:
    """How to run: confirmation, extra environment, local (test) mode and a step observer."""

    yes: bool = False
    confirm: Confirm = field(default=lambda _prompt: False)
    env: Mapping[str, str | None] = field(default_factory=dict)
    local: bool = False
    capabilities: frozenset[str] = frozenset()
    observe: Observer = field(default=lambda _record: None)
    starting: Callable[[Step, str], None] = field(default=lambda _step, _command: None)


def new_log(runbook: Runbook, params: Mapping[str, str], mode: str) -> RunLog:
    """A fresh log for a run of ``runbook`` with ``params``."""
    return RunLog.model_validate(
        {
            "runbook": runbook.front.id,
            "path": runbook.path,
            "sha256": runbook.sha256,
            "mode": mode,
            "params": dict(params),
            "started_at": now(),
        }
    )


def check_resumable(runbook: Runbook, log: RunLog) -> None:
    """A log can be resumed only for the same, unchanged runbook and an unfinished run."""
    if log.runbook != runbook.front.id:
        raise ResumeError(f"the log is of runbook '{log.runbook}', not '{runbook.front.id}'")
    if log.sha256 != runbook.sha256:
        raise ResumeError(
            f"{runbook.path} changed since this run started; start a new run instead of resuming"
        )
    if log.status == "ok":
        raise ResumeError("that run finished successfully; there is nothing to resume")


def run_runbook(runbook: Runbook, log: RunLog, log_path: Path, options: RunOptions) -> RunLog:
    """Run (or resume) ``runbook``, writing ``log`` to ``log_path`` after every step."""
    if log.steps:
        log.resumes.append(now())
    log.status, log.finished_at = "running", None
    write_log(log, log_path)
    with tempfile.TemporaryDirectory(prefix="runbook-shim-") as tmp:
        env = step_environment(write_shim(Path(tmp)), options.env)
        failed = _main_steps(runbook, log, log_path, options, env)
        if failed is not None and log.status == "failed":  # not on declined / interrupted
            _roll_back(runbook, log, log_path, options, env, failed)
    log.finished_at = now()
    if log.status == "running":
        log.status = "ok"
    write_log(log, log_path)
    return log


def _main_steps(
    runbook: Runbook, log: RunLog, log_path: Path, options: RunOptions, env: dict[str, str]
) -> Step | None:
    """Run the main steps in order; the step that failed or was declined, else None."""
    done = log.done()
    for step in runbook.main_steps:
        if step.id in done:
            continue
        command = render(step.command, log.params)
        record = _gate(step, command, log, options)
        if record is None:
            options.starting(step, command)
            record = _execute_main(step, command, env)
        log.record(record)
        write_log(log, log_path)
        options.observe(record)
        if record.status != "ok" and record.status != "skipped-local":
            log.status = STOPPED.get(record.status, "failed")
            return step
    return None


def _execute_main(step: Step, command: str, env: dict[str, str]) -> StepRecord:
    """Execute a main step; Ctrl-C kills it and is recorded so the run can be resumed."""
    try:
        return _record(step, command, execute(step, command, env))
    except KeyboardInterrupt:
        reason = "interrupted by the operator (Ctrl-C); --resume runs this step again"
        return _blocked(step, command, "interrupted", reason)


def _gate(step: Step, command: str, log: RunLog, options: RunOptions) -> StepRecord | None:
    """A record that replaces running the step (skip, lacking, unmet, declined), or None."""
    unmet = [r for r in step.requires if r not in log.done()]
    if unmet:
        return _blocked(step, command, "failed", f"requires {', '.join(unmet)}, not done")
    if options.local:
        if step.local == "skip":
            return _blocked(step, command, "skipped-local", step.reason)
        lacking = sorted(set(step.needs) - options.capabilities)
        if lacking:
            return _blocked(
                step,
                command,
                "failed",
                f"needs {', '.join(lacking)}, which the local environment lacks; "
                "mark the step local=skip reason='...' or extend the environment",
            )
    if step.mutating and not options.yes and not options.confirm(_prompt(step, command)):
        return _blocked(step, command, "declined", "the operator declined")
    return None


def _prompt(step: Step, command: str) -> str:
    """The confirmation question for a mutating step."""
    return f"{step.kind} step '{step.id}' will execute:\n  {command}\nProceed?"


def _blocked(step: Step, command: str, status: str, reason: str | None) -> StepRecord:
    """A record for a step that did not execute."""
    stamp = now()
    return StepRecord.model_validate(
        {
            "id": step.id,
            "kind": step.kind,
            "command": command,
            "status": status,
            "started_at": stamp,
            "ended_at": stamp,
            "budget_seconds": step.budget_seconds,
            "reason": reason,
        }
    )


def _record(step: Step, command: str, outcome: Outcome, for_step: str | None = None) -> StepRecord:
    """A record for an executed step, with its budget overrun."""
    ended = now()
    ok = outcome.exit_code in step.expect and not outcome.timed_out
    return StepRecord(
        id=step.id,
        kind=step.kind,
        command=command,
        status="ok" if ok else "failed",
        started_at=_started(ended, outcome.seconds),
        ended_at=ended,
        duration_seconds=round(outcome.seconds, 3),
        exit_code=outcome.exit_code,
        budget_seconds=step.budget_seconds,
        overrun_seconds=round(max(0.0, outcome.seconds - step.budget_seconds), 3),
        timed_out=outcome.timed_out,
        attempts=outcome.attempts,
        for_step=for_step,
        output_tail=outcome.output[-TAIL_CHARS:],
    )


def _started(ended: str, seconds: float) -> str:
    """The start timestamp from the end and the measured duration."""
    return (dt.datetime.fromisoformat(ended) - dt.timedelta(seconds=seconds)).isoformat(
        timespec="milliseconds"
    )


def _roll_back(
    runbook: Runbook,
    log: RunLog,
    log_path: Path,
    options: RunOptions,
    env: dict[str, str],
    failed: Step,
) -> None:
    """Offer the declared rollbacks of completed run steps (and the failed one), newest first."""
    done = [r.id for r in log.steps if r.status == "ok"]
    attempted = any(r.id == failed.id and r.exit_code is not None for r in log.steps)
    candidates = [*done, failed.id] if attempted else done
    for step_id in reversed(candidates):
        step = runbook.step(step_id)
        rollback = runbook.step(step.rollback) if step and step.rollback else None
        if rollback is None:
            continue
        command = render(rollback.command, log.params)
        record = _gate(rollback, command, log, options)
        if record is None:
            options.starting(rollback, command)
            record = _record(rollback, command, execute(rollback, command, env), step_id)
        record.for_step = step_id
        log.rollbacks.append(record)
        if record.status == "ok":
            _mark_rolled_back(log, step_id)
        write_log(log, log_path)
        options.observe(record)


def _mark_rolled_back(log: RunLog, step_id: str) -> None:
    """A rolled-back step must run again on resume."""
    for record in log.steps:
        if record.id == step_id and record.status == "ok":
            record.status = "rolled-back"
