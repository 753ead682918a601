"""Runbook parameters: ``{{ name }}`` in commands, values from defaults and ``--param k=v``.

Values are inserted shell-quoted (``shlex.quote``), so a value can never inject a command;
write placeholders as whole words, not inside quotes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

from drctl.runbook.errors import ParamError
from drctl.runbook.model import Runbook

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def references(command: str) -> list[str]:
    """Parameter names a command refers to, in order."""
    return PLACEHOLDER.findall(command)


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` from the command line into a dict."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParamError(f"--param '{item}' must be name=value")
        values[name.strip()] = value
    return values


def resolve(runbook: Runbook, given: Mapping[str, str]) -> dict[str, str]:
    """Every declared param's value: given, else its default; unknown or missing is an error."""
    declared = {p.name: p for p in runbook.front.params}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParamError(
            f"unknown param(s) {', '.join(unknown)} for {runbook.front.id}; "
            f"declared: {', '.join(declared) or 'none'}"
        )
    values: dict[str, str] = {}
    missing = []
    for name, param in declared.items():
        value = given.get(name, param.default)
        if value is None:
            missing.append(f"{name} ({param.description})")
        else:
            values[name] = value
    if missing:
        raise ParamError(f"give --param name=value for: {'; '.join(missing)}")
    return values


def render(command: str, values: Mapping[str, str]) -> str:
    """The command with each placeholder replaced by its shell-quoted value."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ParamError(f"'{{{{ {name} }}}}' is not a declared param")
        return shlex.quote(values[name])

    return PLACEHOLDER.sub(substitute, command)
