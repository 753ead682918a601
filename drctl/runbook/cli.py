"""``drctl runbook list | show | lint | plan | run | test``: thin commands over the package.

Exit codes: 0 ok, 1 a step failed (after the rollbacks were offered) or lint found problems,
2 bad input (unknown runbook, bad params, unreadable log). See docs/runbooks.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from drctl.runbook.display import StepDisplay
from drctl.runbook.errors import ParamError, RunbookError
from drctl.runbook.lint import LintReport, lint_file
from drctl.runbook.model import Runbook, Step
from drctl.runbook.params import parse_assignments
from drctl.runbook.parse import parse_runbook
from drctl.runbook.plan import make_plan
from drctl.runbook.runlog import RunLog, default_log_path, read_log
from drctl.runbook.runner import RunOptions, check_resumable, new_log, run_runbook

runbook_app = typer.Typer(
    help="Executable Markdown runbooks (runbooks/<id>.md): list, show, lint, plan, run, test. "
    "Exit codes: 0 ok, 1 a step or lint failed, 2 bad input. See docs/runbooks.md.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)
RUNBOOKS_ENV = "TRT_DR_RUNBOOKS"

DirOpt = Annotated[
    Path | None,
    typer.Option("--dir", help="Runbook folder (default: $TRT_DR_RUNBOOKS or ./runbooks)."),
]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", help="name=value (repeat).", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show every step's output, not only failed ones.")
]
LogOpt = Annotated[
    Path | None,
    typer.Option("--log", help="Run log path (default .runbook-runs/<id>/<time>.json)."),
]


def folder(directory: Path | None) -> Path:
    """Where runbooks live."""
    return directory or Path(os.environ.get(RUNBOOKS_ENV, "runbooks"))


def locate(name: str, directory: Path | None) -> Path:
    """A runbook path from an id or a path; unknown ids list what exists."""
    path = Path(name)
    if name.endswith(".md") or path.exists():
        return path
    candidate = folder(directory) / f"{name}.md"
    if candidate.exists():
        return candidate
    known = ", ".join(p.stem for p in sorted(folder(directory).glob("*.md"))) or "none"
    raise ParamError(f"no runbook '{name}' in {folder(directory)}; known: {known}")


@contextmanager
def handled(as_json: bool = False) -> Iterator[None]:
    """Runbook errors become a message saying what to do and the documented exit code."""
    try:
        yield
    except RunbookError as exc:
        if as_json:
            print(json.dumps({"error": str(exc), "exit_code": exc.exit_code}))
        else:
            errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code) from exc


def steps_table(runbook: Runbook, commands: dict[str, str] | None = None) -> Table:
    """One row per step, rollbacks included."""
    table = Table(title=f"{runbook.front.id}: {runbook.front.title}")
    for column in ("step", "kind", "budget", "requires", "safety", "command"):
        table.add_column(column)
    for step in runbook.steps:
        command = (commands or {}).get(step.id, step.command)
        table.add_row(
            step.id, step.kind, step.budget, ",".join(step.requires), _safety(step), command
        )
    return table


def _safety(step: Step) -> str:
    """Rollback, irreversibility and local-skip notes for a step."""
    notes = [f"rollback={step.rollback}"] if step.rollback else []
    notes += ["irreversible"] if step.irreversible else []
    notes += [f"local=skip ({step.reason})"] if step.local == "skip" else []
    return "; ".join(notes)


@runbook_app.command("list")
def list_command(directory: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Every runbook with its triggers, owner, RTO and when it was last exercised."""
    with handled(as_json):
        books = [parse_runbook(p) for p in sorted(folder(directory).glob("*.md"))]
    if as_json:
        print(json.dumps([b.front.model_dump(mode="json") for b in books], indent=1))
        return
    table = Table(title=f"runbooks in {folder(directory)}")
    for column in ("id", "title", "trigger", "owner", "rto", "last exercised", "steps"):
        table.add_column(column)
    for b in books:
        f = b.front
        exercised = str(f.last_exercised or "never")
        table.add_row(
            f.id, f.title, ", ".join(f.trigger), f.owner, f.rto, exercised, str(len(b.steps))
        )
    console.print(table)


@runbook_app.command("show")
def show_command(name: str, directory: DirOpt = None, as_json: JsonOpt = False) -> None:
    """A runbook's front matter and steps."""
    with handled(as_json):
        book = parse_runbook(locate(name, directory))
    if as_json:
        print(book.model_dump_json(indent=1))
        return
    console.print(book.front.model_dump(mode="json"))
    console.print(steps_table(book))


