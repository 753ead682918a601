"""Benchmark: publish, verify and restore of a large engine through a local S3 emulator.

Starts ``moto_server`` as its own process (so the emulator does not share this process's GIL),
points boto3 at it with ``AWS_ENDPOINT_URL``, and times each phase of the model store on an
engine of ``--size-mib`` random bytes (default 1024 = 1 GiB). Prints a table; the results and
the machine they came from go in docs/performance.md ("Model store").

    .venv/bin/python -m benchmarks.store [--size-mib 1024] [--json]

(Run it as a module from the repository root: run as a script, the sibling
``benchmarks/engine_build.py`` would shadow the ``engine_build`` package.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from drctl.store.publish import publish
from drctl.store.replicator import replicate_all
from drctl.store.restore import restore
from drctl.store.s3ops import RegionStore
from drctl.store.verify import verify_release
from engine_build.manifest import MANIFEST_NAME, FileEntry, Manifest

MODEL = "bench"
MiB = 1024 * 1024


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    """``moto_server`` on 127.0.0.1:port, waited for until it answers."""
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def write_engine_build(root: Path, size_mib: int) -> Path:
    """A build directory whose engine is ``size_mib`` MiB of random bytes."""
    files = {f"triton/{MODEL}/config.pbtxt": b'name: "bench"\nplatform: "tensorrt_plan"\n'}
    engine = root / f"triton/{MODEL}/1/model.plan"
    engine.parent.mkdir(parents=True)
    digest = hashlib.sha256()
    with engine.open("wb") as out:
        for _ in range(size_mib):
            chunk = os.urandom(MiB)
            digest.update(chunk)
            out.write(chunk)
    (root / f"triton/{MODEL}/config.pbtxt").write_bytes(files[f"triton/{MODEL}/config.pbtxt"])
    entries = [
        FileEntry(path=p, sha256=hashlib.sha256(b).hexdigest(), size=len(b))
        for p, b in files.items()
    ]
    entries.append(
        FileEntry(
            path=f"triton/{MODEL}/1/model.plan", sha256=digest.hexdigest(), size=size_mib * MiB
        )
    )
    manifest = Manifest(
        key=hashlib.sha256(b"bench").hexdigest(),
        model=MODEL,
        spec={},
        target={},
        backend="tensorrt",
        backend_version="bench",
        builder_image="bench",
        builder_version="0",
        precision="fp16",
        ladder=[],
        files=entries,
        onnx_sha256="0" * 64,
        build_seconds=0.0,
        created_at="2026-01-01T00:00:00+00:00",
    )
    (root / MANIFEST_NAME).write_text(manifest.model_dump_json())
    return root


def stores() -> tuple[RegionStore, RegionStore]:
    """Two versioned buckets in two regions replicating to each other."""
    out = []
    for name, region, bucket in (
        ("primary", "us-east-1", "bench-use1"),
        ("dr", "us-west-2", "bench-usw2"),
    ):
        s3 = boto3.client("s3", region_name=region)
        args: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**args)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        out.append(RegionStore(name, region, bucket, s3))
    for src, dst in ((out[0], out[1]), (out[1], out[0])):
        rule = {
            "ID": "peer",
            "Status": "Enabled",
            "Priority": 1,
            "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{dst.bucket}"},
        }
        src.s3.put_bucket_replication(
            Bucket=src.bucket,
            ReplicationConfiguration={"Role": "arn:aws:iam::123456789012:role/r", "Rules": [rule]},
        )
    return out[0], out[1]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(result, seconds)."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def run(size_mib: int, work: Path) -> list[tuple[str, float, float]]:
    """Each phase as (name, MiB moved or hashed, seconds)."""
    build = write_engine_build(work / "build", size_mib)
    primary, dr = stores()
    rows = []
    result, seconds = timed(lambda: publish(primary, build))
    rows += [
        ("publish: local hash check + upload to staging", size_mib, result.upload_seconds),
        ("publish: server-side copy to final keys", size_mib, result.copy_seconds),
        ("publish: hash final objects + release", size_mib, result.verify_seconds),
        ("publish: total", size_mib, seconds),
    ]
    _, seconds = timed(lambda: replicate_all([primary, dr]))
    rows.append(("stand-in replication to peer region", size_mib, seconds))
    report, seconds = timed(lambda: verify_release([primary, dr], MODEL))
    assert report.ok, report.findings
    rows.append(("verify both regions (hash every byte)", 2 * size_mib, seconds))
    report, seconds = timed(lambda: verify_release([primary, dr], MODEL, deep=False))
    rows.append(("verify both regions (--no-hash)", 0, seconds))
    key = f"repository/{MODEL}/1/model.plan"
    with (build / f"triton/{MODEL}/1/model.plan").open("rb") as handle:
        handle.seek(MiB)
        dr.s3.put_object(Bucket=dr.bucket, Key=key, Body=b"\0" * MiB + handle.read())
    fixed, seconds = timed(lambda: restore(dr, primary, MODEL))
    assert fixed.ok and fixed.repairs, fixed
    rows.append(("restore corrupt engine in dr from primary", size_mib, seconds))
    return rows


def main() -> None:
    """Parse arguments, run against a fresh moto_server, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    port = free_port()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    server = start_moto(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = run(args.size_mib, Path(tmp))
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.json:
        print(json.dumps([{"phase": n, "mib": m, "seconds": round(s, 2)} for n, m, s in rows]))
        return
    table = Table(
        title=f"model store, {args.size_mib} MiB engine, moto_server on 127.0.0.1, "
        f"{os.cpu_count()} CPUs"
    )
    for col in ("phase", "MiB", "seconds", "MiB/s"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for name, mib, seconds in rows:
        rate = f"{mib / seconds:.0f}" if mib and seconds else "-"
        table.add_row(name, str(mib), f"{seconds:.2f}", rate)
    Console().print(table)


if __name__ == "__main__":
    main()
