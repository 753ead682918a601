"""Record a successful exercise: rewrite the ``last_exercised:`` front-matter line only.

Every other byte of the file is kept; the new file replaces the old one atomically.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from drctl.atomic import write_atomic
from drctl.runbook.errors import RunbookParseError
from drctl.runbook.parse import FENCE

KEY = "last_exercised:"


def with_last_exercised(text: str, day: dt.date) -> str:
    """``text`` with the front matter's ``last_exercised`` set to ``day`` (added if absent)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != FENCE:
        raise RunbookParseError("no front matter to update")
    for index, line in enumerate(lines[1:], start=1):
        bare = line.rstrip("\r\n")
        ending = line[len(bare) :] or "\n"
        if bare.startswith(KEY):
            lines[index] = f"{KEY} {day.isoformat()}{ending}"
            return "".join(lines)
        if bare == FENCE:
            lines.insert(index, f"{KEY} {day.isoformat()}{ending}")
            return "".join(lines)
    raise RunbookParseError("the front matter is never closed")


def mark_exercised(path: Path, day: dt.date | None = None) -> None:
    """Atomically rewrite ``path`` with today's (or ``day``'s) date as ``last_exercised``."""
    text = path.read_bytes().decode("utf-8")
    updated = with_last_exercised(text, day or dt.datetime.now(dt.UTC).date())
    write_atomic(path, updated, mode=path.stat().st_mode & 0o777)
