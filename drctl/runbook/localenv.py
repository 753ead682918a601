"""The local environment ``drctl runbook test`` runs runbooks against: the rehearsal's.

One local AWS for everything: :class:`drctl.rehearsal.env.LocalEnvironment` (moto server
with both stacks' buckets, replication, hosted zone, health checks and failover records;
engine_build builds published by the real model store; the replicator and Route 53
stand-ins; one real tritonserver per region serving its tree from S3). This module only
adapts it to runbooks: the capabilities steps may ``needs=``, the environment variables and
stack-outputs files steps see, the params it can fill, and the faults it can inject.
There is no EKS cluster and no kubectl here: ``needs=kubectl`` steps stay ``local=skip``.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from drctl.rehearsal.aws_local import AWS_ENV
from drctl.rehearsal.builds import build_variant
from drctl.rehearsal.env import LocalEnvironment
from drctl.runbook.errors import LocalEnvError
from drctl.runbook.localfaults import FAULTS, Fault
from drctl.store.buildtree import S3Build
from drctl.store.s3ops import RegionStore
from infra.offline import PROJECT_DIR

BASE_CAPABILITIES = frozenset({"s3", "route53-api", "outputs", "triton"})
NO_NODE = "no-such-node.local"


class RunbookEnvironment:
    """The rehearsal environment, as runbook steps see it (a context manager)."""

    def __init__(self, workdir: Path, project_dir: Path = PROJECT_DIR) -> None:
        self.workdir, self.project_dir = workdir, project_dir
        self._stack = ExitStack()
        self.closing = threading.Event()  # set on exit: threads a fault started end
        self.pending: list[threading.Thread] = []

    def __enter__(self) -> RunbookEnvironment:
        rehearsal = LocalEnvironment.from_stack_files(self.workdir, self.project_dir)
        try:
            self.local = self._stack.enter_context(rehearsal)
            self.fallback: S3Build = build_variant(self.local, "dr", precisions=["fp32"])
            self.local.write_outputs(self.outputs_dir())
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        for thread in self.pending:
            thread.join(timeout=90.0)  # a Triton start in flight ends within its timeout
        self._stack.close()

    @property
    def model(self) -> str:
        """The model the stacks serve (the first of the primary's models)."""
        return self.local.model

    @property
    def capabilities(self) -> frozenset[str]:
        """What steps may ``needs=`` here; ``aws-cli`` only when ``aws`` is installed."""
        extra = {"aws-cli"} if shutil.which("aws") else set()
        return BASE_CAPABILITIES | extra

    def store(self, role: str, tree: str | None = None) -> RegionStore:
        """Region ``role``'s tree (``tree=None``) or the copy of tree ``tree`` in its bucket."""
        own = self.local.trees[role][0]
        if tree is None or tree == own.region:
            return own
        other = next(r for r in self.local.trees if r != role)
        return self.local.trees[other][1]

    def outputs_dir(self) -> Path:
        """Folder with ``primary.json`` and ``dr.json`` (what `pulumi stack output` prints)."""
        return self.workdir / "outputs"

    def env(self) -> dict[str, str | None]:
        """Environment for steps (see :func:`step_env`)."""
        return step_env(self.local.aws_endpoint, self.local.primary, self.outputs_dir())

    def params(self) -> dict[str, str]:
        """Values this environment offers for runbook params of the same name."""
        outputs = self.local.outputs()
        return {
            "model": self.model,
            "primary_health_check": self.local.declared["primary"].health_check_id,
            "dr_health_check": self.local.declared["dr"].health_check_id,
            "fallback_build": str(self.fallback),
            "outputs": str(self.outputs_dir()),
            "endpoint": outputs["primary"]["inferenceEndpoint"],
            "primary_endpoint": outputs["primary"]["inferenceEndpoint"],
            "dr_endpoint": outputs["dr"]["inferenceEndpoint"],
            "hostname": self.local.hostname,
            "node": NO_NODE,
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


def step_env(
    endpoint: str, region: str, outputs: Path, caller: Mapping[str, str] = os.environ
) -> dict[str, str | None]:
    """Environment for local steps: the moto endpoint, dummy credentials, the outputs folder.

    Every other ``AWS_*`` variable of the caller (profile, session token, per-service
    endpoints, region) is removed (None), so a local test cannot reach a real account.
    """
    cleared: dict[str, str | None] = {k: None for k in caller if k.startswith("AWS_")}
    return {
        **cleared,
        **AWS_ENV,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": region,
        "TRT_DR_OUTPUTS": str(outputs),
    }
