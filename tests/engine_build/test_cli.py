from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from engine_build.cli import app

runner = CliRunner()


def spec_file(workspace: Path, **changes: object) -> Path:
    document = {
        "name": "mlp",
        "onnx": "mlp.onnx",
        "inputs": [{"name": "x", "min": [1, 16], "opt": [4, 16], "max": [8, 16]}],
        "precisions": ["fp32"],
        "validation": "val.npz",
        "classifier": True,
        **changes,
    }
    path = workspace / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def build_args(workspace: Path, target: str = "cpu") -> list[str]:
    return [
        "build", "--spec", str(spec_file(workspace)), "--target", target,
        "--out", str(workspace / "out"), "--builder-image", "img:1", "--latency-iterations", "3",
    ]  # fmt: skip


def test_build_then_verify_then_inspect(workspace: Path) -> None:
    built = runner.invoke(app, build_args(workspace))
    assert built.exit_code == 0, built.output
    build_dir = built.output.strip().splitlines()[-1].split(": ", 1)[1]
    assert Path(build_dir).parent == workspace / "out" / "mlp" / "cpu"
    verified = runner.invoke(app, ["verify", build_dir])
    assert verified.exit_code == 0 and "ok: 2 files" in verified.output
    shown = runner.invoke(app, ["inspect", build_dir, "--json"])
    assert json.loads(shown.output)["precision"] == "fp32"
    table = runner.invoke(app, ["inspect", build_dir])
    assert "onnxruntime" in table.output and "triton/mlp/1/model.onnx" in table.output
    again = runner.invoke(app, build_args(workspace))
    assert again.exit_code == 0 and "already built" in again.output


def test_corrupted_build_exits_1_naming_the_file(workspace: Path) -> None:
    built = runner.invoke(app, build_args(workspace))
    build_dir = Path(built.output.strip().splitlines()[-1].split(": ", 1)[1])
    (build_dir / "triton" / "mlp" / "config.pbtxt").write_text("tampered")
    result = runner.invoke(app, ["verify", str(build_dir)])
    assert result.exit_code == 1
    assert "triton/mlp/config.pbtxt" in result.output


def test_bad_input_exits_2_with_advice(workspace: Path) -> None:
    unknown_target = runner.invoke(app, build_args(workspace, target="tpu:v5"))
    assert unknown_target.exit_code == 2 and "unknown target" in unknown_target.output
    missing = runner.invoke(app, ["verify", str(workspace)])
    assert missing.exit_code == 2 and "no manifest.json" in missing.output
    assert not (workspace / "out").exists()


def test_gate_failure_exits_1_with_the_ladder(workspace: Path) -> None:
    args = build_args(workspace)
    spec_file(
        workspace,
        onnx="outlier.onnx",
        precisions=["int8"],
        calibration="cal_outlier.npz",
        validation="val_outlier.npz",
    )
    result = runner.invoke(app, [*args[:2], str(workspace / "spec.yaml"), *args[3:]])
    assert result.exit_code == 1
    assert "top1_agreement" in result.output and ">= 0.97" in result.output


def test_tensorrt_target_without_tensorrt_is_bad_input(workspace: Path) -> None:
    result = runner.invoke(app, build_args(workspace, target="gpu:H100:9.0"))
    assert result.exit_code == 2
    assert "import tensorrt" in result.output


def test_spec_errors_exit_2(workspace: Path) -> None:
    args = build_args(workspace)
    spec_file(workspace, precisions=["int8"])
    no_calibration = runner.invoke(app, args)
    assert no_calibration.exit_code == 2 and "no calibration" in no_calibration.output
    spec_file(workspace, precisions=["int4"])
    unknown = runner.invoke(app, args)
    assert unknown.exit_code == 2 and "precisions.0" in unknown.output
    assert not (workspace / "out").exists()
