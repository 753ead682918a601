"""last_exercised is rewritten alone; every other byte stays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from drctl.runbook.exercised import mark_exercised
from drctl.runbook.parse import parse_runbook

RUNBOOKS = Path(__file__).resolve().parents[3] / "runbooks"


def test_only_the_last_exercised_line_changes(tmp_path: Path) -> None:
    original = (RUNBOOKS / "model-regression.md").read_bytes()
    path = tmp_path / "model-regression.md"
    path.write_bytes(original)
    mark_exercised(path, dt.date(2026, 11, 24))
    before, after = original.splitlines(keepends=True), path.read_bytes().splitlines(keepends=True)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [(b"last_exercised:\n", b"last_exercised: 2026-11-24\n")]
    assert parse_runbook(path).front.last_exercised == dt.date(2026, 11, 24)


def test_missing_line_is_added_before_the_closing_fence(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(b"---\r\nid: x\r\n---\r\nbody\r\n")
    mark_exercised(path, dt.date(2026, 1, 2))
    assert path.read_bytes() == b"---\r\nid: x\r\nlast_exercised: 2026-01-02\r\n---\r\nbody\r\n"
