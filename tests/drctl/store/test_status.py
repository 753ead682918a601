"""status: endpoint health, readiness, release parity and replication lag in one report."""

from __future__ import annotations

from pathlib import Path

from drctl.store.publish import publish
from drctl.store.replicator import replicate_all
from drctl.store.status import status


def test_healthy_replicated_release_is_ok(regions, build: Path, triton) -> None:
    publish(regions[0], build)
    replicate_all(list(regions))
    triton.ready_models.add("resnet")
    report = status([(regions[0], triton.url), (regions[1], triton.url)])
    assert report.ok, report
    assert [(r.region, r.released, r.ready, r.parity) for r in report.rows] == [
        ("primary", 1, True, True),
        ("dr", 1, True, True),
    ]


def test_unreplicated_release_breaks_parity_and_shows_lag(regions, build: Path) -> None:
    publish(regions[0], build)
    report = status([(regions[0], None), (regions[1], "http://127.0.0.1:9")])
    assert not report.ok
    assert report.health == {"primary": "no endpoint", "dr": "unreachable"}
    assert [(r.released, r.parity) for r in report.rows] == [(1, False), (None, False)]
    assert report.rows[1].problems > 0


def test_unready_model_is_not_ok(regions, build: Path, triton) -> None:
    publish(regions[0], build)
    replicate_all(list(regions))
    report = status([(regions[0], triton.url), (regions[1], triton.url)], ["resnet"])
    assert [r.ready for r in report.rows] == [False, False] and not report.ok
