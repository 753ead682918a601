"""Run one step's command: bash with pipefail, a hard timeout, polling, and drctl on PATH.

``drctl`` in a command is always the drctl of the interpreter running the runbook: a shim
script placed first on ``PATH`` runs ``sys.executable -c 'from drctl.cli import app; app()'``.
The interpreter's own ``bin`` folder comes next, so ``python`` and ``aws`` from the same
environment are found before the system's.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drctl.runbook.model import Step, parse_duration

SHIM = """#!/bin/sh
exec {python} -c 'from drctl.cli import app; app(prog_name="drctl")' "$@"
"""
TIMEOUT_EXIT = 124


@dataclass(frozen=True)
class Outcome:
    """Result of executing a step (all attempts when it polls)."""

    exit_code: int
    output: str
    seconds: float
    attempts: int
    timed_out: bool


def write_shim(folder: Path) -> Path:
    """A ``drctl`` executable in ``folder`` bound to this interpreter; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "drctl"
    shim.write_text(SHIM.format(python=shlex.quote(sys.executable)))
    shim.chmod(0o755)
    return folder


def step_environment(shim_dir: Path, extra: Mapping[str, str | None] | None) -> dict[str, str]:
    """Our environment plus ``extra`` (None removes a variable), with the shim first on PATH."""
    env = dict(os.environ)
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    path = [str(shim_dir), str(Path(sys.executable).parent), env.get("PATH", "")]
    env["PATH"] = os.pathsep.join(p for p in path if p)
    return env


def run_once(command: str, env: Mapping[str, str], timeout: float) -> tuple[int, str, bool]:
    """(exit code, combined output, timed out); the whole process group dies on timeout."""
    proc = subprocess.Popen(
        ["bash", "-o", "pipefail", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=dict(env),
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        return proc.returncode, output, False
    except subprocess.TimeoutExpired:
        _kill(proc)
        output, _ = proc.communicate()
        return TIMEOUT_EXIT, output + f"\n[killed after {timeout:.0f}s]\n", True
    except BaseException:
        _kill(proc)  # Ctrl-C: the step runs in its own session, so it must be killed here
        proc.communicate()
        raise


def _kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the step's whole process group (it may have started children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def execute(step: Step, command: str, env: Mapping[str, str]) -> Outcome:
    """Run ``command``; with ``poll=`` retry until an expected exit code or the budget is spent.

    The budget is soft (overrun is recorded by the caller); ``timeout`` (default 3 budgets)
    is the hard limit at which the command is killed.
    """
    start = time.monotonic()
    deadline = start + step.timeout_seconds
    interval = parse_duration(step.poll) if step.poll else None
    attempts = 0
    outputs: list[str] = []
    while True:
        attempts += 1
        remaining = max(deadline - time.monotonic(), 0.1)
        code, output, timed_out = run_once(command, env, remaining)
        outputs.append(output)
        elapsed = time.monotonic() - start
        retry = (
            interval is not None
            and code not in step.expect
            and not timed_out
            and elapsed + interval < step.budget_seconds
        )
        if not retry:
            return Outcome(code, "".join(outputs[-2:]), elapsed, attempts, timed_out)
        time.sleep(interval or 0)
