"""What the operator sees while a runbook runs: the step announced, a live spinner with the
elapsed time against the budget, and one result line per step (with the output tail when
it failed). Everything goes to stderr so ``--json`` output on stdout stays clean.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from drctl.runbook.model import Step
from drctl.runbook.runlog import StepRecord

TAIL_SHOWN = 1500


class StepDisplay:
    """Callbacks for ``RunOptions.starting`` and ``RunOptions.observe``."""

    def __init__(self, console: Console, quiet: bool = False, verbose: bool = False) -> None:
        self.console, self.quiet, self.verbose = console, quiet, verbose
        self._live: Progress | None = None

    def starting(self, step: Step, command: str) -> None:
        """Announce the step and show a spinner with elapsed time until it ends."""
        if self.quiet:
            return
        self.console.print(f"[bold]>[/bold] {step.id}: {command}", highlight=False)
        self._live = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._live.start()
        self._live.add_task(f"{step.kind} {step.id} (budget {step.budget})", total=None)

    def observe(self, record: StepRecord) -> None:
        """Stop the spinner and print the step's outcome."""
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self.quiet:
            return
        colour = {"ok": "green", "skipped-local": "yellow"}.get(record.status, "red")
        what = f"rollback for {record.for_step}" if record.for_step else record.kind
        over = f", over budget by {record.overrun_seconds:.1f}s" if record.overrun_seconds else ""
        why = f" - {record.reason}" if record.reason else ""
        self.console.print(
            f"[{colour}]{record.status}[/{colour}] {record.id} ({what}, exit "
            f"{record.exit_code}, {record.duration_seconds:.1f}s{over}){why}",
            highlight=False,
        )
        if (record.status == "failed" or self.verbose) and record.output_tail:
            self.console.print(record.output_tail[-TAIL_SHOWN:], markup=False, highlight=False)
