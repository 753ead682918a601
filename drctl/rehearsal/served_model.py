"""The ``model.py`` that serves an ONNX model through onnxruntime inside Triton.

It runs inside Triton's python backend stub, never inside drctl, placed one of two ways:
as the local Triton's Python-based ``onnxruntime`` backend (``backends/onnxruntime/model.py``,
drctl.rehearsal.triton.prepare_backends), so engine_build's ONNX Runtime twin is served
exactly as published; or copied next to ``model.onnx`` by ``drctl.rehearsal.pymodel`` into a
python-backend model. When the config parameter
``region_output`` names an output, every response carries the serving region in that extra
BYTES output (Triton 2.51's python backend cannot set response parameters). The region is
the config parameter ``region`` if set, else the server's ``TRT_DR_REGION`` variable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


def _param(config: dict[str, Any], key: str) -> str:
    value = config.get("parameters", {}).get(key, {}).get("string_value", "")
    return str(value)


class TritonPythonModel:
    """Answers each request with onnxruntime's outputs plus the serving region."""

    def initialize(self, args: dict[str, str]) -> None:
        """Load ``<version>/model.onnx`` on CPU and read the output types from the config."""
        config = json.loads(args["model_config"])
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self.session = ort.InferenceSession(
            str(version_dir / "model.onnx"), providers=["CPUExecutionProvider"]
        )
        self.region = _param(config, "region") or os.environ.get("TRT_DR_REGION", "unknown")
        self.region_output = _param(config, "region_output")
        self.batched = int(config.get("max_batch_size", 0)) > 0
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = {
            o["name"]: pb_utils.triton_string_to_numpy(o["data_type"])
            for o in config["output"]
            if o["name"] != self.region_output
        }

    def _answer(self, request: Any) -> Any:
        feeds = {n: pb_utils.get_input_tensor_by_name(request, n).as_numpy() for n in self.inputs}
        results = self.session.run(list(self.outputs), feeds)
        tensors = [
            pb_utils.Tensor(name, np.asarray(value).astype(self.outputs[name]))
            for name, value in zip(self.outputs, results, strict=True)
        ]
        if self.region_output:
            rows = next(iter(feeds.values())).shape[0] if self.batched else None
            label = np.array([self.region.encode()], dtype=np.object_)
            value = np.tile(label, (rows, 1)) if rows is not None else label
            tensors.append(pb_utils.Tensor(self.region_output, value))
        return pb_utils.InferenceResponse(tensors)

    def execute(self, requests: list[Any]) -> list[Any]:
        """One response per request; a failing request gets an error, the others still answer."""
        responses = []
        for request in requests:
            try:
                responses.append(self._answer(request))
            except Exception as exc:
                error = pb_utils.TritonError(f"onnxruntime failed: {exc}")
                responses.append(pb_utils.InferenceResponse([], error=error))
        return responses
