"""Evaluations of a project checkout, or cost estimates read back from JSON.

A pull-request review compares two checkouts. The head is this checkout (evaluated in-process);
another directory, e.g. a ``git worktree`` of the base branch, is evaluated in a subprocess with
that directory first on ``PYTHONPATH`` so its own ``infra`` code runs, not this one's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from drctl.review.errors import SnapshotError
from infra.offline import PROJECT_DIR, Evaluation, Registered, evaluate

STACKS = ("primary", "dr")
_CHILD = """
import json, sys
from dataclasses import asdict
from infra.offline import evaluate
out = {}
for stack in sys.argv[1:]:
    e = evaluate(stack, project_dir=__import__("pathlib").Path.cwd())
    out[stack] = {"stack": e.stack, "resources": [asdict(r) for r in e.resources],
                  "outputs": e.outputs, "providers": e.providers}
print(json.dumps(out, default=str))
"""


def evaluation_to_dict(evaluation: Evaluation) -> dict[str, Any]:
    """JSON-ready form of an evaluation."""
    return {
        "stack": evaluation.stack,
        "resources": [asdict(r) for r in evaluation.resources],
        "outputs": evaluation.outputs,
        "providers": evaluation.providers,
    }


def evaluation_from_dict(data: dict[str, Any]) -> Evaluation:
    """Inverse of :func:`evaluation_to_dict`."""
    return Evaluation(
        stack=data["stack"],
        resources=[Registered(**r) for r in data["resources"]],
        outputs=dict(data.get("outputs") or {}),
        providers=dict(data.get("providers") or {}),
    )


def _in_subprocess(project_dir: Path, stacks: tuple[str, ...]) -> dict[str, Evaluation]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project_dir), str(PROJECT_DIR)])}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *stacks],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise SnapshotError(f"evaluating {project_dir} failed:\n{tail}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {stack: evaluation_from_dict(data[stack]) for stack in stacks}


def evaluate_project(project_dir: Path, stacks: tuple[str, ...] = STACKS) -> dict[str, Evaluation]:
    """Every stack of a checkout, evaluated with that checkout's own program and infra code."""
    if not (project_dir / "__main__.py").exists():
        raise SnapshotError(f"{project_dir} is not a trt-dr checkout (no __main__.py)")
    own_code = (project_dir / "infra" / "offline.py").exists()
    if project_dir.resolve() == PROJECT_DIR or not own_code:
        return {stack: evaluate(stack, project_dir=project_dir) for stack in stacks}
    return _in_subprocess(project_dir.resolve(), stacks)
