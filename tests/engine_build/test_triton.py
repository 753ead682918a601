from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from engine_build.build import build
from engine_build.graph import TensorInfo
from engine_build.spec import parse_target
from engine_build.triton import model_config, parse, render, with_cc_plans
from tests.engine_build.conftest import SpecFactory


def test_built_config_parses_with_tritons_protobuf(make_spec: SpecFactory, workspace: Path) -> None:
    result = build(
        make_spec(), parse_target("cpu"), str(workspace / "o"), "img", latency_iterations=3
    )
    text = (Path(result.build_dir) / "triton" / "mlp" / "config.pbtxt").read_text()
    config = text_format.Parse(text, model_config_pb2.ModelConfig())
    assert (config.name, config.platform, config.max_batch_size) == ("mlp", "onnxruntime_onnx", 8)
    assert [(i.name, i.data_type, list(i.dims)) for i in config.input] == [
        ("x", model_config_pb2.TYPE_FP32, [16])
    ]
    assert [(o.name, list(o.dims)) for o in config.output] == [("logits", [10])]
    assert config.instance_group[0].kind == model_config_pb2.ModelInstanceGroup.KIND_CPU
    assert list(config.dynamic_batching.preferred_batch_size) == [4]
    assert config.version_policy.latest.num_versions == 1
    assert "1/" not in text and not config.default_model_filename


def test_gpu_config_without_batching_keeps_every_dim() -> None:
    inputs = [TensorInfo("img", "float16", (1, 3, None, None))]
    outputs = [TensorInfo("out", "float32", (1, 1000))]
    config = model_config("cnn", "tensorrt_plan", inputs, outputs, 0, gpu=True)
    parsed = parse(render(config))
    assert list(parsed.input[0].dims) == [1, 3, -1, -1]
    assert parsed.input[0].data_type == model_config_pb2.TYPE_FP16
    assert parsed.instance_group[0].kind == model_config_pb2.ModelInstanceGroup.KIND_GPU
    assert not parsed.HasField("dynamic_batching")


def test_several_gpu_plans_are_picked_by_compute_capability() -> None:
    config = model_config(
        "cnn",
        "tensorrt_plan",
        [TensorInfo("x", "float32", (None, 4))],
        [TensorInfo("y", "float32", (None, 2))],
        8,
        gpu=True,
    )
    text = with_cc_plans(
        render(config), {"9.0": "model_sm90.plan", "8.9": "model_sm89.plan"}, "model_ampere.plan"
    )
    parsed = parse(text)
    assert dict(parsed.cc_model_filenames) == {"9.0": "model_sm90.plan", "8.9": "model_sm89.plan"}
    assert parsed.default_model_filename == "model_ampere.plan"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(text_format.ParseError):
        parse('name: "m"\nbogus_field: 1\n')
