"""The drill environment on real AWS: real Route 53, real S3 replication, real Tritons.

Faults are caused the way AWS advises for failover drills: a region outage inverts the primary's
Route 53 health check (data plane; no record is edited), so DNS-following clients move by
themselves; store faults use the model store's functions on the stacks' buckets. No stand-in
runs here. Observers send real inference requests to the public endpoints
(``allow_remote=True``) at a low rate.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlparse

import boto3
import numpy as np

from drctl.drill import faults
from drctl.drill.client import FailoverClient
from drctl.drill.client_probe import ClientProbe
from drctl.drill.engine import Observation, Timeline
from drctl.drill.health import HealthWatcher, Route53Health
from drctl.drill.probe import Probe
from drctl.drill.resolve import CachingResolver, SystemResolver
from drctl.drill.triton_call import call, make_client
from drctl.store.buildtree import S3Build
from drctl.store.outputs import StackOutputs, by_role
from drctl.store.regions import region_trees
from drctl.store.s3ops import RegionStore
from drctl.store.triton import load_model

CANARY_BATCH = 8


class UnsupportedOnAws(Exception):
    """This fault needs access the drill does not have on AWS (e.g. Kubernetes)."""


def host_port(endpoint: str) -> tuple[str, int]:
    """``http://host:8000`` -> (``host``, 8000)."""
    parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
    return str(parsed.hostname), int(parsed.port or 8000)


class AwsObservers:
    """DNS-following probe, failover-client probe and Route 53 health watcher."""

    def __init__(self, env: AwsEnvironment) -> None:
        self.env = env
        port = host_port(env.endpoints[env.primary])[1]
        self.resolver = CachingResolver(SystemResolver(port, ttl_s=env.ttl_s))
        self.plain = Probe(
            env.hostname,
            self.resolver,
            env.model,
            env.inputs,
            rate_hz=env.rate_hz,
            timeout_s=2.0,
            regions=env.address_regions(),
            allow_remote=True,
        )
        self.client = FailoverClient(
            {r: f"{h}:{p}" for r, (h, p) in env.hosts.items()},
            name=env.hostname,
            resolver=CachingResolver(SystemResolver(port, ttl_s=env.ttl_s)),
            timeout_s=2.0,
            allow_remote=True,
        )
        self.client_probe = ClientProbe(self.client, env.model, env.inputs, env.rate_hz)
        checks = {
            env.primary: env.outputs["primary"].health_check_id,
            env.dr: env.outputs["dr"].health_check_id,
        }
        self.health = HealthWatcher(Route53Health(env.route53), checks, interval_s=10.0)
        self.threads: list[threading.Thread] = []

    def start(self, stop: threading.Event) -> None:
        """Start the observer threads (bounded: one hour, 100k requests)."""
        for target in (self.plain.run, self.client_probe.run, self.health.run):
            thread = threading.Thread(target=target, args=(3600.0, 100_000, stop))
            thread.start()
            self.threads.append(thread)

    def join(self) -> None:
        """Wait for the observers."""
        for thread in self.threads:
            thread.join(timeout=30.0)
        self.client.close()

    def observation(self) -> Observation:
        """What was observed; DNS answers are the resolver's fresh lookups."""
        regions = self.env.address_regions()
        dns = [(d.t, regions.get(d.endpoints[0], "?")) for d in self.plain.log.dns if d.endpoints]
        return Observation(self.plain.log, self.client_probe.log, list(self.health.log), dns)

    def last(self, count: int) -> list[list[tuple[bool, str]]]:
        """The last ``count`` (ok, region) of each probe."""
        return [
            [(r.ok, r.region) for r in log.requests[-count:]]
            for log in (self.plain.log, self.client_probe.log)
        ]


