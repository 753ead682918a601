"""``drctl status``: one table for both regions: endpoint health, model readiness, release
parity and replication lag.

Release parity and lag come from the buckets (a shallow ``verify_release``: presence, size and
replication state, no hashing), health and readiness from each region's Triton endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drctl.store.errors import StoreError
from drctl.store.rollback import list_models
from drctl.store.s3ops import RegionStore
from drctl.store.triton import model_ready, server_ready
from drctl.store.verify import read_release, verify_release


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
    regions: Sequence[tuple[RegionStore, str | None]],
    models: Sequence[str] = (),
    *,
    health_probe: Callable[[str], str] = server_ready,
    ready_probe: Callable[[str, str], bool | None] = model_ready,
) -> StatusReport:
    """Status of ``models`` (default: every released model) in every (store, endpoint) pair."""
    report = StatusReport()
    stores = [store for store, _ in regions]
    for store, endpoint in regions:
        report.health[store.name] = health_probe(endpoint) if endpoint else "no endpoint"
    names = list(models) or sorted({m for s in stores for m in _models(s, report)})
    for model in names:
        report.rows.extend(_model_rows(regions, model, report, ready_probe))
    return report


def _models(store: RegionStore, report: StatusReport) -> list[str]:
    """Released models of one bucket; an unreachable bucket becomes an error line."""
    try:
        return list_models(store)
    except StoreError as exc:
        report.errors.append(f"{store.name}: {exc}")
        return []


def _model_rows(
    regions: Sequence[tuple[RegionStore, str | None]],
    model: str,
    report: StatusReport,
    ready_probe: Callable[[str, str], bool | None],
) -> list[StatusRow]:
    """One row per region for ``model``."""
    stores = [store for store, _ in regions]
    try:
        versions = {
            s.name: (r.version if (r := read_release(s, model)[0]) else None) for s in stores
        }
        check = verify_release(stores, model, deep=False)
    except StoreError as exc:
        report.errors.append(f"{model}: {exc}")
        return []
    parity = len(set(versions.values())) == 1
    rows = []
    for store, endpoint in regions:
        ready = ready_probe(endpoint, model) if endpoint else None
        problems = sum(1 for f in check.findings if f.region == store.name)
        rows.append(
            StatusRow(
                store.name,
                model,
                endpoint or "",
                versions[store.name],
                ready,
                parity,
                check.max_lag_seconds,
                problems,
            )
        )
    return rows
