"""``drctl status``: one table for both regions: endpoint health, model readiness, release
parity and replication lag.

Each region serves its own tree (its own GPU's builds). A row shows that region's released
version; parity means every region releases a build of the same ONNX (``onnx_sha256``) and
spec, not the same bytes (engines differ per GPU). Lag and problems come from a shallow
``verify_release`` of the region's tree against its replica in the peer bucket (presence,
size, replication state; no hashing, so it is cheap enough to run often).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drctl.store.canary import canary_findings, read_canary
from drctl.store.errors import StoreError
from drctl.store.rollback import list_models
from drctl.store.s3ops import RegionStore
from drctl.store.triton import model_ready, server_ready
from drctl.store.verify import read_manifest, read_release, verify_release


@dataclass(frozen=True)
class RegionView:
    """A region as status sees it: its tree, that tree's replica, its Triton endpoint."""

    own: RegionStore
    replica: RegionStore | None
    endpoint: str | None


@dataclass(frozen=True)
class StatusRow:
    """One model in one region."""

    region: str
    model: str
    endpoint: str
    released: int | None
    ready: bool | None
    parity: bool
    lag_seconds: float
    problems: int
    canary: int | None = None  # version on trial on the canary pods, if any


@dataclass
class StatusReport:
    """The rows of the status table plus each region's endpoint health."""

    health: dict[str, str] = field(default_factory=dict)
    rows: list[StatusRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything healthy, ready, at parity and replicated."""
        rows_ok = all(r.parity and r.ready is not False and not r.problems for r in self.rows)
        health_ok = all(h in {"ready", "no endpoint"} for h in self.health.values())
        return rows_ok and health_ok and not self.errors


def status(
    views: Sequence[RegionView],
    models: Sequence[str] = (),
    *,
    health_probe: Callable[[str], str] = server_ready,
    ready_probe: Callable[[str, str], bool | None] = model_ready,
) -> StatusReport:
    """Status of ``models`` (default: every released model) in every region."""
    report = StatusReport()
    for view in views:
        report.health[view.own.name] = (
            health_probe(view.endpoint) if view.endpoint else ("no endpoint")
        )
    names = list(models) or sorted({m for v in views for m in _models(v.own, report)})
    for model in names:
        lineage = {v.own.name: _lineage(v.own, model, report) for v in views}
        parity = None not in lineage.values() and len(set(lineage.values())) == 1
        for view in views:
            if row := _row(view, model, parity, report, ready_probe):
                report.rows.append(row)
    return report


def _models(store: RegionStore, report: StatusReport) -> list[str]:
    """Released models of one tree; an unreachable bucket becomes an error line."""
    try:
        return list_models(store)
    except StoreError as exc:
        report.errors.append(f"{store.name}: {exc}")
        return []


# Where a build read its files: each region's build Job reads its own bucket, so these differ
# between regions for the very same model and must not break parity.
LOCATION_FIELDS = ("onnx", "calibration", "validation")


def _lineage(store: RegionStore, model: str, report: StatusReport) -> str | None:
    """What the released build was made from (ONNX digest + spec), or None."""
    try:
        release, _ = read_release(store, model)
        found = read_manifest(store, model, release.version) if release else None
    except StoreError as exc:
        report.errors.append(f"{store.name}: {exc}")
        return None
    if found is None:
        return None
    spec = {k: v for k, v in found[0].spec.items() if k not in LOCATION_FIELDS}
    return json.dumps([found[0].onnx_sha256, spec], sort_keys=True)


def _row(
    view: RegionView,
    model: str,
    parity: bool,
    report: StatusReport,
    ready_probe: Callable[[str, str], bool | None],
) -> StatusRow | None:
    """The row of one region, or None (with an error line) when its tree cannot be read."""
    stores = [view.own] + ([view.replica] if view.replica else [])
    try:
        release, _ = read_release(view.own, model)
        check = verify_release(stores, model, deep=False) if release else None
        canary, _ = read_canary(view.own, model)
        drift = len(canary_findings(view.own, model))
    except StoreError as exc:
        report.errors.append(f"{view.own.name} {model}: {exc}")
        return None
    ready = ready_probe(view.endpoint, model) if view.endpoint else None
    return StatusRow(
        region=view.own.name,
        model=model,
        endpoint=view.endpoint or "",
        released=release.version if release else None,
        ready=ready,
        parity=parity,
        lag_seconds=check.max_lag_seconds if check else 0.0,
        problems=(len(check.findings) if check else 1) + drift,
        canary=canary.version if canary else None,
    )
