"""Fixtures for the engine_build tests: tiny real ONNX models, data and specs on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from engine_build.spec import ModelSpec
from tests.engine_build.models import features, mlp, save, save_npz

SpecFactory = Callable[..., ModelSpec]


def outlier_mlp() -> onnx.ModelProto:
    """An MLP whose first input feature barely matters but spans a huge range: per-tensor
    INT8 activation scales then wipe out the features that decide the class."""
    model = mlp()
    w1 = numpy_helper.to_array(model.graph.initializer[0]).copy()
    w1[0, :] = 1e-4
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(w1, "w1"))
    return model


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A directory holding mlp.onnx, outlier.onnx and calibration/validation .npz files."""
    save(mlp(), tmp_path / "mlp.onnx")
    save(outlier_mlp(), tmp_path / "outlier.onnx")
    save_npz(tmp_path / "cal.npz", x=features(64, seed=1))
    save_npz(tmp_path / "val.npz", x=features(200, seed=2))
    save_npz(tmp_path / "cal_outlier.npz", x=features(64, seed=1, outlier=300.0))
    save_npz(tmp_path / "val_outlier.npz", x=features(200, seed=2, outlier=300.0))
    return tmp_path


@pytest.fixture
def make_spec(workspace: Path) -> SpecFactory:
    """Build a ModelSpec for the workspace MLP; keyword arguments override fields."""

    def factory(**changes: Any) -> ModelSpec:
        raw: dict[str, Any] = {
            "name": "mlp",
            "onnx": str(workspace / "mlp.onnx"),
            "inputs": [{"name": "x", "min": [1, 16], "opt": [4, 16], "max": [8, 16]}],
            "precisions": ["fp32"],
            "validation": str(workspace / "val.npz"),
            "classifier": True,
        }
        raw.update(changes)
        return ModelSpec.model_validate(raw)

    return factory


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator so every test's random data is reproducible."""
    return np.random.default_rng(7)
