"""How each fault is caused, mitigated and undone in the local environment.

- region-outage: SIGKILL the primary Triton; the drill waits until the Route 53 stand-in has
  failed over and every client is served by DR; recovery restarts the primary on its ports and
  waits until DNS and clients are back (fail back).
- gpu-node-loss: SIGKILL the primary Triton and start a replacement (a rescheduled pod); the
  drill waits until clients are served again, then until they are back on the primary.
- engine-corruption: overwrite the released engine object in the primary tree; mitigation is
  the runbook's: store verify finds it, restore from the replica in the DR bucket (or an
  earlier object version), Triton reloads.
- bad-version: publish a regressed build and load it; a canary comparing answers with the
  reference model flags it; rollback; Triton reloads.
- replication-pause: pause the replicator stand-in and publish a new version; the backlog and
  lag are measured (RPO), replication resumes until the replica is complete; recovery rolls
  the extra version back.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from drctl.drill.engine import Fault, Timeline, wait_until
from drctl.drill.triton_call import call, make_client
from drctl.store.publish import publish
from drctl.store.restore import restore
from drctl.store.rollback import rollback
from drctl.store.verify import verify_release

if TYPE_CHECKING:
    from drctl.rehearsal.env import LocalEnvironment

STEADY = 5  # consecutive requests that show a state has settled
CANARY_MIN_AGREEMENT = 0.9


def settled(env: LocalEnvironment, region: str) -> bool:
    """The last few requests of both probes succeeded in ``region``."""
    runs = env.observers_now.last(STEADY)
    return all(len(run) == STEADY and all(ok and r == region for ok, r in run) for run in runs)


def canary_agreement(env: LocalEnvironment) -> float:
    """Top-1 agreement of the primary's answers with the reference model on a fixed batch."""
    client = make_client(env.servers["primary"].endpoint, 5.0)
    try:
        answer = call(client, env.model, {"input": env.builds.canary})
    finally:
        client.close()
    logits = next(v for k, v in answer.outputs.items() if k != "SERVED_BY_REGION")
    return float(np.mean(np.asarray(logits).argmax(axis=1) == env.builds.golden))


def corrupt_engine(env: LocalEnvironment) -> str:
    """Overwrite the released version's model file in the primary tree; return its key."""
    own = env.trees["primary"][0]
    version = env.servers["primary"].released_version()
    key = own.key(f"repository/{env.model}/{version}/model.onnx")
    own.s3.put_object(Bucket=own.bucket, Key=key, Body=b"corrupted by the engine-corruption drill")
    return key


def inject(env: LocalEnvironment, fault: Fault, timeline: Timeline) -> None:
    """Cause ``fault``."""
    primary, own = env.servers["primary"], env.trees["primary"][0]
    if fault in (Fault.REGION_OUTAGE, Fault.GPU_NODE_LOSS):
        primary.kill()
        if fault is Fault.GPU_NODE_LOSS:
            primary.start()
            timeline.mark("replacement-ready")
    elif fault is Fault.ENGINE_CORRUPTION:
        timeline.mark("corrupted", corrupt_engine(env))
    elif fault is Fault.BAD_VERSION:
        result = publish(own, env.builds.regressed)
        primary.reload()
        timeline.mark("bad-version-live", f"version {result.version}")
    elif fault is Fault.REPLICATION_PAUSE:
        env.replicator.paused.set()
        result = publish(own, env.builds.benign)
        timeline.mark("published-while-paused", f"version {result.version}")


def mitigate(env: LocalEnvironment, fault: Fault, timeline: Timeline, deadline: float) -> None:
    """Wait for detection and restored service (or do the runbook's repair, for store faults)."""
    own, replica = env.trees["primary"]
    if fault is Fault.REGION_OUTAGE:
        wait_until(lambda: settled(env, env.dr), deadline, "every client on the DR region")
    elif fault is Fault.GPU_NODE_LOSS:
        wait_until(
            lambda: settled(env, env.primary) or settled(env, env.dr),
            deadline,
            "clients served again",
        )
    elif fault is Fault.ENGINE_CORRUPTION:
        report = verify_release([own, replica], env.model)
        timeline.mark("detected", "; ".join(f"{f.kind} {f.key}" for f in report.findings))
        restore(own, replica, env.model)
        wait_until(
            lambda: verify_release([own, replica], env.model).ok, deadline, "a verified tree"
        )
        env.servers["primary"].reload()
    elif fault is Fault.BAD_VERSION:
        wait_until(
            lambda: canary_agreement(env) < CANARY_MIN_AGREEMENT,
            deadline,
            "the canary to flag the version",
        )
        timeline.mark("detected", f"canary agreement {canary_agreement(env):.2f}")
        rollback([own, replica], env.model)
        env.servers["primary"].reload()
        wait_until(
            lambda: canary_agreement(env) >= CANARY_MIN_AGREEMENT, deadline, "good answers again"
        )
    elif fault is Fault.REPLICATION_PAUSE:
        time.sleep(1.0)
        rpo = env.rpo()["primary"]
        timeline.mark(
            "detected", f"backlog {rpo['backlog_objects']} objects, lag {rpo['max_lag_s']} s"
        )
        env.replicator.paused.clear()
        wait_until(
            lambda: verify_release([own, replica], env.model, deep=False).ok,
            deadline,
            "replica caught up",
        )
    timeline.mark("mitigated")


def recover(env: LocalEnvironment, fault: Fault, timeline: Timeline, deadline: float) -> None:
    """Undo the fault and fail back to the primary."""
    primary = env.servers["primary"]
    if fault is Fault.REGION_OUTAGE:
        primary.start()
        timeline.mark("primary-restarted")
    if fault is Fault.REPLICATION_PAUSE:
        own, replica = env.trees["primary"]
        rollback([own, replica], env.model, to=env.baseline["primary"])
    # Every drill ends failed back: DNS on the primary and the clients with it (a model reload
    # briefly fails Triton's strict readiness, which can fail the region over on its own).
    wait_until(lambda: dns_on_primary(env), deadline, "DNS back on the primary")
    wait_until(lambda: settled(env, env.primary), deadline, "clients back on the primary")


def dns_on_primary(env: LocalEnvironment) -> bool:
    """The Route 53 stand-in answers with the primary's load balancer."""
    return env.declared["primary"].nlb_name in env.standin.resolve(env.hostname).values


def restore_primary(env: LocalEnvironment) -> None:
    """Abort path: primary serving its baseline release, replication on, DNS on the primary."""
    env.replicator.paused.clear()
    primary = env.servers["primary"]
    if not primary.running():
        primary.start()
    own, replica = env.trees["primary"]
    if primary.released_version() != env.baseline["primary"]:
        rollback([own, replica], env.model, to=env.baseline["primary"])
        primary.reload()
    wait_until(lambda: dns_on_primary(env), time.monotonic() + 60.0, "DNS back on the primary")
