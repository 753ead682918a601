"""Write the example model the stack files reference: ``models/classifier.onnx``.

A small image classifier (conv -> relu -> global average pool -> linear, 10 classes) with a
dynamic batch dimension, built with ``onnx.helper`` from fixed-seed weights, so the file is
reproducible: ``python models/make_examples.py`` rewrites it byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent


def classifier(channels: int = 16, classes: int = 10) -> onnx.ModelProto:
    """The example classifier: input [N,3,224,224] float32 -> logits [N,10]."""
    rng = np.random.default_rng(20261124)
    weights = {
        "conv_w": rng.normal(0, 0.1, (channels, 3, 3, 3)).astype(np.float32),
        "conv_b": np.zeros(channels, np.float32),
        "fc_w": rng.normal(0, 0.1, (channels, classes)).astype(np.float32),
        "fc_b": np.zeros(classes, np.float32),
    }
    nodes = [
        helper.make_node(
            "Conv", ["input", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]
        ),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(classifier(), HERE / "classifier.onnx")
    print(f"wrote {HERE / 'classifier.onnx'}")
