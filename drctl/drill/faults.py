"""How each fault is caused, mitigated and undone: one code path for AWS and the rehearsal.

Place-specific actions are hooks of the environment (drctl.rehearsal.env.LocalEnvironment,
drctl.drill.aws_env.AwsEnvironment); the store work (verify, restore, publish, rollback) is the
model store's own functions against the environment's trees.

- region-outage: the primary region stops serving (rehearsal: SIGKILL its Triton; AWS: invert
  its Route 53 health check); the drill waits until every client is served by DR; recovery
  heals the primary and waits until DNS and clients are back (fail back).
- gpu-node-loss: the primary's Triton is replaced (rehearsal: killed and restarted); the drill
  waits until clients are served again.
- engine-corruption: overwrite the released engine object in the primary tree; the runbook's
  repair: store verify finds it, restore from the replica in the DR bucket (or an earlier
  object version), Triton reloads.
- bad-version: publish a regressed build and load it; a canary comparing answers with the
  reference flags it; rollback; Triton reloads.
- replication-pause: pause replication and publish a new version; the backlog and lag are
  measured (RPO), replication resumes until the replica is complete; recovery rolls the extra
  version back.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from drctl.drill.engine import Fault, Timeline, wait_until
from drctl.store.buildtree import S3Build
from drctl.store.publish import publish
from drctl.store.restore import restore
from drctl.store.rollback import rollback
from drctl.store.s3ops import RegionStore
from drctl.store.verify import read_release, verify_release

CANARY_MIN_AGREEMENT = 0.9
SETTLED_REQUESTS = 5  # consecutive requests that show a state has settled


class FaultHooks(Protocol):
    """What the shared fault logic needs from an environment."""

    primary: str
    dr: str
    model: str
    trees: dict[str, tuple[RegionStore, RegionStore]]
    baseline: dict[str, int]

    @property
    def bad_build(self) -> S3Build | None: ...
    @property
    def extra_build(self) -> S3Build | None: ...

    def fail_primary_region(self) -> None: ...
    def heal_primary_region(self) -> None: ...
    def replace_primary_node(self, timeline: Timeline) -> None: ...
    def reload_primary(self) -> None: ...
    def canary_agreement(self) -> float: ...
    def pause_replication(self) -> None: ...
    def resume_replication(self) -> None: ...
    def dns_on_primary(self) -> bool: ...
    def settled(self, region: str) -> bool: ...
    def rpo(self) -> dict[str, Any]: ...


class MissingBuild(Exception):
    """The drill needs a build (regressed, or an extra good one) that was not given."""


def settled(runs: list[list[tuple[bool, str]]], region: str) -> bool:
    """The last requests of every probe (``(ok, region)`` each) succeeded in ``region``."""
    return all(
        len(run) == SETTLED_REQUESTS and all(ok and r == region for ok, r in run) for run in runs
    )


def tree_problems(trees: dict[str, tuple[RegionStore, RegionStore]], model: str) -> list[str]:
    """Every finding of a shallow verify of each region's tree and its replica."""
    problems = []
    for role, (own, replica) in trees.items():
        report = verify_release([own, replica], model, deep=False)
        problems += [f"{role} tree: {f.kind} {f.key}" for f in report.findings]
    return problems


def trees_rpo(trees: dict[str, tuple[RegionStore, RegionStore]], model: str) -> dict[str, Any]:
    """Per tree: objects not yet on the peer, and the age of the oldest unreplicated write."""
    out: dict[str, Any] = {"rtc_objective_s": 15 * 60}
    for role, (own, replica) in trees.items():
        report = verify_release([own, replica], model, deep=False)
        backlog = [f for f in report.findings if f.kind in ("pending", "missing", "failed")]
        out[role] = {"backlog_objects": len(backlog), "max_lag_s": round(report.max_lag_seconds, 3)}
    return out


def trees_parity(
    trees: dict[str, tuple[RegionStore, RegionStore]], endpoints: dict[str, str], model: str
) -> dict[str, Any]:
    """Released version per region, readiness, and whether both are builds of one model."""
    from drctl.store.status import RegionView, status

    views = [RegionView(own, rep, endpoints.get(role)) for role, (own, rep) in trees.items()]
    rows = [r for r in status(views, [model]).rows if r.model == model]
    return {
        "versions": {r.region: r.released for r in rows},
        "ready": {r.region: r.ready for r in rows},
        "same_model": bool(rows) and all(r.parity for r in rows),
    }


def released_version(store: RegionStore, model: str) -> int | None:
    """The version the tree's release pointer names."""
    release, _ = read_release(store, model)
    return release.version if release else None


def corrupt_engine(env: FaultHooks) -> str:
    """Overwrite the engine of the released version in the primary tree; return its key."""
    own = env.trees["primary"][0]
    version = released_version(own, env.model)
    prefix = own.key(f"repository/{env.model}/{version}/")
    listed = own.s3.list_objects_v2(Bucket=own.bucket, Prefix=prefix).get("Contents", [])
    key = sorted(item["Key"] for item in listed)[0]
    own.s3.put_object(Bucket=own.bucket, Key=key, Body=b"corrupted by the engine-corruption drill")
    return str(key)


