"""Fixtures: small runbooks written by tests, and a fresh local environment per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drctl.runbook.localenv import RunbookEnvironment

HEADER = """---
id: {id}
title: Test runbook
trigger: [TestAlert]
owner: tests
rto: 1h
last_exercised: 2026-01-01
params:
  - name: trail
    description: file each step appends to
    default: trail.txt
---

# Test runbook
"""


def write_runbook(folder: Path, body: str, runbook_id: str = "demo") -> Path:
    """A runbook file with the standard header and ``body``."""
    path = folder / f"{runbook_id}.md"
    path.write_text(HEADER.format(id=runbook_id) + body)
    return path


def block(info: str, command: str) -> str:
    """One fenced step."""
    return f"\n```{info}\n{command}\n```\n"


@pytest.fixture
def local_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunbookEnvironment]:
    """The rehearsal environment (moto, stand-ins, two real Tritons), fresh for each test."""
    with RunbookEnvironment(tmp_path_factory.mktemp("runbook-env")) as env:
        yield env
