"""ONNX model directory -> python-backend model directory (no server needed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.rehearsal.errors import ModelDirError
from drctl.rehearsal.pymodel import REGION_OUTPUT, SERVED_MODEL, convert_model, read_config
from tests.drctl.rehearsal.onnx_models import write_onnx_model_dir


def test_config_keeps_io_and_batching_and_switches_backend(tmp_path: Path) -> None:
    src = write_onnx_model_dir(tmp_path / "onnx", versions=(1, 2))
    dst = convert_model(src, tmp_path / "repo", region="us-west-2")
    config = read_config(dst)
    assert (config.backend, config.platform, config.max_batch_size) == ("python", "", 8)
    assert [i.name for i in config.input] == ["x"]
    assert [o.name for o in config.output] == ["y", REGION_OUTPUT]
    assert list(config.output[1].dims) == [1]
    assert config.instance_group[0].kind == config.instance_group[0].KIND_CPU
    assert not config.HasField("optimization")
    assert config.version_policy.latest.num_versions == 1
    assert config.parameters["region"].string_value == "us-west-2"
    assert config.parameters["region_output"].string_value == REGION_OUTPUT
    for version in (1, 2):
        assert (dst / str(version) / "model.onnx").read_bytes() == (
            src / str(version) / "model.onnx"
        ).read_bytes()
        assert (dst / str(version) / "model.py").read_text() == SERVED_MODEL.read_text()


def test_rerun_is_a_no_op_and_leaves_no_temp_files(tmp_path: Path) -> None:
    src = write_onnx_model_dir(tmp_path / "onnx")
    first = convert_model(src, tmp_path / "repo", region_output=None)
    before = sorted(p.relative_to(first) for p in first.rglob("*"))
    convert_model(src, tmp_path / "repo", region_output=None)
    assert sorted(p.relative_to(first) for p in first.rglob("*")) == before
    assert not [p for p in first.rglob(".*")]
    assert [o.name for o in read_config(first).output] == ["y"]


def test_refuses_tensorrt_plans_and_broken_dirs(tmp_path: Path) -> None:
    src = write_onnx_model_dir(tmp_path / "onnx")
    config = src / "config.pbtxt"
    config.write_text(config.read_text().replace("onnxruntime_onnx", "tensorrt_plan"))
    with pytest.raises(ModelDirError, match="not 'onnxruntime_onnx'"):
        convert_model(src, tmp_path / "repo")
    with pytest.raises(ModelDirError, match="does not exist"):
        convert_model(tmp_path / "missing", tmp_path / "repo")
    config.write_text("name: [broken")
    with pytest.raises(ModelDirError, match="not a valid"):
        convert_model(src, tmp_path / "repo")


def test_refuses_missing_versions_and_output_clash(tmp_path: Path) -> None:
    src = write_onnx_model_dir(tmp_path / "onnx")
    with pytest.raises(ModelDirError, match="clashes"):
        convert_model(src, tmp_path / "repo", region_output="y")
    (src / "1" / "model.onnx").unlink()
    with pytest.raises(ModelDirError, match="nothing to serve"):
        convert_model(src, tmp_path / "repo")
