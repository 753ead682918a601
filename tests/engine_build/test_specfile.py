from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine_build.errors import SpecFileError, UnknownTargetError
from engine_build.specfile import load_spec, load_target

CAMEL = {
    "name": "mlp",
    "onnx": "mlp.onnx",
    "inputs": [{"name": "x", "min": [1, 16], "opt": [4, 16], "max": [8, 16]}],
    "maxBatch": 8,
    "precisions": ["fp16", "fp32"],
    "gates": {"fp16": {"maxRelL2": 0.02}},
}


def write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document))
    return path


def test_camel_case_spec_with_relative_paths(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "spec.yaml", CAMEL))
    assert spec.onnx == str(tmp_path / "mlp.onnx")
    assert spec.gate("fp16").max_rel_l2 == 0.02
    assert spec.max_batch == 8


def test_s3_paths_are_kept(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "s.yaml", {**CAMEL, "onnx": "s3://b/m.onnx"}))
    assert spec.onnx == "s3://b/m.onnx"


def test_model_picked_from_a_stack_config(tmp_path: Path) -> None:
    other = {**CAMEL, "name": "other"}
    path = write(tmp_path / "Pulumi.primary.yaml", {"config": {"trt-dr:models": [CAMEL, other]}})
    assert load_spec(path, "other").name == "other"
    with pytest.raises(SpecFileError, match=r"pass --model, one of \['mlp', 'other'\]"):
        load_spec(path)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({**CAMEL, "precisions": ["int4"]}, "precisions.0"),
        ({**CAMEL, "precisions": ["int8"]}, "no calibration"),
        ({**CAMEL, "colour": "red"}, "colour"),
        (["not", "a", "mapping"], "must hold a mapping"),
    ],
)
def test_invalid_specs_say_what_is_wrong(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(SpecFileError, match=message):
        load_spec(write(tmp_path / "spec.yaml", document))


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="does not exist"):
        load_spec(tmp_path / "none.yaml")
    (tmp_path / "broken.yaml").write_text("name: [unclosed")
    with pytest.raises(SpecFileError, match="not readable YAML"):
        load_spec(tmp_path / "broken.yaml")


def test_targets() -> None:
    assert load_target("gpu:L40S:8.9").label == "sm89"
    assert load_target("ampere+").label == "ampere-plus"
    with pytest.raises(UnknownTargetError, match="unknown target"):
        load_target("tpu")
    with pytest.raises(UnknownTargetError):
        load_target("gpu:H100:nine")
