"""status: endpoint health, readiness, release parity (same ONNX and spec) and lag."""

from __future__ import annotations

from pathlib import Path

from drctl.store.publish import publish
from drctl.store.replicator import replicate_all
from drctl.store.status import RegionView, status
from tests.drctl.store.conftest import trees, write_build


def views(regions, primary_url: str | None, dr_url: str | None) -> list[RegionView]:
    p_own, p_rep, d_own, d_rep = trees(regions)
    return [RegionView(p_own, p_rep, primary_url), RegionView(d_own, d_rep, dr_url)]


def test_each_region_own_build_of_same_onnx_is_parity(regions, tmp_path: Path, triton) -> None:
    p_own, _, d_own, _ = trees(regions)
    publish(p_own, write_build(tmp_path, seed="h100"))
    publish(d_own, write_build(tmp_path, seed="l40s"))
    replicate_all(list(regions))
    triton.ready_models.add("resnet")
    report = status(views(regions, triton.url, triton.url))
    assert report.ok, report
    assert [(r.region, r.released, r.ready, r.parity, r.problems) for r in report.rows] == [
        ("primary", 1, True, True, 0),
        ("dr", 1, True, True, 0),
    ]


def test_builds_reading_their_own_bucket_keep_parity(regions, tmp_path: Path) -> None:
    p_own, _, d_own, _ = trees(regions)
    for own, seed in ((p_own, "h100"), (d_own, "l40s")):
        where = f"s3://bucket-{seed}/inputs/onnx/{'0' * 64}.onnx"
        publish(own, write_build(tmp_path, seed=seed, spec={"name": "resnet", "onnx": where}))
    replicate_all(list(regions))
    assert [r.parity for r in status(views(regions, None, None)).rows] == [True, True]
    changed = write_build(tmp_path, seed="other", spec={"name": "resnet", "maxBatch": 4})
    publish(d_own, changed)
    replicate_all(list(regions))
    assert [r.parity for r in status(views(regions, None, None)).rows] == [False, False]


def test_different_onnx_breaks_parity(regions, tmp_path: Path) -> None:
    p_own, _, d_own, _ = trees(regions)
    publish(p_own, write_build(tmp_path, seed="a"))
    publish(d_own, write_build(tmp_path, seed="b", onnx_sha256="1" * 64))
    replicate_all(list(regions))
    report = status(views(regions, None, None))
    assert [r.parity for r in report.rows] == [False, False] and not report.ok


def test_unreplicated_unreleased_and_unreachable(regions, build: Path) -> None:
    p_own = trees(regions)[0]
    publish(p_own, build)
    report = status(views(regions, None, "http://127.0.0.1:9"))
    assert not report.ok
    assert report.health == {"primary": "no endpoint", "dr": "unreachable"}
    assert [(r.released, r.parity) for r in report.rows] == [(1, False), (None, False)]
    assert report.rows[0].problems > 0 and report.rows[0].lag_seconds >= 0


def test_unready_model_is_not_ok(regions, build: Path, triton) -> None:
    p_own, _, d_own, _ = trees(regions)
    publish(p_own, build)
    publish(d_own, build)
    replicate_all(list(regions))
    report = status(views(regions, triton.url, triton.url), ["resnet"])
    assert [r.ready for r in report.rows] == [False, False] and not report.ok
