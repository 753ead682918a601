"""Suite-wide rules: tests that need the real thing skip themselves where it is missing.

- ``gpu``: runs wherever ``import tensorrt`` works (a machine with an NVIDIA GPU).
- ``aws``: runs only with ``TRT_DR_AWS_TESTS=1`` and real credentials; creates real resources.
"""

from __future__ import annotations

import importlib.util
import os

import pytest


def _has_tensorrt() -> bool:
    return importlib.util.find_spec("tensorrt") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    no_gpu = pytest.mark.skip(reason="needs TensorRT and an NVIDIA GPU (`import tensorrt` fails)")
    no_aws = pytest.mark.skip(reason="needs real AWS: set TRT_DR_AWS_TESTS=1 with credentials")
    gpu_ok = _has_tensorrt()
    aws_ok = os.environ.get("TRT_DR_AWS_TESTS") == "1"
    for item in items:
        if "gpu" in item.keywords and not gpu_ok:
            item.add_marker(no_gpu)
        if "aws" in item.keywords and not aws_ok:
            item.add_marker(no_aws)
