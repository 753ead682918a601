"""python -m drctl.ops_entry: the stack's thresholds reach ``rollout watch`` from a JSON file."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from drctl.monitoring import cli as monitoring_cli
from drctl.ops_entry import app
from infra.config import MonitoringSettings

runner = CliRunner()


class _Metrics(BaseHTTPRequestHandler):
    """Triton /metrics of one model: 200 more requests per scrape at 50 ms each."""

    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        version = self.path.strip("/")
        count = self.hits[version] = self.hits.get(version, 0) + 1
        body = (
            "# TYPE nv_inference_request_success counter\n"
            f'nv_inference_request_success{{model="m",version="{version}"}} {200 * count}\n'
            "# TYPE nv_inference_request_duration_us counter\n"
            f'nv_inference_request_duration_us{{model="m",version="{version}"}} '
            f"{200 * count * 50_000}\n"
        ).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def metrics() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def outputs(folder: Path) -> Path:
    folder.mkdir()
    (folder / "primary.json").write_text(
        json.dumps(
            {
                "region": "us-east-1",
                "role": "primary",
                "peerRegion": "us-west-2",
                "bucketName": "nowhere-use1",
                "bucketArn": "arn:aws:s3:::nowhere-use1",
                "peerBucketName": "nowhere-usw2",
                "kmsKeyArn": "arn:aws:kms:us-east-1:1:key/k",
                "clusterName": "c",
                "healthCheckId": "hc",
                "serviceHostname": "infer.example.com",
            }
        )
    )
    return folder


def watch(url: str, folder: Path, settings: Path | None) -> tuple[int, str]:
    args = ["rollout", "watch", "--model", "m", "--canary-version", "2"]
    args += ["--baseline-version", "1", "--canary-metrics", f"{url}/2"]
    args += ["--baseline-metrics", f"{url}/1", "--window-seconds", "0", "--no-load"]
    env = {"TRT_DR_OUTPUTS": str(folder), "TRT_DR_MONITORING": str(settings or "")}
    result = runner.invoke(app, args, env=env)
    return result.exit_code, result.output


def test_thresholds_from_the_file_decide_the_rollout(
    metrics: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    folder = outputs(tmp_path / "outputs")
    code, out = watch(metrics, folder, None)
    assert code == 0 and '"action": "promote"' in out  # 50 ms is within the default 100 ms
    strict = tmp_path / "monitoring.json"
    strict.write_text(json.dumps({"p99LatencyMs": 20, "canaryWindows": 1}))
    with mock_aws():  # the rollback it attempts finds no bucket (exit 2), never real AWS
        code, out = watch(metrics, folder, strict)
    assert code == 2 and "latency 50.00 ms > 20 ms" in out and "nowhere-use1" in out


def test_a_bad_settings_file_is_bad_input(metrics: str, tmp_path: Path) -> None:
    bad = tmp_path / "monitoring.json"
    bad.write_text(json.dumps({"p99LatencyMs": -1}))
    code, out = watch(metrics, tmp_path, bad)
    assert code == 2 and "TRT_DR_MONITORING" in out
    code, out = watch(metrics, tmp_path, Path("/nope"))
    assert code == 2 and "/nope" in out


def test_an_explicit_stack_still_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = tmp_path / "monitoring.json"
    chosen.write_text(json.dumps({"p99LatencyMs": 7}))
    monkeypatch.setenv("TRT_DR_MONITORING", str(chosen))
    assert monitoring_cli.stack_monitoring(None) == MonitoringSettings(p99_latency_ms=7)
    assert monitoring_cli.stack_monitoring("dr").p99_latency_ms == 100  # Pulumi.dr.yaml's
    monkeypatch.delenv("TRT_DR_MONITORING")
    assert monitoring_cli.stack_monitoring(None) == MonitoringSettings()


def test_the_entry_does_not_import_the_whole_cli() -> None:
    code = (
        "import sys, drctl.ops_entry; "
        "print(sorted(m for m in sys.modules if m.startswith(('drctl.', 'infra.'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    for heavy in ("drctl.cli", "drctl.review", "drctl.drill", "drctl.rehearsal", "infra.offline"):
        assert f"'{heavy}" not in loaded
