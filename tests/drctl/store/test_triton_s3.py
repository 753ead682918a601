"""A real tritonserver reading the store's S3 repository (moto) and following a rollback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import numpy as np
import pytest
import tritonclient.http as httpclient
from moto.server import ThreadedMotoServer

from drctl.rehearsal.pymodel import convert_model
from drctl.rehearsal.triton import TritonDist, TritonProcess
from drctl.store.publish import publish
from drctl.store.rollback import rollback
from drctl.store.s3ops import RegionStore
from tests.drctl.rehearsal.onnx_models import expected, write_onnx_model_dir
from tests.drctl.store.conftest import PRIMARY_BUCKET, PRIMARY_REGION, make_bucket, write_manifest

CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": PRIMARY_REGION,
}


class S3Triton(TritonProcess):
    """TritonProcess with an ``s3://`` model repository (a Path would mangle the URL)."""

    def __init__(self, repository_url: str, workdir: Path) -> None:
        super().__init__(workdir / "unused", workdir, load_models=("tiny",), env=CREDS)
        self.repository_url = repository_url

    def command(self, dist: TritonDist, ports: object) -> list[str]:
        cmd = super().command(dist, ports)  # type: ignore[arg-type]
        return [
            f"--model-repository={self.repository_url}"
            if arg.startswith("--model-repository=")
            else arg
            for arg in cmd
        ]


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    yield f"{host}:{port}"
    server.stop()


def python_backend_build(root: Path, scale: float) -> Path:
    """A build whose Triton model is the rehearsal's python-backend ONNX Runtime model."""
    src = write_onnx_model_dir(root / f"onnx-{scale}", scale=scale)
    repo = root / f"repo-{scale}"
    convert_model(src, repo, region=PRIMARY_REGION)
    build = root / f"build-{scale}"
    shutil.copytree(repo / "tiny", build / "triton" / "tiny")
    return write_manifest(build, "tiny", seed=str(scale))


def infer(url: str, x: np.ndarray) -> np.ndarray:
    client = httpclient.InferenceServerClient(url, network_timeout=10.0)
    try:
        tensor = httpclient.InferInput("x", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x)
        return np.asarray(client.infer("tiny", [tensor]).as_numpy("y"))
    finally:
        client.close()


@pytest.mark.slow
def test_triton_serves_the_pinned_version_and_follows_rollback(
    moto_endpoint: str, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name=PRIMARY_REGION)
    make_bucket(s3, PRIMARY_BUCKET, PRIMARY_REGION)
    store = RegionStore("primary", PRIMARY_REGION, PRIMARY_BUCKET, s3, root=PRIMARY_REGION)
    assert publish(store, python_backend_build(tmp_path, 1.0)).version == 1
    assert publish(store, python_backend_build(tmp_path, 2.0)).version == 2
    url = f"s3://http://{moto_endpoint}/{PRIMARY_BUCKET}/{PRIMARY_REGION}/repository"
    x = np.ones((2, 4), dtype=np.float32)
    with S3Triton(url, tmp_path / "work") as server:
        np.testing.assert_allclose(infer(server.http_url, x), expected(x, 2.0), rtol=1e-5)
        client = httpclient.InferenceServerClient(server.http_url)
        assert client.is_model_ready("tiny", "2") and not client.is_model_ready("tiny", "1")
        result = rollback([store], "tiny", endpoints=[f"http://{server.http_url}"])
        assert result.loaded == [f"http://{server.http_url}"]
        np.testing.assert_allclose(infer(server.http_url, x), expected(x, 1.0), rtol=1e-5)
        assert client.is_model_ready("tiny", "1") and not client.is_model_ready("tiny", "2")
