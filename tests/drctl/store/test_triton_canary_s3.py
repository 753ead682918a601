"""Real tritonservers on the store's S3 repository (moto): a stable one and a canary one
(``--model-config-name=canary``) follow publish --canary, abort and promote."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from drctl.rehearsal.triton import TritonDist
from drctl.store.canary import abort_canary, promote_canary
from drctl.store.publish import publish
from drctl.store.s3ops import RegionStore
from drctl.store.triton import load_model_on_pods
from tests.drctl.rehearsal.onnx_models import expected
from tests.drctl.store.conftest import PRIMARY_BUCKET, PRIMARY_REGION, make_bucket
from tests.drctl.store.test_triton_s3 import CREDS, S3Triton, infer, python_backend_build

X = np.ones((2, 4), dtype=np.float32)


class CanaryTriton(S3Triton):
    """The canary track's server: same repository, ``configs/canary.pbtxt`` when present."""

    def command(self, dist: TritonDist, ports: object) -> list[str]:
        return [*super().command(dist, ports), "--model-config-name=canary"]


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    reset = f"http://{host}:{port}/moto-api/reset"  # moto servers in one process share state
    urllib.request.urlopen(urllib.request.Request(reset, method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    yield f"{host}:{port}"
    server.stop()


def serves(server: S3Triton, scale: float) -> bool:
    return bool(np.allclose(infer(server.http_url, X), expected(X, scale), rtol=1e-5))


@pytest.mark.slow
def test_canary_pods_follow_the_store_through_abort_and_promote(
    moto_s3: str, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name=PRIMARY_REGION)
    make_bucket(s3, PRIMARY_BUCKET, PRIMARY_REGION)
    store = RegionStore("primary", PRIMARY_REGION, PRIMARY_BUCKET, s3, root=PRIMARY_REGION)
    assert publish(store, python_backend_build(tmp_path, 1.0)).state == "released"
    canary_build = python_backend_build(tmp_path, 2.0)
    assert publish(store, canary_build, canary=True).state == "canary"
    url = f"s3://http://{moto_s3}/{PRIMARY_BUCKET}/{PRIMARY_REGION}/repository"
    with (
        S3Triton(url, tmp_path / "stable") as stable,
        CanaryTriton(url, tmp_path / "canary") as canary,
    ):
        # The headless Service's answer, one address per pod (here: one port per server).
        pods = [("127.0.0.1", int(s.http_url.rsplit(":", 1)[1])) for s in (stable, canary)]

        def resolve(host: str, port: int, **kw: object) -> list:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", pod) for pod in pods]

        def reload() -> None:
            loaded = load_model_on_pods("triton-pods.triton.svc.cluster.local", "tiny", resolve)
            assert len(loaded) == 2

        assert serves(stable, 1.0) and serves(canary, 2.0)
        assert abort_canary(store, "tiny").state == "aborted"
        reload()
        assert serves(stable, 1.0) and serves(canary, 1.0)  # back on config.pbtxt
        assert publish(store, canary_build, canary=True).state == "canary"
        reload()
        assert serves(stable, 1.0) and serves(canary, 2.0)
        assert promote_canary(store, "tiny", "test").state == "promoted"
        reload()
        assert serves(stable, 2.0) and serves(canary, 2.0)