def _build(build: S3Build | None, what: str) -> S3Build:
    if build is None:
        raise MissingBuild(f"the drill needs {what}: give its engine_build output location")
    return build


def inject(env: FaultHooks, fault: Fault, timeline: Timeline) -> None:
    """Cause ``fault``."""
    own = env.trees["primary"][0]
    if fault is Fault.REGION_OUTAGE:
        env.fail_primary_region()
    elif fault is Fault.GPU_NODE_LOSS:
        env.replace_primary_node(timeline)
    elif fault is Fault.ENGINE_CORRUPTION:
        timeline.mark("corrupted", corrupt_engine(env))
    elif fault is Fault.BAD_VERSION:
        result = publish(own, _build(env.bad_build, "a regressed build"))
        env.reload_primary()
        timeline.mark("bad-version-live", f"version {result.version}")
    elif fault is Fault.REPLICATION_PAUSE:
        extra = _build(env.extra_build, "a second good build")
        env.pause_replication()
        result = publish(own, extra)
        timeline.mark("published-while-paused", f"version {result.version}")


def mitigate(env: FaultHooks, fault: Fault, timeline: Timeline, deadline: float) -> None:
    """Wait for detection and restored service (or do the runbook's repair, for store faults)."""
    own, replica = env.trees["primary"]
    if fault is Fault.REGION_OUTAGE:
        wait_until(lambda: env.settled(env.dr), deadline, "every client on the DR region")
    elif fault is Fault.GPU_NODE_LOSS:
        wait_until(
            lambda: env.settled(env.primary) or env.settled(env.dr),
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
        env.reload_primary()
    elif fault is Fault.BAD_VERSION:
        wait_until(
            lambda: env.canary_agreement() < CANARY_MIN_AGREEMENT,
            deadline,
            "the canary to flag the version",
        )
        timeline.mark("detected", f"canary agreement {env.canary_agreement():.2f}")
        rollback([own, replica], env.model)
        env.reload_primary()
        wait_until(
            lambda: env.canary_agreement() >= CANARY_MIN_AGREEMENT, deadline, "good answers again"
        )
    elif fault is Fault.REPLICATION_PAUSE:
        time.sleep(1.0)
        rpo = env.rpo()["primary"]
        timeline.mark(
            "detected", f"backlog {rpo['backlog_objects']} objects, lag {rpo['max_lag_s']} s"
        )
        env.resume_replication()
        wait_until(
            lambda: verify_release([own, replica], env.model, deep=False).ok,
            deadline,
            "replica caught up",
        )
    timeline.mark("mitigated")


def recover(env: FaultHooks, fault: Fault, timeline: Timeline, deadline: float) -> None:
    """Undo the fault and fail back to the primary."""
    if fault is Fault.REGION_OUTAGE:
        env.heal_primary_region()
        timeline.mark("primary-healed")
    if fault is Fault.REPLICATION_PAUSE:
        own, replica = env.trees["primary"]
        rollback([own, replica], env.model, to=env.baseline["primary"])
    # Every drill ends failed back: DNS on the primary and the clients with it (a model reload
    # briefly fails Triton's strict readiness, which can fail the region over on its own).
    wait_until(env.dns_on_primary, deadline, "DNS back on the primary")
    wait_until(lambda: env.settled(env.primary), deadline, "clients back on the primary")


def restore_primary(env: FaultHooks, wait_s: float = 120.0) -> None:
    """Abort path: primary healed and on its baseline release, replication on, DNS back."""
    env.resume_replication()
    env.heal_primary_region()
    own, replica = env.trees["primary"]
    if released_version(own, env.model) != env.baseline["primary"]:
        rollback([own, replica], env.model, to=env.baseline["primary"])
        env.reload_primary()
    wait_until(env.dns_on_primary, time.monotonic() + wait_s, "DNS back on the primary")


class SharedFaults:
    """Mixin: an environment's inject/mitigate/recover/restore_primary run this module's logic."""

    restore_wait_s = 120.0

    def inject(self: FaultHooks, fault: Fault, timeline: Timeline) -> None:
        """Cause ``fault``."""
        inject(self, fault, timeline)

    def mitigate(self: FaultHooks, fault: Fault, timeline: Timeline, deadline: float) -> None:
        """Wait for detection and restored service."""
        mitigate(self, fault, timeline, deadline)

    def recover(self: FaultHooks, fault: Fault, timeline: Timeline, deadline: float) -> None:
        """Undo the fault and fail back."""
        recover(self, fault, timeline, deadline)

    def restore_primary(self: FaultHooks) -> None:
        """Abort path."""
        restore_primary(self, wait_s=getattr(self, "restore_wait_s", 120.0))
