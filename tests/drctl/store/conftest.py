"""Fixtures for model-store tests: moto buckets in two regions and engine_build-like outputs."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from drctl.store.s3ops import RegionStore
from engine_build.manifest import MANIFEST_NAME, FileEntry, Manifest

PRIMARY_REGION, DR_REGION = "us-east-1", "us-west-2"
PRIMARY_BUCKET, DR_BUCKET = "trtdr-models-use1", "trtdr-models-usw2"
CONFIG = 'name: "{model}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n'


def write_build(
    root: Path,
    model: str = "resnet",
    seed: str = "a",
    engine_bytes: int = 4096,
    onnx_sha256: str = "0" * 64,
    spec: dict[str, object] | None = None,
) -> Path:
    """An engine_build-shaped output: Triton config, version-1 engine, a report, a manifest."""
    build = root / f"build-{model}-{seed}"
    files = {
        f"triton/{model}/config.pbtxt": CONFIG.format(model=model).encode(),
        f"triton/{model}/1/model.onnx": hashlib.sha256(seed.encode()).digest()
        * (engine_bytes // 32),
        "reports/gates.json": json.dumps({"seed": seed}).encode(),
    }
    for rel, body in files.items():
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        (build / rel).write_bytes(body)
    return write_manifest(build, model, seed, onnx_sha256, spec)


def trees(regions: tuple[RegionStore, RegionStore]) -> tuple[RegionStore, ...]:
    """(primary tree, its replica, dr tree, its replica) as the stacks lay them out."""
    primary, dr = regions
    return (
        replace(primary, root=PRIMARY_REGION),
        replace(dr, root=PRIMARY_REGION),
        replace(dr, root=DR_REGION),
        replace(primary, root=DR_REGION),
    )


def write_manifest(
    build: Path,
    model: str,
    seed: str,
    onnx_sha256: str = "0" * 64,
    spec: dict[str, object] | None = None,
) -> Path:
    """Write a valid manifest listing every file already under ``build``."""
    entries = [
        FileEntry(
            path=p.relative_to(build).as_posix(),
            sha256=hashlib.sha256(p.read_bytes()).hexdigest(),
            size=p.stat().st_size,
        )
        for p in sorted(build.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    ]
    manifest = Manifest(
        key=hashlib.sha256(f"{model}-{seed}".encode()).hexdigest(),
        model=model,
        spec=spec or {"name": model},
        target={"gpu": "cpu"},
        backend="onnxruntime",
        backend_version="1.20",
        builder_image="local",
        builder_version="0",
        precision="fp32",
        ladder=[],
        files=entries,
        onnx_sha256=onnx_sha256,
        build_seconds=0.1,
        created_at="2026-11-24T00:00:00+00:00",
    )
    (build / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=1))
    return build


def make_bucket(s3: Any, bucket: str, region: str) -> None:
    """A versioned bucket, as the infra stacks create it."""
    args: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**args)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def replicate_to(s3: Any, bucket: str, dest_bucket: str, delete_markers: bool = True) -> None:
    """Replication configuration like the stacks set: everything to the peer bucket."""
    rule = {
        "ID": "to-peer",
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{dest_bucket}"},
    }
    config = {"Role": "arn:aws:iam::123456789012:role/replication", "Rules": [rule]}
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no endpoint override, so nothing can reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", PRIMARY_REGION)


def region_pair() -> tuple[RegionStore, RegionStore]:
    """Two replicated, versioned buckets in two regions (inside an active moto mock)."""
    s3p = boto3.client("s3", region_name=PRIMARY_REGION)
    s3d = boto3.client("s3", region_name=DR_REGION)
    make_bucket(s3p, PRIMARY_BUCKET, PRIMARY_REGION)
    make_bucket(s3d, DR_BUCKET, DR_REGION)
    replicate_to(s3p, PRIMARY_BUCKET, DR_BUCKET)
    replicate_to(s3d, DR_BUCKET, PRIMARY_BUCKET)
    return (
        RegionStore("primary", PRIMARY_REGION, PRIMARY_BUCKET, s3p),
        RegionStore("dr", DR_REGION, DR_BUCKET, s3d),
    )


@pytest.fixture
def regions(aws_env: None) -> Iterator[tuple[RegionStore, RegionStore]]:
    """Primary and DR stores on in-process moto."""
    with mock_aws():
        yield region_pair()


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """One small valid build of model ``resnet``."""
    return write_build(tmp_path)


def outputs_files(root: Path, endpoint: str | None = None) -> list[Path]:
    """Saved ``pulumi stack output --json`` files for both stacks."""
    paths = []
    for role, region, bucket, peer_region, peer in (
        ("primary", PRIMARY_REGION, PRIMARY_BUCKET, DR_REGION, DR_BUCKET),
        ("dr", DR_REGION, DR_BUCKET, PRIMARY_REGION, PRIMARY_BUCKET),
    ):
        data = {
            "region": region,
            "role": role,
            "peerRegion": peer_region,
            "bucketName": bucket,
            "bucketArn": f"arn:aws:s3:::{bucket}",
            "peerBucketName": peer,
            "kmsKeyArn": f"arn:aws:kms:{region}:123456789012:key/mrk-1",
            "clusterName": f"trtdr-{role}",
            "healthCheckId": f"hc-{role}",
            "serviceHostname": f"{role}.example.com",
        }
        if endpoint:
            data["inferenceEndpoint"] = endpoint
        path = root / f"{role}.json"
        path.write_text(json.dumps(data))
        paths.append(path)
    return paths


class TritonDouble:
    """A faithful double of the Triton HTTP endpoints drctl uses (KServe v2 + repository API)."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.ready_models: set[str] = set()
        self.refuse_load = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self, code: int, body: dict[str, Any] | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if self.path == "/v2/health/ready":
                    self._reply(200)
                elif len(parts) == 4 and parts[:2] == ["v2", "models"] and parts[3] == "ready":
                    self._reply(200 if parts[2] in double.ready_models else 400)
                else:
                    self._reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.strip("/").split("/")
                if parts[:3] == ["v2", "repository", "models"] and parts[-1] == "load":
                    if double.refuse_load:
                        self._reply(400, {"error": f"failed to load '{parts[3]}'"})
                        return
                    double.loaded.append(parts[3])
                    double.ready_models.add(parts[3])
                    self._reply(200)
                else:
                    self._reply(404, {"error": "not found"})

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def triton() -> Iterator[TritonDouble]:
    """A running Triton HTTP double on 127.0.0.1."""
    double = TritonDouble()
    yield double
    double.close()
