"""The local environment ``drctl runbook test`` runs runbooks against.

Made only from pieces that run here: a ``moto`` server on 127.0.0.1 (S3 and the Route 53 API),
two versioned buckets replicated both ways by the store's replication stand-in running in a
background thread, Route 53 health checks, the stacks' outputs files, and the example model
built by the real engine_build (CPU target) and published by the real model store into both
regions' trees. It does not have Triton endpoints, DNS answers, EKS nodes or kubectl access:
steps that need those declare ``needs=`` and must be ``local=skip`` (docs/runbooks.md).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from drctl.runbook.errors import LocalEnvError
from drctl.runbook.localfaults import FAULTS, Fault
from drctl.store.publish import publish
from drctl.store.replicator import ReplicatorThread
from drctl.store.s3ops import RegionStore

PROJECT_DIR = Path(__file__).resolve().parents[2]
REGIONS = {
    "primary": ("us-east-1", "trt-dr-models-local-use1"),
    "dr": ("us-west-2", "trt-dr-models-local-usw2"),
}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
UNREACHABLE = "http://127.0.0.1:9"
BASE_CAPABILITIES = frozenset({"s3", "route53-api", "outputs"})


@dataclass(frozen=True)
class Builds:
    """Two real engine_build outputs of the example model (CPU target), built once."""

    serving: Path
    fallback: Path
    model: str = "classifier"


def build_example(out: Path) -> Builds:
    """Build ``models/classifier.onnx`` twice (max batch 4 and 2, so two build keys)."""
    from engine_build.build import build
    from engine_build.spec import InputSpec, ModelSpec, Target

    dirs = []
    for max_batch in (4, 2):
        spec = ModelSpec(
            name="classifier",
            onnx=str(PROJECT_DIR / "models/classifier.onnx"),
            inputs=[
                InputSpec(
                    name="input",
                    min=[1, 3, 224, 224],
                    opt=[1, 3, 224, 224],
                    max=[max_batch, 3, 224, 224],
                )
            ],
            max_batch=max_batch,
            precisions=["fp32"],
            classifier=True,
        )
        result = build(spec, Target(kind="cpu"), str(out), "local", latency_iterations=3)
        dirs.append(Path(result.build_dir))
    return Builds(dirs[0], dirs[1])


class LocalEnvironment:
    """A moto server with both regions' buckets, health checks, outputs and a released model."""

    def __init__(self, workdir: Path, builds: Builds, url: str | None = None) -> None:
        self.workdir, self.builds = workdir, builds
        self.url = url
        self._server: Any = None
        self.replicator: ReplicatorThread | None = None
        self.health_checks: dict[str, str] = {}

    def __enter__(self) -> LocalEnvironment:
        if self.url is None:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.url = f"http://{host}:{port}"
        self.reset()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_replication()
        if self._server is not None:
            self._server.stop()

    @property
    def capabilities(self) -> frozenset[str]:
        """What steps may ``needs=`` here; ``aws-cli`` only when ``aws`` is installed."""
        extra = {"aws-cli"} if shutil.which("aws") else set()
        return BASE_CAPABILITIES | extra

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for the moto server."""
        factory: Any = boto3.client
        return factory(service, region_name=region, endpoint_url=self.url, **_creds())

    def store(self, role: str, root: str = "") -> RegionStore:
        """A region's bucket (``root=""``) or tree as the model store sees it."""
        region, bucket = REGIONS[role]
        return RegionStore(role, region, bucket, self.client("s3", region), root)

    def env(self) -> dict[str, str | None]:
        """Environment for steps: the moto endpoint, dummy credentials, the outputs folder.

        Every other ``AWS_*`` variable of the caller (profile, session token, per-service
        endpoints, region) is removed, so a local test cannot reach a real account.
        """
        cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AWS_")}
        return {
            **cleared,
            "AWS_ENDPOINT_URL": str(self.url),
            "AWS_DEFAULT_REGION": REGIONS["primary"][0],
            "TRT_DR_OUTPUTS": str(self.workdir / "outputs"),
            **CREDENTIALS,
        }

    def reset(self) -> None:
        """Fresh state: empty moto, buckets, health checks, outputs, model released in both."""
        self.stop_replication()
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError as exc:
            raise LocalEnvError(f"moto server at {self.url} did not answer: {exc}") from exc
        self._buckets()
        self._health_checks()
        self._outputs()
        for role in REGIONS:
            publish(self.store(role, REGIONS[role][0]), self.builds.serving)
        self.start_replication()

    def _buckets(self) -> None:
        """Versioned buckets replicating to each other, as infra creates them."""
        for region, bucket in REGIONS.values():
            s3 = self.client("s3", region)
            args: dict[str, Any] = {"Bucket": bucket}
            if region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**args)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for role, (region, bucket) in REGIONS.items():
            peer = REGIONS["dr" if role == "primary" else "primary"][1]
            self.client("s3", region).put_bucket_replication(
                Bucket=bucket, ReplicationConfiguration=_replication(peer)
            )

    def _health_checks(self) -> None:
        """One Route 53 health check per region, like the failover component's."""
        r53 = self.client("route53", REGIONS["primary"][0])
        for role in REGIONS:
            config = {
                "Type": "HTTP",
                "FullyQualifiedDomainName": f"{role}.local.trt-dr.example",
                "Port": 8000,
                "ResourcePath": "/v2/health/ready",
                "RequestInterval": 10,
                "FailureThreshold": 3,
            }
            check = r53.create_health_check(CallerReference=role, HealthCheckConfig=config)
            self.health_checks[role] = check["HealthCheck"]["Id"]

    def _outputs(self) -> None:
        """``primary.json`` and ``dr.json`` with the output names drctl/store/outputs.py reads."""
        folder = self.workdir / "outputs"
        folder.mkdir(parents=True, exist_ok=True)
        for role, (region, bucket) in REGIONS.items():
            peer_region, peer_bucket = REGIONS["dr" if role == "primary" else "primary"]
            data = {
                "region": region,
                "role": role,
                "peerRegion": peer_region,
                "bucketName": bucket,
                "bucketArn": f"arn:aws:s3:::{bucket}",
                "peerBucketName": peer_bucket,
                "kmsKeyArn": f"arn:aws:kms:{region}:123456789012:key/mrk-local",
                "clusterName": f"trt-dr-{role}",
                "healthCheckId": self.health_checks[role],
                "serviceHostname": "infer.local.trt-dr.example",
            }
            (folder / f"{role}.json").write_text(json.dumps(data, indent=1))

    def start_replication(self, **faults: Any) -> None:
        """The replication stand-in, every 0.3 s, both ways."""
        self.stop_replication()
        self.replicator = ReplicatorThread([self.store(r) for r in REGIONS], 0.3, **faults)
        self.replicator.start()

    def stop_replication(self) -> None:
        """Stop the background replicator (if running)."""
        if self.replicator is not None:
            self.replicator.stop()
            self.replicator = None

    def params(self) -> dict[str, str]:
        """Values this environment offers for params of the same name.

        It has no Triton and no Kubernetes: endpoint and node params get an unreachable URL
        and a node that does not exist, so a step using them fails unless it is local=skip.
        """
        return {
            "model": self.builds.model,
            "primary_health_check": self.health_checks["primary"],
            "dr_health_check": self.health_checks["dr"],
            "fallback_build": str(self.builds.fallback),
            "outputs": str(self.workdir / "outputs"),
            **{name: UNREACHABLE for name in ("endpoint", "primary_endpoint", "dr_endpoint")},
            "node": "no-such-node.local",
        }

    def apply(self, fault_name: str | None) -> dict[str, str]:
        """Inject the runbook's ``local_fault``; returns the params it determines."""
        if not fault_name:
            return {}
        fault: Fault | None = FAULTS.get(fault_name)
        if fault is None:
            raise LocalEnvError(
                f"unknown local_fault '{fault_name}'; known: {', '.join(sorted(FAULTS))}"
            )
        return fault(self)


def _creds() -> dict[str, str]:
    """Dummy credentials for moto."""
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _replication(peer_bucket: str) -> dict[str, Any]:
    """Replicate everything to the peer bucket."""
    rule = {
        "ID": "to-peer",
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{peer_bucket}"},
    }
    return {"Role": "arn:aws:iam::123456789012:role/replication", "Rules": [rule]}
