"""Offline evaluations of the real program, shared by the infra tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from infra.offline import Evaluation, evaluate, stack_config


def config_with(stack: str, **changes: Any) -> dict[str, Any]:
    """The stack file's config with ``trt-dr:<key>`` values replaced (dotted keys go deep)."""
    config = copy.deepcopy(stack_config(stack))
    for dotted, value in changes.items():
        head, *path = dotted.split("__")
        key = f"trt-dr:{head}"
        if not path:
            config[key] = value
            continue
        node = config[key]
        for part in path[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = path[-1]
        node[int(last) if last.isdigit() else last] = value
    return config


@pytest.fixture(scope="module")
def primary() -> Evaluation:
    return evaluate("primary")


@pytest.fixture(scope="module")
def dr() -> Evaluation:
    return evaluate("dr")


@pytest.fixture(params=["primary", "dr"])
def stack(request: pytest.FixtureRequest, primary: Evaluation, dr: Evaluation) -> Evaluation:
    return primary if request.param == "primary" else dr


def project_copy(target: Path, **changes: Any) -> Path:
    """A copy of the project in ``target`` with ``trt-dr:<key>`` changed in both stack files."""
    import shutil

    import yaml

    from infra.offline import PROJECT_DIR

    shutil.copy(PROJECT_DIR / "__main__.py", target / "__main__.py")
    shutil.copytree(PROJECT_DIR / "models", target / "models", dirs_exist_ok=True)
    for stack in ("primary", "dr"):
        data = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
        data["config"] = config_with(stack, **changes)
        (target / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data))
    return target
