"""Fixtures for drill tests: real local Tritons playing regions, dead and black-hole ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from drctl.rehearsal.pymodel import convert_model
from drctl.rehearsal.triton import TritonProcess, free_ports
from tests.drctl.rehearsal.onnx_models import write_onnx_model_dir

PRIMARY, DR = "us-east-1", "us-west-2"


def start_region(root: Path, region: str) -> TritonProcess:
    """A real tritonserver labelled ``region`` serving the tiny model (explicit mode)."""
    src = write_onnx_model_dir(root / region / "onnx")
    repo = root / region / "repo"
    convert_model(src, repo)
    return TritonProcess(repo, root / region / "work", region=region).start()


def tiny_inputs() -> dict[str, np.ndarray]:
    """One request's worth of input for the tiny model."""
    return {"x": np.ones((1, 4), dtype=np.float32)}


@pytest.fixture(scope="module")
def dr_triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonProcess]:
    """One real Triton playing the DR region, shared by a module's tests."""
    server = start_region(tmp_path_factory.mktemp("dr"), DR)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dead_endpoint() -> str:
    """A loopback port nothing listens on: connections are refused at once."""
    return f"127.0.0.1:{free_ports(1)[0]}"


@pytest.fixture
def blackhole_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections into its backlog and never answers (a hang)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
