from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from engine_build.backends import EngineRequest
from engine_build.backends.ort import OnnxRuntimeBackend, session_runner
from engine_build.errors import BackendBuildError, CalibrationMissingError
from engine_build.spec import parse_target
from tests.engine_build.conftest import SpecFactory
from tests.engine_build.models import features


def engine(make_spec: SpecFactory, tmp_path: Path, precision: str, **kw: object) -> Path:
    fields: dict = {
        "source": Path(make_spec().onnx),
        "spec": make_spec(),
        "target": parse_target("cpu"),
        "precision": precision,
        "calibration": {"x": features(32)},
        "dest": tmp_path / f"{precision}.onnx",
        "workdir": tmp_path,
    }
    fields.update(kw)
    OnnxRuntimeBackend().build(EngineRequest(**fields))
    return fields["dest"]


def io_types(path: Path) -> list[int]:
    graph = onnx.load(str(path)).graph
    return [v.type.tensor_type.elem_type for v in [*graph.input, *graph.output]]


def test_fp16_keeps_fp32_inputs_and_outputs(make_spec: SpecFactory, tmp_path: Path) -> None:
    path = engine(make_spec, tmp_path, "fp16")
    onnx.checker.check_model(str(path))
    assert io_types(path) == [onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT]
    weights = onnx.load(str(path)).graph.initializer
    assert {w.data_type for w in weights} == {onnx.TensorProto.FLOAT16}


def test_int8_is_qdq_with_uint8_activations(make_spec: SpecFactory, tmp_path: Path) -> None:
    path = engine(make_spec, tmp_path, "int8")
    model = onnx.load(str(path))
    quantize = [n for n in model.graph.node if n.op_type == "QuantizeLinear"]
    assert quantize, "expected QuantizeLinear nodes"
    zero_points = {i.name: i for i in model.graph.initializer}
    activation_zero = zero_points[quantize[0].input[2]]
    assert activation_zero.data_type == onnx.TensorProto.UINT8
    assert io_types(path) == [onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT]


def test_fp32_optimized_model_computes_the_same(make_spec: SpecFactory, tmp_path: Path) -> None:
    path = engine(make_spec, tmp_path, "fp32")
    x = {"x": features(5)}
    expected = session_runner(Path(make_spec().onnx), optimize=False)(x)["logits"]
    np.testing.assert_allclose(session_runner(path)(x)["logits"], expected, rtol=1e-5, atol=1e-6)


def test_int8_without_calibration(make_spec: SpecFactory, tmp_path: Path) -> None:
    with pytest.raises(CalibrationMissingError):
        engine(make_spec, tmp_path, "int8", calibration=None)


def test_backend_failure_is_a_build_error(make_spec: SpecFactory, tmp_path: Path) -> None:
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(BackendBuildError, match="could not build fp32"):
        engine(make_spec, tmp_path, "fp32", source=tmp_path / "junk.onnx")
