"""Runbook failures; each carries the CLI exit code the project's rule assigns to it."""

from __future__ import annotations


class RunbookError(Exception):
    """Base of every runbook failure; ``exit_code`` follows the project rule (2: bad input)."""

    exit_code = 2


class RunbookParseError(RunbookError):
    """The Markdown file, its front matter or a step's info string cannot be read."""


class ParamError(RunbookError):
    """A parameter is unknown, missing a value, or malformed on the command line."""


class ResumeError(RunbookError):
    """A run log cannot be resumed (unreadable, other runbook, or the runbook changed)."""


class LocalEnvError(RunbookError):
    """The local rehearsal environment could not be set up."""

    exit_code = 1
