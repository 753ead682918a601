"""A few CliRunner tests: exit codes and files of drctl monitoring / rollout."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import yaml
from typer.testing import CliRunner

from drctl.cli import app
from drctl.monitoring.promql import check_groups
from infra.offline import PROJECT_DIR

runner = CliRunner()


def test_lint_passes_on_the_real_runbooks() -> None:
    result = runner.invoke(app, ["monitoring", "lint", "--runbooks", str(PROJECT_DIR / "runbooks")])
    assert result.exit_code == 0, result.output


def test_lint_fails_on_a_trigger_without_alert(tmp_path: Path) -> None:
    for source in (PROJECT_DIR / "runbooks").glob("*.md"):
        (tmp_path / source.name).write_text(source.read_text())
    book = tmp_path / "region-outage.md"
    book.write_text(book.read_text().replace("PrimaryHealthCheckFailed", "NoSuchAlert", 1))
    result = runner.invoke(app, ["monitoring", "lint", "--runbooks", str(tmp_path)])
    assert result.exit_code == 1
    assert "trigger NoSuchAlert has no alert" in result.output


def test_lint_reads_thresholds_from_a_stack_and_rejects_a_missing_dir(tmp_path: Path) -> None:
    ok = runner.invoke(
        app,
        ["monitoring", "lint", "--stack", "primary", "--runbooks", str(PROJECT_DIR / "runbooks")],
    )
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(app, ["monitoring", "lint", "--runbooks", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "pass --runbooks" in missing.output
    bad_stack = runner.invoke(app, ["monitoring", "lint", "--stack", "nosuch"])
    assert bad_stack.exit_code == 2


def test_render_writes_rules_and_dashboard(tmp_path: Path) -> None:
    result = runner.invoke(app, ["monitoring", "render", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for role in ("primary", "dr"):
        groups = yaml.safe_load((tmp_path / f"rules-{role}.yaml").read_text())["groups"]
        assert check_groups(groups) == []
    board = json.loads((tmp_path / "dashboard.json").read_text())
    assert len(board["panels"]) == 14


def test_shipped_rendered_files_are_current(tmp_path: Path) -> None:
    runner.invoke(app, ["monitoring", "render", "--out", str(tmp_path)])
    for name in ("rules-primary.yaml", "rules-dr.yaml", "dashboard.json"):
        assert (PROJECT_DIR / "monitoring" / name).read_text() == (tmp_path / name).read_text()


def outputs(tmp_path: Path) -> list[str]:
    """Two stacks' outputs as `pulumi stack output --json` writes them."""
    regions = {"primary": ("us-east-1", "us-west-2"), "dr": ("us-west-2", "us-east-1")}
    args = []
    for role, (region, peer) in regions.items():
        path = tmp_path / f"{role}.json"
        bucket, peer_bucket = f"b-{region}", f"b-{peer}"
        path.write_text(
            json.dumps(
                {
                    "region": region,
                    "role": role,
                    "peerRegion": peer,
                    "bucketName": bucket,
                    "bucketArn": f"arn:aws:s3:::{bucket}",
                    "peerBucketName": peer_bucket,
                    "kmsKeyArn": f"arn:aws:kms:{region}:1:key/k",
                    "clusterName": f"c-{role}",
                    "healthCheckId": "hc",
                    "serviceHostname": "infer.example.com",
                }
            )
        )
        args += ["--outputs", str(path)]
    return args


def test_rollout_watch_needs_outputs_and_a_source(tmp_path: Path) -> None:
    base = ["rollout", "watch", "--model", "m", "--canary-version", "2", "--baseline-version", "1"]
    no_outputs = runner.invoke(app, base, env={"TRT_DR_OUTPUTS": ""})
    assert no_outputs.exit_code == 2 and "--outputs" in no_outputs.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    bad_outputs = runner.invoke(app, [*base, "--outputs", str(bad)])
    assert bad_outputs.exit_code == 2 and "re-export it" in bad_outputs.output
    no_source = runner.invoke(app, [*base, *outputs(tmp_path)])
    assert no_source.exit_code == 2 and "--prometheus" in no_source.output


class _Growing(BaseHTTPRequestHandler):
    """A Triton /metrics double whose counters grow by 200 requests per scrape."""

    hits: ClassVar[dict[str, int]] = {}
    ms: ClassVar[dict[str, float]] = {"1": 10.0, "2": 10.0}

    def do_GET(self) -> None:
        version = self.path.strip("/")
        count = self.hits[version] = self.hits.get(version, 0) + 1
        body = (
            "# TYPE nv_inference_request_success counter\n"
            f'nv_inference_request_success{{model="m",version="{version}"}} {200 * count}\n'
            "# TYPE nv_inference_request_duration_us counter\n"
            f'nv_inference_request_duration_us{{model="m",version="{version}"}} '
            f"{200 * count * self.ms[version] * 1000}\n"
        ).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_rollout_watch_promotes_a_healthy_canary_and_records_it(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Growing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    record = tmp_path / "r.json"
    args = [
        "rollout",
        "watch",
        "--model",
        "m",
        "--canary-version",
        "2",
        "--baseline-version",
        "1",
        "--canary-metrics",
        f"{url}/2",
        "--baseline-metrics",
        f"{url}/1",
        "--window-seconds",
        "0",
        *outputs(tmp_path),
        "--record",
        str(record),
    ]
    try:
        result = runner.invoke(app, args)
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["action"] == "promote"
    assert json.loads(record.read_text())["action"] == "promote"
