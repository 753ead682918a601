from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine_build.build import build
from engine_build.errors import ManifestNotFoundError, VerificationError
from engine_build.spec import parse_target
from engine_build.verify import verify
from tests.engine_build.conftest import SpecFactory


@pytest.fixture
def built(make_spec: SpecFactory, workspace: Path) -> Path:
    result = build(
        make_spec(), parse_target("cpu"), str(workspace / "out"), "img", latency_iterations=3
    )
    return Path(result.build_dir)


def test_untouched_build_verifies(built: Path) -> None:
    assert len(verify(str(built)).files) == 2


def test_every_bad_file_is_named(built: Path) -> None:
    engine = built / "triton" / "mlp" / "1" / "model.onnx"
    data = bytearray(engine.read_bytes())
    data[-1] ^= 0x01  # same size, different content
    engine.write_bytes(bytes(data))
    (built / "triton" / "mlp" / "config.pbtxt").unlink()
    with pytest.raises(VerificationError) as failure:
        verify(str(built))
    assert failure.value.problems == [
        "triton/mlp/1/model.onnx: sha256 does not match the manifest",
        "triton/mlp/config.pbtxt: missing",
    ]
    assert failure.value.exit_code == 1


def test_paths_escaping_the_build_are_refused(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    manifest["files"][0]["path"] = "../../../etc/passwd"
    (built / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VerificationError, match="1 of 2"):
        verify(str(built))


def test_directory_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestNotFoundError, match=r"no manifest\.json"):
        verify(str(tmp_path))


def test_invalid_manifest(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"key": "nope"}')
    with pytest.raises(ManifestNotFoundError, match="not a valid build manifest"):
        verify(str(tmp_path))
