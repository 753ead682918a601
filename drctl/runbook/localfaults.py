"""Faults ``drctl runbook test`` injects before running a runbook (its ``local_fault``).

Each one breaks the local rehearsal environment the way the runbook's trigger describes, so
the runbook's recovery is exercised for real, and returns the params the fault determines.
Faults that end by themselves in production (a region coming back, a replacement pod
becoming ready) end by themselves here too, after ``RECOVERY_S`` seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from drctl.drill import faults
from drctl.store.errors import TritonLoadFailed
from drctl.store.publish import publish
from drctl.store.replicator import replicate_once

if TYPE_CHECKING:
    from drctl.runbook.localenv import RunbookEnvironment

Fault = Callable[["RunbookEnvironment"], dict[str, str]]
RECOVERY_S = 4.0


def engine_corruption(env: RunbookEnvironment) -> dict[str, str]:
    """Overwrite the primary's released engine in S3 and ask Triton to load it.

    The load fails (as it would on AWS); Triton keeps serving what it had loaded, while a
    restarted pod would not become ready (ModelNotReady): the runbook must repair and reload.
    """
    faults.corrupt_engine(env.local)
    with suppress(TritonLoadFailed):
        env.local.reload_primary()
    return {"region": "primary"}


def bad_version(env: RunbookEnvironment) -> dict[str, str]:
    """Release the regressed build in the primary and load it: Triton serves the bad version."""
    result = publish(env.store("primary"), env.local.builds.regressed)
    env.local.reload_primary()
    return {
        "region": "primary",
        "good_version": str(result.previous_version),
        "bad_version": str(result.version),
    }


def replication_failure(env: RunbookEnvironment) -> dict[str, str]:
    """Publish version 2 in the primary while every replication of it is marked FAILED."""
    replicator = env.local.replicator
    with replicator.lock:  # between two passes of the replication stand-in
        publish(env.store("primary"), env.local.builds.benign)
        for source, destination in replicator.pairs:
            replicate_once(source, [destination], fail=lambda _key: True)
    return {"region": "primary"}


def dr_no_gpu_capacity(env: RunbookEnvironment) -> dict[str, str]:
    """No capacity error exists locally (there are no node groups).

    Nothing is broken; the fault only reports the DR version serving "the GPU engine" now
    (locally a CPU build too), which the runbook restores at the end.
    """
    return {"gpu_version": str(faults.released_version(env.store("dr"), env.model))}


def _outage(env: RunbookEnvironment, role: str) -> None:
    """SIGKILL ``role``'s Triton; it starts again on its ports after ``RECOVERY_S``.

    The restarting thread lives until the environment closes: a local Triton is killed when
    the thread that started it exits (drctl.rehearsal.triton, PR_SET_PDEATHSIG).
    """
    server = env.local.servers[role]
    server.kill()

    def come_back() -> None:
        if not env.closing.wait(RECOVERY_S):
            server.start()
            env.closing.wait()

    thread = threading.Thread(target=come_back, name=f"{role}-comes-back", daemon=True)
    thread.start()
    env.pending.append(thread)


def region_outage(env: RunbookEnvironment) -> dict[str, str]:
    """The primary region goes dark (its Triton killed) and comes back a few seconds later."""
    _outage(env, "primary")
    return {}


def gpu_node_failure(env: RunbookEnvironment) -> dict[str, str]:
    """The primary's GPU node dies; the rescheduled Triton pod is ready a few seconds later."""
    _outage(env, "primary")
    return {"region": "primary"}


FAULTS: dict[str, Fault] = {
    "dr-no-gpu-capacity": dr_no_gpu_capacity,
    "engine-corruption": engine_corruption,
    "bad-version": bad_version,
    "replication-failure": replication_failure,
    "region-outage": region_outage,
    "gpu-node-failure": gpu_node_failure,
}
