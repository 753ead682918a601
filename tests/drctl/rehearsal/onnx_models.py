"""Tiny ONNX models written with onnx.helper, in the layout engine_build gives the model store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

WEIGHTS = np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0
CONFIG = """name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 8
input {{ name: "x" data_type: TYPE_FP32 dims: [4] }}
output {{ name: "y" data_type: TYPE_FP32 dims: [3] }}
instance_group {{ count: 1 kind: KIND_GPU }}
optimization {{ execution_accelerators {{ gpu_execution_accelerator {{ name: "tensorrt" }} }} }}
version_policy {{ latest {{ num_versions: 1 }} }}
"""


def tiny_onnx(scale: float = 1.0) -> onnx.ModelProto:
    """y = relu(x @ (WEIGHTS * scale) - 0.5): two nodes, a batch dimension, opset 17."""
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Sub", ["xw", "b"], ["s"]),
        helper.make_node("Relu", ["s"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [
            helper.make_tensor("w", TensorProto.FLOAT, [4, 3], (WEIGHTS * scale).flatten()),
            helper.make_tensor("b", TensorProto.FLOAT, [], [0.5]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return model


def write_onnx_model_dir(
    root: Path, name: str = "tiny", versions: tuple[int, ...] = (1,), scale: float = 1.0
) -> Path:
    """``<root>/<name>/config.pbtxt`` + ``<version>/model.onnx`` as engine_build writes them."""
    model_dir = root / name
    for version in versions:
        (model_dir / str(version)).mkdir(parents=True, exist_ok=True)
        onnx.save(tiny_onnx(scale * version), model_dir / str(version) / "model.onnx")
    (model_dir / "config.pbtxt").write_text(CONFIG.format(name=name))
    return model_dir


def expected(x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """What onnxruntime answers for the tiny model (the test compares against ORT itself too)."""
    return np.maximum(x @ (WEIGHTS * scale) - 0.5, 0.0).astype(np.float32)
