"""The local two-region environment: moto as AWS, stand-ins for what moto lacks, real Tritons.

Set up in the order of a real deployment: declare both stacks' AWS objects, build each
region's ONNX Runtime twin with engine_build, publish it to the region's tree, replicate both
ways (replicator stand-in), serve each region with a real tritonserver, and run the Route 53
stand-in over the declared health checks and records. Everything started is stopped on exit.
"""

from __future__ import annotations

import json
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import numpy as np

from drctl.atomic import write_atomic
from drctl.drill import faults
from drctl.drill.engine import Timeline
from drctl.drill.triton_call import call, make_client
from drctl.rehearsal.aws_local import DeclaredRegion, declare_stacks, moto_server, stack_outputs
from drctl.rehearsal.builds import LocalBuilds, build_all
from drctl.rehearsal.observe import LocalObservers
from drctl.rehearsal.region_server import RegionServer
from drctl.rehearsal.route53_config import load_route53
from drctl.rehearsal.route53_standin import Route53StandIn
from drctl.store.buildtree import S3Build
from drctl.store.errors import StoreError
from drctl.store.publish import publish
from drctl.store.replicator import replicate_once
from drctl.store.s3ops import RegionStore
from infra.config import Settings, settings_from_file

REGION_OUTPUT = "SERVED_BY_REGION"
LABEL = "local rehearsal (moto + Route 53 and replication stand-ins + real Triton)"


class Replicator:
    """The replicator stand-in in a loop: both buckets, every ``period_s``, pausable."""

    def __init__(self, pairs: list[tuple[RegionStore, RegionStore]], period_s: float = 0.3) -> None:
        self.pairs = pairs
        self.period_s = period_s
        self.paused = threading.Event()
        self.stop = threading.Event()
        self.lock = threading.Lock()  # held for a whole pass; hold it to write between passes
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._loop, name="replicator", daemon=True)

    def once(self) -> None:
        """One pass in both directions."""
        for source, destination in self.pairs:
            replicate_once(source, [destination])

    def _loop(self) -> None:
        while not self.stop.wait(self.period_s):
            if self.paused.is_set():
                continue
            try:
                with self.lock:
                    self.once()
            except StoreError as error:  # like S3, keep replicating after a failed pass
                self.errors.append(str(error))

    def close(self) -> None:
        """Stop the loop and wait for the pass in flight."""
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10.0)