@runbook_app.command("lint")
def lint_command(
    names: Annotated[list[str] | None, typer.Argument(help="Ids or paths (default: all).")] = None,
    directory: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check runbooks: front matter, rollbacks, verifies, params, drctl commands, budgets,
    and (for the whole set) that alerts and runbook triggers name each other."""
    with handled(as_json):
        paths = [locate(n, directory) for n in names or []]
        paths = paths or sorted(folder(directory).glob("*.md"))
        if not paths:
            raise ParamError(f"no runbooks in {folder(directory)}; pass --dir")
    reports = [lint_file(p) for p in paths]
    if not names:  # the whole set: every alert has a runbook, every trigger an alert
        from drctl.monitoring.links import lint_links

        links = lint_links(folder(directory))
        reports.append(LintReport(path="alerts <-> runbook triggers", id=None, errors=links))
    if as_json:
        print(json.dumps([r.__dict__ for r in reports], indent=1))
    else:
        for r in reports:
            mark = "[green]ok[/green]" if r.ok else f"[red]{len(r.errors)} problem(s)[/red]"
            console.print(f"{r.path}: {mark}")
            for problem in r.errors:
                console.print(f"  - {problem}", markup=False)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@runbook_app.command("plan")
def plan_command(
    name: str, param: ParamOpt = None, directory: DirOpt = None, as_json: JsonOpt = False
) -> None:
    """Dry run: the steps in order with every command resolved; nothing is executed."""
    with handled(as_json):
        book = parse_runbook(locate(name, directory))
        plan = make_plan(book, parse_assignments(param or []))
    if as_json:
        rows = [
            {
                "id": p.step.id,
                "kind": p.step.kind,
                "budget_seconds": p.step.budget_seconds,
                "mutating": p.step.mutating,
                "command": p.command,
                "rollback": p.rollback_command,
                "local": p.step.local,
            }
            for p in plan.steps
        ]
        print(
            json.dumps(
                {
                    "runbook": book.front.id,
                    "params": plan.params,
                    "steps": rows,
                    "total_budget_seconds": plan.total_budget_seconds,
                    "rto_seconds": book.front.rto_seconds,
                },
                indent=1,
            )
        )
        return
    resolved = {p.step.id: p.command for p in plan.steps}
    for p in plan.steps:
        if p.step.rollback and p.rollback_command:
            resolved[p.step.rollback] = p.rollback_command
    console.print(steps_table(book, resolved))
    console.print(f"budgets {plan.total_budget_seconds:.0f}s of RTO {book.front.rto}")


def finish(log: RunLog, log_path: Path, as_json: bool) -> None:
    """Print the run summary and exit 1 unless it succeeded."""
    if as_json:
        print(log.model_dump_json(indent=1))
    else:
        table = Table(title=f"{log.runbook}: {log.status} (log {log_path})")
        for column in ("step", "kind", "status", "exit", "seconds", "budget", "overrun"):
            table.add_column(column)
        for r in [*log.steps, *log.rollbacks]:
            table.add_row(
                r.id,
                r.kind if not r.for_step else f"rollback of {r.for_step}",
                r.status,
                str(r.exit_code),
                f"{r.duration_seconds:.1f}",
                f"{r.budget_seconds:.0f}",
                f"{r.overrun_seconds:.1f}",
            )
        console.print(table)
    if log.status != "ok":
        raise typer.Exit(1)


@runbook_app.command("run")
def run_command(
    name: str,
    param: ParamOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before mutating steps.")] = False,
    log: LogOpt = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Continue the run in this log.")
    ] = None,
    directory: DirOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Execute a runbook; on failure offer its rollbacks newest first; --resume continues."""
    with handled(as_json):
        book = parse_runbook(locate(name, directory))
        if resume is not None:
            if param:
                raise ParamError("--resume reuses the logged params; drop --param")
            run_log, log_path = read_log(resume), resume
            check_resumable(book, run_log)
        else:
            plan = make_plan(book, parse_assignments(param or []))
            run_log, log_path = (
                new_log(book, plan.params, "run"),
                log or default_log_path(book.front.id),
            )
        display = StepDisplay(errors, quiet=as_json, verbose=verbose)
        options = RunOptions(
            yes=yes,
            confirm=lambda q: typer.confirm(q, default=False, err=True),
            observe=display.observe,
            starting=display.starting,
        )
        run_log = run_runbook(book, run_log, log_path, options)
    finish(run_log, log_path, as_json)


@runbook_app.command("test")
def test_command(
    name: str,
    param: ParamOpt = None,
    update_exercised: Annotated[
        bool, typer.Option("--update-exercised", help="Set last_exercised on success.")
    ] = False,
    log: LogOpt = None,
    directory: DirOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a runbook end to end against the local environment (moto, stand-ins, real builds)."""
    with handled(as_json):
        path = locate(name, directory)
        book = parse_runbook(path)
        given = parse_assignments(param or [])
        log_path = log or default_log_path(book.front.id)
        display = StepDisplay(errors, quiet=as_json, verbose=verbose)
        options = RunOptions(observe=display.observe, starting=display.starting)
        from drctl.runbook.exercise import exercise  # moto, Triton, matplotlib: `test` only
        from drctl.runbook.localenv import RunbookEnvironment

        with tempfile.TemporaryDirectory(prefix="runbook-env-") as tmp:
            errors.print("starting the local rehearsal environment (moto, stand-ins, Tritons)")
            with RunbookEnvironment(Path(tmp)) as env:
                result = exercise(book, env, given, log_path, options, update_exercised)
    if result.marked and not as_json:
        errors.print(f"last_exercised updated in {path}")
    finish(result.log, log_path, as_json)
