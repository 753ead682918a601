"""Backends turn a checked ONNX model into a servable engine for one precision.

Each backend is a small class with the same surface, so the build pipeline (ladder,
gates, latency, Triton config) is shared and only engine creation differs.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engine_build.errors import UnknownPrecisionError
from engine_build.spec import ModelSpec, Target

Feed = dict[str, np.ndarray]
Runner = Callable[[Feed], dict[str, np.ndarray]]


@dataclass(frozen=True)
class EngineRequest:
    """Everything a backend needs to build one precision of one model."""

    source: Path
    spec: ModelSpec
    target: Target
    precision: str
    calibration: Feed | None
    dest: Path
    workdir: Path


class Backend(Protocol):
    """What the build pipeline needs from a backend."""

    name: str
    platform: str
    filename: str
    precisions: tuple[str, ...]

    def version(self) -> str:
        """Exact version of the installed runtime (build number included)."""
        ...

    def build(self, request: EngineRequest) -> dict[str, object]:
        """Write the engine to ``request.dest``; return properties read back from it."""
        ...

    def runner(self, engine: Path) -> AbstractContextManager[Runner]:
        """A context giving a callable that runs the engine on the target runtime."""
        ...


def check_ladder(backend: Backend, spec: ModelSpec) -> None:
    """Raise UnknownPrecisionError if the spec asks a precision the backend cannot build."""
    unknown = [p for p in spec.precisions if p not in backend.precisions]
    if unknown:
        raise UnknownPrecisionError(
            f"model {spec.name!r}: backend {backend.name} cannot build {unknown}; "
            f"choose from {list(backend.precisions)}"
        )


def backend_for(target: Target, timing_cache: Path | None = None) -> Backend:
    """The backend serving ``target``: ONNX Runtime for cpu, TensorRT otherwise."""
    if target.backend == "onnxruntime":
        from engine_build.backends.ort import OnnxRuntimeBackend

        return OnnxRuntimeBackend()
    from engine_build.backends.trt import TensorRTBackend

    return TensorRTBackend(timing_cache=timing_cache)
