"""The runbook data model: front matter and steps, validated with pydantic.

A runbook is ``runbooks/<id>.md``: YAML front matter, prose, and fenced blocks whose info
string starts with a step kind (``check``, ``run``, ``verify``, ``rollback``) followed by
``key=value`` attributes. See docs/runbooks.md for the format.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

StepKind = Literal["check", "run", "verify", "rollback"]
STEP_KINDS: tuple[str, ...] = ("check", "run", "verify", "rollback")
MUTATING: frozenset[str] = frozenset({"run", "rollback"})
KNOWN_NEEDS: frozenset[str] = frozenset(
    {"s3", "route53-api", "outputs", "aws-cli", "triton", "kubectl", "dns"}
)
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a duration like ``90s``, ``2m``, ``1.5h``; a unit is required to avoid doubt."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a duration; write e.g. 30s, 2m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Param(BaseModel):
    """A runbook parameter; without a default it must be given with ``--param name=value``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    description: str = Field(min_length=1)
    default: str | None = None

    @field_validator("default", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        """YAML turns ``1`` or ``true`` into numbers and booleans; params are text."""
        return value if value is None or isinstance(value, str) else str(value)


class FrontMatter(BaseModel):
    """The runbook's header: who owns it, which alerts trigger it, its RTO and params."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    trigger: list[str] = Field(min_length=1)
    owner: str = Field(min_length=1)
    rto: str
    last_exercised: dt.date | None = None
    params: list[Param] = []
    local_fault: str | None = None

    @field_validator("rto")
    @classmethod
    def _rto_is_duration(cls, value: str) -> str:
        """The RTO objective is a duration (``15m``) so plans can compare budgets to it."""
        parse_duration(value)
        return value

    @property
    def rto_seconds(self) -> float:
        """The RTO objective in seconds."""
        return parse_duration(self.rto)


class Step(BaseModel):
    """One fenced block: a command with its kind, id, budget and safety attributes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    kind: StepKind
    budget: str
    command: str = Field(min_length=1)
    line: int
    requires: tuple[str, ...] = ()
    rollback: str | None = None
    irreversible: bool = False
    expect: tuple[int, ...] = (0,)
    poll: str | None = None
    timeout: str | None = None
    needs: tuple[str, ...] = ()
    local: Literal["run", "skip"] = "run"
    reason: str | None = None

    @field_validator("budget", "poll", "timeout")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        """Budgets, poll intervals and timeouts must be durations with a unit."""
        if value is not None:
            parse_duration(value)
        return value

    @property
    def budget_seconds(self) -> float:
        """The time budget in seconds."""
        return parse_duration(self.budget)

    @property
    def timeout_seconds(self) -> float:
        """Hard limit after which the step is killed: ``timeout`` or three budgets."""
        return parse_duration(self.timeout) if self.timeout else 3 * self.budget_seconds

    @property
    def mutating(self) -> bool:
        """``run`` and ``rollback`` change things and ask first; checks only read."""
        return self.kind in MUTATING


class Runbook(BaseModel):
    """A parsed runbook: its file, front matter, main steps in order, and rollback steps."""

    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str
    front: FrontMatter
    steps: tuple[Step, ...]

    @property
    def main_steps(self) -> tuple[Step, ...]:
        """Steps run in order (all but ``rollback`` blocks, which run only on failure)."""
        return tuple(s for s in self.steps if s.kind != "rollback")

    def step(self, step_id: str) -> Step | None:
        """The step with ``step_id``, if any."""
        return next((s for s in self.steps if s.id == step_id), None)
