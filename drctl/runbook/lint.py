"""``drctl runbook lint``: the rules that make a runbook safe to execute.

- front matter valid and its ``id`` equal to the file name;
- step ids unique; ``requires`` names earlier main steps; a ``rollback=`` names a rollback step;
- every ``run`` declares a rollback or ``irreversible=true``, and some ``verify`` requires it;
- every rollback step is used; ``local=skip`` carries a ``reason``; ``needs=`` names known
  capabilities;
- every ``{{ param }}`` is declared; the main steps' budgets fit in the RTO objective;
- every ``drctl ...`` a command runs exists in the real CLI, with existing options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drctl.runbook.commands import check_invocation, cli_group, drctl_invocations
from drctl.runbook.errors import RunbookParseError
from drctl.runbook.model import KNOWN_NEEDS, Runbook, Step
from drctl.runbook.params import references, render
from drctl.runbook.parse import parse_runbook


@dataclass
class LintReport:
    """Problems found in one runbook file; ``ok`` when there are none."""

    path: str
    id: str | None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the runbook passed every rule."""
        return not self.errors


def lint_file(path: Path) -> LintReport:
    """Parse then lint; a file that does not parse is reported, not raised."""
    try:
        runbook = parse_runbook(path)
    except RunbookParseError as exc:
        return LintReport(str(path), None, [str(exc)])
    return lint(runbook, expected_id=path.stem)


def lint(runbook: Runbook, expected_id: str | None = None) -> LintReport:
    """Every rule over a parsed runbook."""
    report = LintReport(runbook.path, runbook.front.id)
    if expected_id is not None and runbook.front.id != expected_id:
        report.errors.append(f"id '{runbook.front.id}' must equal the file name '{expected_id}'")
    if not runbook.main_steps:
        report.errors.append("no steps: add ```check / ```run / ```verify blocks")
    report.errors += _structure(runbook)
    report.errors += _params(runbook)
    report.errors += _drctl_commands(runbook)
    report.errors += _budget(runbook)
    return report


def _structure(runbook: Runbook) -> list[str]:
    """Ids, requires, rollbacks, verifies, local skips."""
    errors: list[str] = []
    seen: set[str] = set()
    rollbacks = {s.id for s in runbook.steps if s.kind == "rollback"}
    used: set[str] = set()
    verified = {r for s in runbook.steps if s.kind == "verify" for r in s.requires}
    for step in runbook.steps:
        where = f"line {step.line} step '{step.id}'"
        if step.id in seen:
            errors.append(f"{where}: id used twice")
        if step.kind != "rollback":
            errors += [
                f"{where}: requires '{r}', which is not an earlier check/run/verify step"
                for r in step.requires
                if r not in seen or r in rollbacks
            ]
            seen.add(step.id)
        errors += _run_rules(step, where, rollbacks, verified)
        if step.rollback:
            used.add(step.rollback)
        if step.local == "skip" and not step.reason:
            errors.append(f"{where}: local=skip needs reason='why it cannot run locally'")
        unknown = sorted(set(step.needs) - KNOWN_NEEDS)
        if unknown:
            errors.append(f"{where}: unknown needs {', '.join(unknown)}; known: {_known()}")
    errors += [f"rollback step '{r}' is never used by a run step" for r in sorted(rollbacks - used)]
    return errors


def _known() -> str:
    """The capabilities a step may declare, for messages."""
    return ", ".join(sorted(KNOWN_NEEDS))


def _run_rules(step: Step, where: str, rollbacks: set[str], verified: set[str]) -> list[str]:
    """A run step has exactly one of rollback / irreversible, and a verify after it."""
    errors = []
    if step.rollback and step.kind != "run":
        errors.append(f"{where}: only run steps take rollback=")
    if step.kind != "run":
        return errors
    if step.rollback and step.irreversible:
        errors.append(f"{where}: give rollback= or irreversible=true, not both")
    elif not step.rollback and not step.irreversible:
        errors.append(f"{where}: run steps need rollback=<step id> or irreversible=true")
    if step.rollback and step.rollback not in rollbacks:
        errors.append(f"{where}: rollback '{step.rollback}' is not a rollback step")
    if step.id not in verified:
        errors.append(f"{where}: no verify step has requires={step.id}")
    return errors


def _params(runbook: Runbook) -> list[str]:
    """Every placeholder names a declared param."""
    declared = {p.name for p in runbook.front.params}
    return [
        f"line {step.line} step '{step.id}': unknown param '{{{{ {name} }}}}'"
        for step in runbook.steps
        for name in references(step.command)
        if name not in declared
    ]


def _drctl_commands(runbook: Runbook) -> list[str]:
    """Each ``drctl`` invocation resolves in the real CLI (params filled with samples)."""
    samples = {p.name: p.default or f"sample-{p.name}" for p in runbook.front.params}
    root = cli_group()
    errors = []
    for step in runbook.steps:
        if any(name not in samples for name in references(step.command)):
            continue
        for args in drctl_invocations(render(step.command, samples)):
            problem = check_invocation(args, root)
            if problem:
                errors.append(f"line {step.line} step '{step.id}': {problem}")
    return errors


def _budget(runbook: Runbook) -> list[str]:
    """The main steps' budgets add up to no more than the RTO objective."""
    total = sum(s.budget_seconds for s in runbook.main_steps)
    if total > runbook.front.rto_seconds:
        return [f"step budgets add up to {total:.0f}s, over the RTO {runbook.front.rto}"]
    return []
