from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from engine_build.backends import EngineRequest, Runner
from engine_build.errors import BackendBuildError, GateFailedError
from engine_build.ladder import Reference, run_all, walk
from engine_build.spec import parse_target
from tests.engine_build.conftest import SpecFactory


class ScriptedBackend:
    """A backend whose engines add a fixed error per precision; 'broken' ones fail to build."""

    name = "scripted"
    platform = "onnxruntime_onnx"
    filename = "model.onnx"
    precisions: tuple[str, ...] = ("fp32", "fp16", "int8")

    def __init__(self, noise: dict[str, float], broken: tuple[str, ...] = ()) -> None:
        self.noise = noise
        self.broken = broken
        self.built: list[str] = []

    def version(self) -> str:
        return "1"

    def build(self, request: EngineRequest) -> dict[str, object]:
        self.built.append(request.precision)
        if request.precision in self.broken:
            raise BackendBuildError(f"{request.precision} is not supported on this device")
        request.dest.write_text(str(self.noise[request.precision]))
        return {"precision": request.precision}

    @contextmanager
    def runner(self, engine: Path) -> Iterator[Runner]:
        noise = float(engine.read_text())
        yield lambda feed: {"logits": feed["x"][:, :10] + noise}


def reference(n: int = 40) -> Reference:
    x = np.random.default_rng(0).standard_normal((n, 16)).astype(np.float32)
    return Reference({"x": x}, ["logits"], [x[:, :10]])


def base(make_spec: SpecFactory, tmp_path: Path, ladder: list[str]) -> EngineRequest:
    spec = make_spec(precisions=ladder, calibration="unused.npz")
    return EngineRequest(
        Path("m.onnx"), spec, parse_target("cpu"), ladder[0], None, tmp_path, tmp_path
    )


def test_walk_stops_at_the_first_passing_precision(make_spec: SpecFactory, tmp_path: Path) -> None:
    backend = ScriptedBackend({"int8": 5.0, "fp16": 1e-4, "fp32": 0.0})
    outcome = walk(backend, base(make_spec, tmp_path, ["int8", "fp16", "fp32"]), reference(), print)
    assert outcome.precision == "fp16"
    assert backend.built == ["int8", "fp16"]
    assert [s.passed for s in outcome.trail] == [False, True]
    assert outcome.properties == {"precision": "fp16"}


def test_a_precision_that_fails_to_build_is_a_failed_step(
    make_spec: SpecFactory, tmp_path: Path
) -> None:
    backend = ScriptedBackend({"fp32": 0.0}, broken=("fp16",))
    outcome = walk(backend, base(make_spec, tmp_path, ["fp16", "fp32"]), reference(), print)
    assert outcome.precision == "fp32"
    assert outcome.trail[0].error == "fp16 is not supported on this device"


def test_no_passing_precision_reports_every_step(make_spec: SpecFactory, tmp_path: Path) -> None:
    backend = ScriptedBackend({"fp16": 1.0, "fp32": 1.0})
    with pytest.raises(GateFailedError, match=r"fp16: rel_l2 .*; fp32: rel_l2") as failure:
        walk(backend, base(make_spec, tmp_path, ["fp16", "fp32"]), reference(), print)
    assert len(failure.value.ladder) == 2


def test_run_all_concatenates_batches_in_order() -> None:
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    out = run_all(lambda feed: {"y": feed["x"] * 2}, {"x": x}, 3, ["y"])
    np.testing.assert_array_equal(out[0], x * 2)
