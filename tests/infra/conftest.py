"""Offline evaluations of the real program, shared by the infra tests."""

from __future__ import annotations

import copy
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
            node = node[part]
        node[path[-1]] = value
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
