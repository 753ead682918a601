"""One rehearsal region's Triton: serves the region's S3 tree like the real Deployment does.

The real Triton reads ``s3://<bucket>/<region>/repository`` in explicit model-control mode;
so does this one, from the moto server (``s3://http://127.0.0.1:<port>/<bucket>/...``). The
wheel's Triton has no ONNX Runtime backend; drctl.rehearsal.triton installs a Python-based
one, so the ONNX Runtime twin engine_build published is served as is. A reload is the same
repository load request ``drctl store rollback --load`` sends: Triton re-reads the pinned
``config.pbtxt`` and the version it names from S3.
"""

from __future__ import annotations

from pathlib import Path

from drctl.rehearsal.triton import Ports, TritonProcess
from drctl.store.s3ops import RegionStore
from drctl.store.triton import load_model


class RegionServer:
    """A real tritonserver for one region, reading that region's model tree from S3."""

    def __init__(
        self,
        store: RegionStore,
        label: str,
        model: str,
        workdir: Path,
        s3_endpoint: str,
        config_name: str | None = None,
    ) -> None:
        self.store = store
        self.config_name = config_name  # "canary": a pod of the canary track (docs/serving.md)
        self.label = label
        self.model = model
        self.workdir = workdir
        self.repository = f"s3://{s3_endpoint}/{store.bucket}/{store.key('repository')}"
        self.process: TritonProcess | None = None
        self.ports: Ports | None = None

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:<http port>`` of the server."""
        if self.ports is None:
            raise RuntimeError(f"{self.label} Triton has not been started")
        return f"127.0.0.1:{self.ports.http}"

    def start(self) -> TritonProcess:
        """Start (or restart on the same ports) a server for the region's S3 repository."""
        process = TritonProcess(
            self.repository,
            self.workdir / "triton",
            load_models=(self.model,),
            region=self.label,
            ports=self.ports,
            env={"AWS_DEFAULT_REGION": self.store.region, "AWS_REGION": self.store.region},
            config_name=self.config_name,
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

    def reload(self) -> None:
        """Have Triton load the model again: it serves the version the tree's config pins."""
        load_model(f"http://{self.endpoint}", self.model)

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.process is not None:
            self.process.stop()
