"""Find ``drctl`` invocations in a step's shell text and check them against the real CLI.

The command tree comes from ``typer.main.get_command(drctl.cli.app)``, so lint follows the CLI
as it is, not a list that can go stale: the command path, every option and the number of
positional arguments are checked. Typer 0.29 vendors its own click, so the tree is walked by
duck typing (``commands``, ``params``, ``param_type_name``), not ``isinstance`` on click.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

import typer.main

SEPARATORS = frozenset({"|", "||", "&&", ";", "&", "(", ")", "$", "`", "{", "}"})


def segments(command: str) -> Iterator[list[str]]:
    """Simple commands (word lists) in a shell text, split at operators and newlines."""
    for line in command.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        current: list[str] = []
        try:
            words = list(lexer)
        except ValueError:
            words = line.split()
        for word in words:
            if word in SEPARATORS or set(word) <= set("|&;()<>"):
                if current:
                    yield current
                current = []
            else:
                current.append(word)
        if current:
            yield current


def drctl_invocations(command: str) -> list[list[str]]:
    """Argument lists of every ``drctl ...`` in the text (leading VAR=value words skipped)."""
    found = []
    for words in segments(command):
        while words and "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]
        if words and words[0] == "drctl":
            found.append(words[1:])
    return found


def cli_group() -> Any:
    """The drctl CLI as a click command tree (imported late: drctl.cli registers us)."""
    from drctl.cli import app

    return typer.main.get_command(app)


def check_invocation(args: list[str], root: Any = None) -> str | None:
    """Why ``drctl <args>`` is not a valid command line, or None when it is."""
    command = root or cli_group()
    path = ["drctl"]
    rest = list(args)
    while isinstance(getattr(command, "commands", None), dict):
        if not rest or rest[0].startswith("-"):
            return f"`{' '.join(path)}` needs a subcommand ({', '.join(command.commands)})"
        sub = command.commands.get(rest[0])
        if sub is None:
            return f"`{' '.join(path)} {rest[0]}` does not exist"
        path.append(rest.pop(0))
        command = sub
    return _check_params(command, " ".join(path), rest)


def _check_params(command: Any, name: str, args: list[str]) -> str | None:
    """Options exist, values follow options that take one, positional count fits."""
    options: dict[str, Any] = {}
    for param in command.params:
        if param.param_type_name == "option":
            for opt in (*param.opts, *param.secondary_opts):
                options[opt] = param
    positional = 0
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word == "--help":
            return None
        if word.startswith("-") and word != "-":
            flag, has_value, _ = word.partition("=")
            option = options.get(flag)
            if option is None:
                return f"`{name}` has no option {flag}"
            if not option.is_flag and not option.count and not has_value:
                index += 1
            continue
        positional += 1
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    needed = sum(1 for a in arguments if a.required)
    allowed = float("inf") if any(a.nargs == -1 for a in arguments) else len(arguments)
    if positional < needed or positional > allowed:
        names = " ".join(str(a.name).upper() for a in arguments) or "no arguments"
        return f"`{name}` takes {names}; got {positional} positional argument(s)"
    return None
