"""``drctl runbook test``: run a runbook end to end against the local environment.

The runbook's ``local_fault`` is injected first, params the environment knows (``model``,
health check ids, ``fallback_build``, versions a fault created, ...) fill params of the same
name unless given, and the run is non-interactive (``yes``) in local mode: ``local=skip``
steps are logged as skipped with their reason; a step needing what the environment lacks
fails the test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from drctl.runbook.exercised import mark_exercised
from drctl.runbook.model import Runbook
from drctl.runbook.params import resolve
from drctl.runbook.runlog import RunLog
from drctl.runbook.runner import RunOptions, new_log, run_runbook

if TYPE_CHECKING:  # the environment pulls in moto, Triton and matplotlib: only for `test`
    from drctl.runbook.localenv import RunbookEnvironment


@dataclass(frozen=True)
class ExerciseResult:
    """A local test run: its log, where it was written, whether last_exercised was updated."""

    log: RunLog
    log_path: Path
    marked: bool

    @property
    def ok(self) -> bool:
        """True when every step passed or was declared local=skip."""
        return self.log.status == "ok"


def exercise(
    runbook: Runbook,
    env: RunbookEnvironment,
    given: Mapping[str, str],
    log_path: Path,
    options: RunOptions,
    mark: bool = False,
) -> ExerciseResult:
    """Inject the fault, resolve params, run in local mode; mark exercised on success if asked."""
    offered = {**env.params(), **env.apply(runbook.front.local_fault)}
    declared = {p.name for p in runbook.front.params}
    params = resolve(runbook, {**{k: v for k, v in offered.items() if k in declared}, **given})
    local = replace(options, yes=True, local=True, capabilities=env.capabilities, env=env.env())
    log = run_runbook(runbook, new_log(runbook, params, "test"), log_path, local)
    marked = False
    if log.status == "ok" and mark:
        mark_exercised(Path(runbook.path))
        marked = True
    return ExerciseResult(log, log_path, marked)
