"""One rehearsal region's Triton: serves the region's S3 tree like the real Deployment does.

The real Triton reads ``s3://<bucket>/<region>/repository`` directly; the wheel's Triton has
no ONNX Runtime backend, so the rehearsal copies the released version of the region's tree to
a local directory, converts it to a python-backend model (drctl.rehearsal.pymodel) and asks
Triton to load it through the repository API, as ``drctl store rollback --load`` does on AWS.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from drctl.drill.triton_call import make_client
from drctl.rehearsal.pymodel import convert_model
from drctl.rehearsal.triton import Ports, TritonProcess
from drctl.store.s3ops import RegionStore


class RegionServer:
    """A real tritonserver for one region, fed from that region's model tree."""

    def __init__(self, store: RegionStore, label: str, model: str, workdir: Path) -> None:
        self.store = store
        self.label = label
        self.model = model
        self.workdir = workdir
        self.source = workdir / "s3-tree"
        self.repository = workdir / "repository"
        self.process: TritonProcess | None = None
        self.ports: Ports | None = None

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:<http port>`` of the server."""
        if self.ports is None:
            raise RuntimeError(f"{self.label} Triton has not been started")
        return f"127.0.0.1:{self.ports.http}"

    def released_version(self) -> int:
        """The version the region's release pointer names."""
        key = self.store.key(f"releases/{self.model}.json")
        body = self.store.s3.get_object(Bucket=self.store.bucket, Key=key)["Body"].read()
        return int(json.loads(body)["version"])

    def sync(self) -> int:
        """Copy the released version and its config from S3, convert it; return the version."""
        version = self.released_version()
        prefix = self.store.key(f"repository/{self.model}/")
        target = self.source / self.model
        if target.exists():
            shutil.rmtree(target)
        paginator = self.store.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.store.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix) :]
                if relative != "config.pbtxt" and not relative.startswith(f"{version}/"):
                    continue
                path = target / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                self.store.s3.download_file(self.store.bucket, item["Key"], str(path))
        convert_model(target, self.repository, name=self.model)
        return version

    def start(self) -> TritonProcess:
        """Start (or restart on the same ports) a server for the synced repository."""
        process = TritonProcess(
            self.repository,
            self.workdir / "triton",
            load_models=(self.model,),
            region=self.label,
            ports=self.ports,
        )
        process.start()
        self.process, self.ports = process, process.ports
        return process

    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process is not None and self.process.running()

    def kill(self) -> None:
        """The abrupt outage: SIGKILL, no draining."""
        if self.process is not None:
            self.process.kill()

    def reload(self) -> int:
        """Sync the released version and have Triton load it (explicit model control)."""
        version = self.sync()
        client = make_client(self.endpoint, 30.0)
        try:
            client.load_model(self.model)
        finally:
            client.close()
        return version

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.process is not None:
            self.process.stop()
