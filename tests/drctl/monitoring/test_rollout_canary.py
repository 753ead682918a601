"""``drctl rollout watch --from-release``: versions from the store's canary pointer (moto
server), metrics from a growing ``/metrics`` double, reloads on every pod of an endpoint set."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from drctl.cli import app
from drctl.store.canary import read_canary
from drctl.store.s3ops import RegionStore
from drctl.store.verify import read_release
from tests.drctl.store.conftest import (
    PRIMARY_BUCKET,
    PRIMARY_REGION,
    TritonDouble,
    make_bucket,
    outputs_files,
    write_build,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    yield f"http://{host}:{port}"
    moto.stop()


@pytest.fixture
def store(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> RegionStore:
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    s3 = boto3.client("s3", region_name=PRIMARY_REGION)
    make_bucket(s3, PRIMARY_BUCKET, PRIMARY_REGION)
    return RegionStore("primary", PRIMARY_REGION, PRIMARY_BUCKET, s3, PRIMARY_REGION)


@pytest.fixture
def triton() -> Iterator[TritonDouble]:
    double = TritonDouble()
    yield double
    double.close()


class Metrics:
    """Triton /metrics for model ``resnet``: 200 more requests per scrape and version."""

    def __init__(self, ms: dict[str, float]) -> None:
        hits: dict[str, int] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                lines = []
                for version, latency in ms.items():
                    n = hits[version] = hits.get(version, 0) + 200
                    labels = f'model="resnet",version="{version}"'
                    lines += [
                        f"nv_inference_request_success{{{labels}}} {n}",
                        f"nv_inference_request_duration_us{{{labels}}} {n * latency * 1000}",
                    ]
                body = "\n".join(lines).encode() + b"\n"
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def watch(tmp_path: Path, metrics: str, *extra: str) -> tuple[int, str]:
    files = outputs_files(tmp_path)
    args = ["rollout", "watch", "--model", "resnet", "--from-release", "--region", "primary"]
    args += ["--canary-metrics", metrics, "--baseline-metrics", metrics]
    args += ["--window-seconds", "0", "--windows", "2", "--min-requests", "10"]
    args += ["--outputs", str(files[0]), "--outputs", str(files[1]), *extra]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def start_canary(tmp_path: Path) -> Path:
    files = outputs_files(tmp_path)
    opts = ["--outputs", str(files[0]), "--region", "primary"]
    for seed, extra in (("a", []), ("b", ["--canary"])):
        build = str(write_build(tmp_path, seed=seed))
        assert runner.invoke(app, ["store", "publish", build, *extra, *opts]).exit_code == 0
    return files[0]


def test_no_canary_in_progress_exits_0_and_says_so(store: RegionStore, tmp_path: Path) -> None:
    code, out = watch(tmp_path, "http://127.0.0.1:9/metrics")
    assert code == 0 and "no canary of resnet in progress in primary" in out
    assert json.loads(out.strip().splitlines()[-1])["action"] == "none"


def test_a_healthy_canary_is_promoted_and_every_pod_reloads(
    store: RegionStore, tmp_path: Path, triton: TritonDouble
) -> None:
    start_canary(tmp_path)
    metrics = Metrics({"1": 10.0, "2": 10.0})
    pods = triton.url.removeprefix("http://")
    try:
        code, out = watch(tmp_path, metrics.url, "--load-endpoint-set", pods)
    finally:
        metrics.close()
    assert code == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["action"] == "promote" and "canary 2 promoted (baseline 1)" in result["acted"]
    assert read_release(store, "resnet")[0].version == 2  # type: ignore[union-attr]
    assert read_canary(store, "resnet") == (None, None)
    assert triton.loaded == ["resnet"]


def test_a_regressed_canary_is_aborted_and_recorded(store: RegionStore, tmp_path: Path) -> None:
    start_canary(tmp_path)
    metrics = Metrics({"1": 10.0, "2": 80.0})
    record = tmp_path / "record.json"
    try:
        code, out = watch(tmp_path, metrics.url, "--no-load", "--record", str(record))
    finally:
        metrics.close()
    assert code == 1, out
    assert read_release(store, "resnet")[0].version == 1  # type: ignore[union-attr]
    assert read_canary(store, "resnet") == (None, None)
    saved = json.loads(record.read_text())
    assert (saved["canary"], saved["baseline"], saved["action"]) == ("2", "1", "rollback")
    assert "canary 2 aborted" in saved["acted"] and len(saved["windows"]) == 2


def test_mixed_or_ambiguous_modes_are_bad_input(store: RegionStore, tmp_path: Path) -> None:
    code, out = watch(tmp_path, "http://127.0.0.1:9/metrics", "--canary-version", "2")
    assert code == 2 and "not a mix" in out
    files = outputs_files(tmp_path)
    args = ["rollout", "watch", "--model", "resnet", "--from-release"]
    args += ["--outputs", str(files[0]), "--outputs", str(files[1])]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "exactly one --region" in result.output
    args = ["rollout", "watch", "--model", "resnet", "--canary-version", "2"]
    result = runner.invoke(app, [*args, "--outputs", str(files[0])])
    assert result.exit_code == 2 and "--baseline-version" in result.output


def test_a_second_trial_of_the_same_version_is_watched_again(
    store: RegionStore, tmp_path: Path
) -> None:
    outputs = start_canary(tmp_path)
    record = tmp_path / "record.json"
    bad = Metrics({"1": 10.0, "2": 80.0})
    try:
        assert watch(tmp_path, bad.url, "--no-load", "--record", str(record))[0] == 1
    finally:
        bad.close()
    again = ["store", "publish", str(write_build(tmp_path, seed="b")), "--canary"]
    assert runner.invoke(app, [*again, "--outputs", str(outputs)]).exit_code == 0
    pointer, _ = read_canary(store, "resnet")
    assert pointer is not None and pointer.version == 2  # the same version, a new trial
    good = Metrics({"1": 10.0, "2": 10.0})
    try:
        code, out = watch(tmp_path, good.url, "--no-load", "--record", str(record))
    finally:
        good.close()
    assert code == 0, out
    saved = json.loads(record.read_text())
    assert saved["action"] == "promote" and saved["trial"] == pointer.trial
    assert read_release(store, "resnet")[0].version == 2  # type: ignore[union-attr]