class LocalEnvironment(faults.SharedFaults):
    """A drillable two-region system on this machine (see docs/rehearsal.md)."""

    label = LABEL

    def __init__(
        self,
        primary: Settings,
        dr: Settings,
        workdir: Path,
        project_dir: Path,
        time_scale: float = 0.1,
        rate_hz: float = 20.0,
    ) -> None:
        self.settings = {"primary": primary, "dr": dr}
        self.workdir, self.project_dir = workdir, project_dir
        self.time_scale, self.rate_hz = time_scale, rate_hz
        self.primary, self.dr = primary.region, dr.region
        self.rto_objective_s = float(primary.rto_objective_seconds)
        self.model = primary.models[0].name
        self.hostname = primary.dns.hostname
        self._stack = ExitStack()
        self.trees: dict[str, tuple[RegionStore, RegionStore]] = {}
        self.servers: dict[str, RegionServer] = {}
        self.declared: dict[str, DeclaredRegion] = {}
        self.baseline: dict[str, int] = {}

    @classmethod
    def from_stack_files(
        cls, workdir: Path, project_dir: Path, time_scale: float = 0.1
    ) -> LocalEnvironment:
        """The environment of the project's own ``Pulumi.primary.yaml`` and ``Pulumi.dr.yaml``."""
        primary, dr = (settings_from_file(s, project_dir) for s in ("primary", "dr"))
        return cls(primary, dr, workdir, project_dir, time_scale)

    def __enter__(self) -> LocalEnvironment:
        try:
            self.aws_endpoint = self._stack.enter_context(moto_server())
            self._declare()
            self.builds: LocalBuilds = build_all(self)
            self._publish_and_replicate()
            self._serve()
            self._route53()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _declare(self) -> None:
        primary, dr = self.settings["primary"], self.settings["dr"]
        self.zone_id, declared = declare_stacks(primary, dr)
        for region in declared:
            self.declared[region.role] = region
            own = RegionStore(
                region.role, region.region, region.bucket, _s3(region.region), region.region
            )
            peer_region = dr.region if region.role == "primary" else primary.region
            replica = RegionStore(
                "replica", peer_region, region.peer_bucket, _s3(peer_region), region.region
            )
            self.trees[region.role] = (own, replica)
        whole = {
            r: RegionStore(
                r, self.declared[r].region, self.declared[r].bucket, _s3(self.declared[r].region)
            )
            for r in self.declared
        }
        self.replicator = Replicator(
            [(whole["primary"], whole["dr"]), (whole["dr"], whole["primary"])]
        )

    def _publish_and_replicate(self) -> None:
        for role, (own, _) in self.trees.items():
            publish(own, self.builds.released[role])
            self.baseline[role] = 1
        self.replicator.once()
        self.replicator.thread.start()
        self._stack.callback(self.replicator.close)

    def _serve(self) -> None:
        for role in self.trees:
            self.servers[role] = self._start_server(role, role)

    def _start_server(
        self, role: str, workdir: str, config_name: str | None = None
    ) -> RegionServer:
        """A Triton reading ``role``'s tree from moto S3, stopped when the environment closes."""
        own = self.trees[role][0]
        server = RegionServer(
            own, own.region, self.model, self.workdir / workdir, self.aws_endpoint, config_name
        )
        self._stack.callback(server.stop)
        server.start()
        return server

    def _route53(self) -> None:
        client = boto3.client("route53", region_name="us-east-1")
        self.route53 = client
        endpoints = {self.declared[r].nlb_name: self.servers[r].endpoint for r in self.servers}
        checks, records = load_route53(client, self.zone_id, endpoints)
        self.standin = Route53StandIn(checks, records, time_scale=self.time_scale)
        stop = threading.Event()
        thread = threading.Thread(
            target=self.standin.run,
            args=(3600.0, stop, lambda: self.standin.sync_flags(client)),
            name="route53-standin",
            daemon=True,
        )
        thread.start()
        self._stack.callback(thread.join, 5.0)
        self._stack.callback(stop.set)

    def start_canary(self, role: str = "primary") -> RegionServer:
        """A canary-track Triton for ``role`` (``--model-config-name=canary``), stopped on exit.

        Like a ``triton-canary`` pod it reads the same tree and serves the version
        ``configs/canary.pbtxt`` pins while a canary is on trial, the release otherwise.
        """
        return self._start_server(role, f"{role}-canary", config_name="canary")

    def outputs(self) -> dict[str, dict[str, Any]]:
        """Stack outputs of both regions, as drctl reads them from `pulumi stack output`."""
        return {
            role: stack_outputs(
                self.declared[role], self.settings[role], self.servers[role].endpoint
            )
            for role in self.declared
        }

    def write_outputs(self, folder: Path) -> None:
        """``<role>.json`` per stack in ``folder``: the files drctl reads (``--outputs``)."""
        for role, values in self.outputs().items():
            write_atomic(folder / f"{role}.json", json.dumps(values, indent=2))

    def region_of_answer(self, value: str) -> str:
        """Region whose load balancer a DNS answer names."""
        return next((d.region for d in self.declared.values() if d.nlb_name in value), value)

    @property
    def bad_build(self) -> S3Build:
        """The regressed build the bad-version drill publishes."""
        return self.builds.regressed

    @property
    def extra_build(self) -> S3Build:
        """A second good build the replication-pause drill publishes."""
        return self.builds.benign

    def fail_primary_region(self) -> None:
        """The abrupt region outage: SIGKILL the primary's Triton."""
        self.servers["primary"].kill()

    def heal_primary_region(self) -> None:
        """Restart the primary's Triton on its ports if it is down."""
        if not self.servers["primary"].running():
            self.servers["primary"].start()

    def replace_primary_node(self, timeline: Timeline) -> None:
        """A lost GPU node: the Triton dies and a replacement starts (rescheduled pod)."""
        self.servers["primary"].kill()
        self.servers["primary"].start()
        timeline.mark("replacement-ready")

    def reload_primary(self) -> None:
        """Load the primary tree's released version into the primary's Triton."""
        self.servers["primary"].reload()

    def canary_agreement(self) -> float:
        """Top-1 agreement of the primary's answers with the reference model (fixed batch)."""
        client = make_client(self.servers["primary"].endpoint, 5.0)
        try:
            answer = call(client, self.model, {"input": self.builds.canary})
        finally:
            client.close()
        logits = next(v for k, v in answer.outputs.items() if k != REGION_OUTPUT)
        return float(np.mean(np.asarray(logits).argmax(axis=1) == self.builds.golden))

    def pause_replication(self) -> None:
        """Stop the replicator stand-in's passes."""
        self.replicator.paused.set()

    def resume_replication(self) -> None:
        """Resume the replicator stand-in's passes."""
        self.replicator.paused.clear()

    def dns_on_primary(self) -> bool:
        """The Route 53 stand-in answers with the primary's load balancer."""
        return self.declared["primary"].nlb_name in self.standin.resolve(self.hostname).values

    def settled(self, region: str) -> bool:
        """The last few requests of both probes succeeded in ``region``."""
        return faults.settled(self.observers_now.last(faults.SETTLED_REQUESTS), region)

    def inputs(self) -> dict[str, np.ndarray]:
        """One fixed request: the model's optimal shape at batch 1."""
        return {"input": self.builds.sample}

    # Environment protocol -------------------------------------------------------------
    def steady_state(self) -> list[str]:
        """Both Tritons ready, DNS on the primary, trees verified, replication on."""
        problems = [
            f"{r} Triton is not running" for r, s in self.servers.items() if not s.running()
        ]
        answer = self.standin.resolve(self.hostname)
        if self.declared["primary"].nlb_name not in answer.values:
            problems.append(f"DNS answers {answer.values}, not the primary")
        problems += faults.tree_problems(self.trees, self.model)
        if self.replicator.paused.is_set():
            problems.append("replication is paused")
        return problems

    def observers(self) -> LocalObservers:
        """Probe (DNS client), failover-client probe and health watcher for one drill."""
        self.observers_now = LocalObservers(self)
        return self.observers_now

    def rpo(self) -> dict[str, Any]:
        """Replication backlog (objects not yet on the peer) and the oldest unreplicated age."""
        return faults.trees_rpo(self.trees, self.model)

    def parity(self) -> dict[str, Any]:
        """Released versions per region and whether both regions serve the same model."""
        endpoints = {role: f"http://{s.endpoint}" for role, s in self.servers.items()}
        return faults.trees_parity(self.trees, endpoints, self.model)


def _s3(region: str) -> Any:
    return boto3.client("s3", region_name=region)
