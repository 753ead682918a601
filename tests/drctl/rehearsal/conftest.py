"""Fixtures for rehearsal tests: the tiny ONNX model converted into a python-backend repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.rehearsal.pymodel import convert_model
from tests.drctl.rehearsal.onnx_models import write_onnx_model_dir


@pytest.fixture
def py_repo(tmp_path: Path) -> Path:
    """A Triton repository holding ``tiny`` (version 1) served by the python backend."""
    src = write_onnx_model_dir(tmp_path / "onnx")
    repo = tmp_path / "repo"
    convert_model(src, repo)
    return repo
