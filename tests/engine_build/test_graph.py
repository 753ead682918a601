from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import external_data_helper

from engine_build.errors import InvalidOnnxError, ShapeMismatchError
from engine_build.graph import (
    check_spec_against_graph,
    graph_inputs,
    graph_outputs,
    load_model,
    onnx_digest,
    sha256_file,
)
from tests.engine_build.conftest import SpecFactory
from tests.engine_build.models import mlp


def test_plain_model_digest_is_the_file_sha256(workspace: Path) -> None:
    path = workspace / "mlp.onnx"
    assert onnx_digest(path) == sha256_file(path)


def test_external_data_changes_the_digest(tmp_path: Path) -> None:
    model = mlp()
    external_data_helper.convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0
    )
    onnx.save(model, str(tmp_path / "ext.onnx"))
    before = onnx_digest(tmp_path / "ext.onnx")
    weights = tmp_path / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[0] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert onnx_digest(tmp_path / "ext.onnx") != before
    assert before != sha256_file(tmp_path / "ext.onnx")


def test_missing_external_data_is_invalid(tmp_path: Path) -> None:
    model = mlp()
    external_data_helper.convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0
    )
    onnx.save(model, str(tmp_path / "ext.onnx"))
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(InvalidOnnxError, match=r"weights\.bin"):
        onnx_digest(tmp_path / "ext.onnx")


def test_garbage_is_not_onnx(tmp_path: Path) -> None:
    (tmp_path / "bad.onnx").write_bytes(b"not a model at all")
    with pytest.raises(InvalidOnnxError, match="not a valid ONNX model"):
        load_model(tmp_path / "bad.onnx")


def test_graph_io_is_read_from_the_model(workspace: Path) -> None:
    model = load_model(workspace / "mlp.onnx")
    assert [(i.name, i.dtype, i.dims) for i in graph_inputs(model)] == [
        ("x", "float32", (None, 16))
    ]
    assert [(o.name, o.dims) for o in graph_outputs(model)] == [("logits", (None, 10))]


def test_matching_spec_passes(workspace: Path, make_spec: SpecFactory) -> None:
    check_spec_against_graph(make_spec(), load_model(workspace / "mlp.onnx"))


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([{"name": "y", "min": [1, 16], "opt": [1, 16], "max": [1, 16]}], "differ"),
        ([{"name": "x", "min": [1, 8], "opt": [1, 16], "max": [1, 16]}], "fixes it to 16"),
        ([{"name": "x", "min": [1, 16, 1], "opt": [1, 16, 1], "max": [1, 16, 1]}], "rank"),
        (
            [{"name": "x", "min": [1, 16], "opt": [1, 16], "max": [1, 16], "dtype": "int64"}],
            "dtype",
        ),
        ([{"name": "x", "min": [1, 16], "opt": [1, 16], "max": [16, 16]}], "exceeds max_batch"),
    ],
)
def test_spec_contradicting_the_graph_is_rejected(
    workspace: Path, make_spec: SpecFactory, inputs: list, message: str
) -> None:
    with pytest.raises(ShapeMismatchError, match=message):
        check_spec_against_graph(make_spec(inputs=inputs), load_model(workspace / "mlp.onnx"))


def test_fixed_batch_axis_contradicts_dynamic_batching(
    tmp_path: Path, make_spec: SpecFactory
) -> None:
    model = mlp()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    with pytest.raises(ShapeMismatchError, match="max_batch: 0"):
        check_spec_against_graph(make_spec(), model)
