"""Tiny real ONNX models and data sets for the engine_build tests (built with onnx.helper)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def _weights(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    return (rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32)


def mlp(features: int = 16, hidden: int = 32, classes: int = 10, seed: int = 0) -> onnx.ModelProto:
    """x[N, features] -> MatMul/Add/Relu -> MatMul/Add -> logits[N, classes]."""
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(_weights(rng, features, hidden), "w1"),
        numpy_helper.from_array(rng.standard_normal(hidden).astype(np.float32) * 0.1, "b1"),
        numpy_helper.from_array(_weights(rng, hidden, classes), "w2"),
        numpy_helper.from_array(rng.standard_normal(classes).astype(np.float32) * 0.1, "b2"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w2"], ["l0"]),
        helper.make_node("Add", ["l0", "b2"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    """Write ``model`` to ``path`` and return the path."""
    onnx.save(model, str(path))
    return path


def features(samples: int, width: int = 16, seed: int = 1, outlier: float = 0.0) -> np.ndarray:
    """Normal inputs; with ``outlier`` the first feature gets that scale (INT8 breaker: one
    huge-range feature makes per-tensor activation scales crush every other feature)."""
    x = np.random.default_rng(seed).standard_normal((samples, width)).astype(np.float32)
    if outlier:
        x[:, 0] *= outlier
    return x


def save_npz(path: Path, **arrays: np.ndarray) -> Path:
    """Write arrays into an .npz file and return its path."""
    np.savez(path, **arrays)
    return path