class AwsEnvironment(faults.SharedFaults):
    """A drillable deployment on AWS, from the two stacks' outputs."""

    label = "aws (real Route 53, S3 and Triton)"
    time_scale = 1.0
    restore_wait_s = 600.0  # real Route 53: interval x threshold + TTL can take minutes

    def __init__(
        self,
        stacks: list[StackOutputs],
        model: str,
        rto_objective_s: float,
        *,
        ttl_s: float = 60.0,
        rate_hz: float = 2.0,
        bad_build: S3Build | None = None,
        extra_build: S3Build | None = None,
    ) -> None:
        self.outputs = {"primary": by_role(stacks, "primary"), "dr": by_role(stacks, "dr")}
        self.primary, self.dr = self.outputs["primary"].region, self.outputs["dr"].region
        self.model, self.rto_objective_s = model, rto_objective_s
        self.ttl_s, self.rate_hz = ttl_s, rate_hz
        self.hostname = self.outputs["primary"].service_hostname
        self.endpoints = {o.region: o.inference_endpoint or "" for o in self.outputs.values()}
        self.hosts = {r: host_port(e) for r, e in self.endpoints.items()}
        self.trees: dict[str, tuple[RegionStore, RegionStore]] = {
            t.stack.role: (t.own, t.replica) for t in region_trees(stacks)
        }
        self.route53: Any = boto3.client("route53")
        self._bad, self._extra = bad_build, extra_build
        self.baseline = {
            r: faults.released_version(own, model) or 0 for r, (own, _) in self.trees.items()
        }
        self._paused_config: dict[str, Any] | None = None
        self._reference: np.ndarray | None = None
        self._canary = np.random.default_rng(0)

    @property
    def bad_build(self) -> S3Build | None:
        """The regressed build for the bad-version drill (``--bad-build``)."""
        return self._bad

    @property
    def extra_build(self) -> S3Build | None:
        """A second good build for the replication-pause drill (``--extra-build``)."""
        return self._extra

    def address_regions(self) -> dict[str, str]:
        """Each region's load-balancer addresses (as the probe sees them) -> region."""
        out = {}
        for region, (host, port) in self.hosts.items():
            for endpoint in SystemResolver(port).lookup(host).endpoints:
                out[endpoint] = region
        return out

    def inputs(self) -> dict[str, np.ndarray]:
        """A request shaped from the model's metadata on the primary (batch 1, float32)."""
        return self._request(1)

    def _request(self, batch: int) -> dict[str, np.ndarray]:
        client = make_client(f"{self.hosts[self.primary][0]}:{self.hosts[self.primary][1]}", 10.0)
        try:
            meta = client.get_model_metadata(self.model)
        finally:
            client.close()
        first = meta["inputs"][0]
        shape = [batch if d == -1 else d for d in first["shape"]]
        return {first["name"]: self._canary.standard_normal(shape).astype(np.float32)}

    # hooks of drctl.drill.faults ---------------------------------------------------------
    def fail_primary_region(self) -> None:
        """Invert the primary's health check: Route 53 fails over as in an outage."""
        self._invert(True)

    def heal_primary_region(self) -> None:
        """Un-invert the primary's health check."""
        self._invert(False)

    def _invert(self, inverted: bool) -> None:
        self.route53.update_health_check(
            HealthCheckId=self.outputs["primary"].health_check_id, Inverted=inverted
        )

    def replace_primary_node(self, timeline: Timeline) -> None:
        """Not automated on AWS: it needs Kubernetes access this CLI does not take."""
        raise UnsupportedOnAws(
            "gpu-node-loss is not automated on AWS (it needs Kubernetes credentials): delete the "
            "Triton pods with `kubectl -n triton delete pod -l app.kubernetes.io/name=triton` "
            "and watch `drctl status`"
        )

    def reload_primary(self) -> None:
        """Triton loads the released version through its repository API."""
        load_model(self.endpoints[self.primary], self.model)

    def canary_agreement(self) -> float:
        """Top-1 agreement of the primary's answers with its answers before the drill."""
        batch = self._canary_batch()
        client = make_client(f"{self.hosts[self.primary][0]}:{self.hosts[self.primary][1]}", 10.0)
        try:
            outputs = call(client, self.model, batch).outputs
        finally:
            client.close()
        top1 = np.asarray(next(iter(outputs.values()))).argmax(axis=1)
        if self._reference is None:
            self._reference = top1
        return float(np.mean(top1 == self._reference))

    def _canary_batch(self) -> dict[str, np.ndarray]:
        if not hasattr(self, "_batch"):
            self._batch = self._request(CANARY_BATCH)
        return self._batch

    def pause_replication(self) -> None:
        """Disable the primary bucket's replication rules (the saved configuration is restored)."""
        own = self.trees["primary"][0]
        config = own.s3.get_bucket_replication(Bucket=own.bucket)["ReplicationConfiguration"]
        self._paused_config = config
        paused = {**config, "Rules": [{**r, "Status": "Disabled"} for r in config["Rules"]]}
        own.s3.put_bucket_replication(Bucket=own.bucket, ReplicationConfiguration=paused)

    def resume_replication(self) -> None:
        """Put the saved replication configuration back."""
        if self._paused_config is not None:
            own = self.trees["primary"][0]
            own.s3.put_bucket_replication(
                Bucket=own.bucket, ReplicationConfiguration=self._paused_config
            )
            self._paused_config = None

    def dns_on_primary(self) -> bool:
        """The service name resolves to the primary's load balancer."""
        port = self.hosts[self.primary][1]
        answer = set(SystemResolver(port).lookup(self.hostname).endpoints)
        primary = {e for e, r in self.address_regions().items() if r == self.primary}
        return bool(answer) and answer <= primary

    def settled(self, region: str) -> bool:
        """The last few requests of both probes succeeded in ``region``."""
        return faults.settled(self.observers_now.last(faults.SETTLED_REQUESTS), region)

    # Environment protocol --------------------------------------------------------------
    def steady_state(self) -> list[str]:
        """Both health checks healthy, DNS on the primary, both trees verified."""
        problems = []
        for role, stack in self.outputs.items():
            if not Route53Health(self.route53).read(stack.health_check_id).healthy:
                problems.append(f"{role} health check {stack.health_check_id} is not healthy")
        if not self.dns_on_primary():
            problems.append(f"{self.hostname} does not resolve to the primary")
        problems += faults.tree_problems(self.trees, self.model)
        if not problems:
            self.canary_agreement()  # records the reference answers
        return problems

    def observers(self) -> AwsObservers:
        """Fresh observers for one drill."""
        self.observers_now = AwsObservers(self)
        return self.observers_now

    def rpo(self) -> dict[str, Any]:
        """Replication backlog and oldest unreplicated age of each tree (S3's own status)."""
        return faults.trees_rpo(self.trees, self.model) | {"measured_at": time.time()}

    def parity(self) -> dict[str, Any]:
        """Released versions per region and whether they are builds of the same model."""
        endpoints = {role: self.endpoints[own.region] for role, (own, _) in self.trees.items()}
        return faults.trees_parity(self.trees, endpoints, self.model)
