"""Canary lifecycle on moto: publish --canary, promote, abort, conflicts, crashes and re-runs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import drctl.store.canary as canary_mod
from drctl.store.canary import (
    CanaryInProgress,
    abort_canary,
    annotate,
    canary_findings,
    promote_canary,
    read_canary,
    start_canary,
)
from drctl.store.errors import PublishConflict, ReleaseNotFound, TritonLoadFailed
from drctl.store.layout import (
    canary_config_key,
    canary_key,
    config_key,
    pinned_version,
)
from drctl.store.publish import publish
from drctl.store.rollback import list_models, rollback
from drctl.store.s3ops import RegionStore, delete_keys, get_text, list_keys
from drctl.store.status import RegionView, status
from drctl.store.triton import load_model_on_pods, pod_endpoints
from drctl.store.verify import read_release, verify_release
from tests.drctl.store.conftest import TritonDouble, write_build


def pinned(store: RegionStore, key: str) -> int | None:
    return pinned_version(get_text(store.s3, store.bucket, key) or "")


def canary_started(store: RegionStore, tmp_path: Path) -> None:
    """Version 1 released, version 2 on trial."""
    assert publish(store, write_build(tmp_path, seed="a")).state == "released"
    result = publish(store, write_build(tmp_path, seed="b"), canary=True)
    assert (result.version, result.state, result.previous_version) == (2, "canary", 1)


def test_publish_canary_pins_the_canary_config_and_leaves_the_release(
    regions, tmp_path: Path
) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    release, _ = read_release(primary, "resnet")
    assert release is not None and release.version == 1
    assert pinned(primary, config_key("resnet")) == 1
    assert pinned(primary, canary_config_key("resnet")) == 2
    pointer, _ = read_canary(primary, "resnet")
    assert pointer is not None and (pointer.version, pointer.baseline) == (2, 1)
    assert list_models(primary) == ["resnet"]  # the canary pointer is not a model
    assert canary_findings(primary, "resnet") == []


def test_publish_canary_needs_a_release_first(regions, build: Path) -> None:
    primary, _ = regions
    with pytest.raises(ReleaseNotFound, match="without --canary first"):
        publish(primary, build, canary=True)
    assert list_keys(primary.s3, primary.bucket, "") == []  # refused before any upload


def test_a_second_canary_is_refused_and_the_same_one_is_a_rerun(regions, tmp_path: Path) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    with pytest.raises(CanaryInProgress, match="drctl store promote resnet"):
        publish(primary, write_build(tmp_path, seed="c"), canary=True)
    again = publish(primary, write_build(tmp_path, seed="b"), canary=True)
    assert (again.version, again.state, again.bytes_uploaded) == (2, "canary", 0)
    pointer, _ = read_canary(primary, "resnet")
    assert pointer is not None and pointer.version == 2


def test_two_publishers_starting_a_canary_one_wins(
    regions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    loser = write_build(tmp_path, seed="c")
    publish(primary, loser, keep_staging=True)  # version 3 exists (released, then rolled back)
    rollback([primary], "resnet", to=1)
    from drctl.store.buildtree import load_build

    manifest, raw = load_build(loser)
    monkeypatch.setattr(canary_mod, "refuse_other_canary", lambda *a: None)
    real_read = canary_mod.read_canary
    monkeypatch.setattr(canary_mod, "read_canary", lambda *a: (None, None))
    with pytest.raises(PublishConflict):
        start_canary(primary, manifest, raw, 3, "racer")
    pointer, _ = real_read(primary, "resnet")
    assert pointer is not None and pointer.version == 2


def test_promote_releases_the_canary_and_a_rerun_does_nothing(regions, tmp_path: Path) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    result = promote_canary(primary, "resnet", "test")
    assert (result.state, result.version, result.baseline) == ("promoted", 2, 1)
    release, _ = read_release(primary, "resnet")
    assert release is not None and (release.version, release.previous) == (2, [1])
    assert pinned(primary, config_key("resnet")) == 2
    assert read_canary(primary, "resnet") == (None, None)
    assert get_text(primary.s3, primary.bucket, canary_config_key("resnet")) is None
    assert promote_canary(primary, "resnet", "test").state == "none"
    assert read_release(primary, "resnet")[0].previous == [1]  # type: ignore[union-attr]


def test_promote_crashed_before_cleanup_finishes_on_rerun(
    regions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)

    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(canary_mod, "_clear", crash)
        with pytest.raises(KeyboardInterrupt):
            promote_canary(primary, "resnet", "test")
    assert read_release(primary, "resnet")[0].version == 2  # type: ignore[union-attr]
    assert read_canary(primary, "resnet")[0] is not None
    assert promote_canary(primary, "resnet", "test").state == "promoted"
    release, _ = read_release(primary, "resnet")
    assert release is not None and release.previous == [1]
    assert read_canary(primary, "resnet") == (None, None)


def test_abort_removes_the_canary_so_pods_fall_back(regions, tmp_path: Path) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    result = abort_canary(primary, "resnet")
    assert (result.state, result.version) == ("aborted", 2)
    assert read_release(primary, "resnet")[0].version == 1  # type: ignore[union-attr]
    assert get_text(primary.s3, primary.bucket, canary_config_key("resnet")) is None
    assert read_canary(primary, "resnet") == (None, None)
    assert abort_canary(primary, "resnet").state == "none"


def test_a_half_done_abort_is_reported_and_repaired(regions, tmp_path: Path) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    delete_keys(primary.s3, primary.bucket, [canary_config_key("resnet")])  # crash after step 1
    (finding,) = canary_findings(primary, "resnet")
    assert finding.kind == "stale" and "pins None, canary is 2" in finding.detail
    assert abort_canary(primary, "resnet").state == "aborted"
    assert canary_findings(primary, "resnet") == []


def test_an_orphaned_canary_config_is_reported_and_removed(regions, tmp_path: Path) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    delete_keys(primary.s3, primary.bucket, [canary_key("resnet")])
    (finding,) = canary_findings(primary, "resnet")
    assert "without a canary pointer" in finding.detail
    assert "drctl store abort resnet --region primary" in finding.detail
    assert promote_canary(primary, "resnet", "test").state == "none"
    assert get_text(primary.s3, primary.bucket, canary_config_key("resnet")) is None


def test_promote_refuses_when_the_release_moved(regions, tmp_path: Path) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    publish(primary, write_build(tmp_path, seed="c"))  # released as 3 during the canary
    with pytest.raises(PublishConflict, match="release moved to 3"):
        promote_canary(primary, "resnet", "test")
    assert read_release(primary, "resnet")[0].version == 3  # type: ignore[union-attr]
    assert abort_canary(primary, "resnet").state == "aborted"


def test_verify_and_status_show_the_canary_in_progress(regions, tmp_path: Path) -> None:
    primary, _ = regions
    canary_started(primary, tmp_path)
    report = annotate(verify_release([primary], "resnet"), primary)
    assert report.ok and report.regions[0].canary == 2
    assert report.regions[0].released_version == 1
    (row,) = status([RegionView(primary, None, None)]).rows
    assert (row.released, row.canary, row.problems) == (1, 2, 0)
    delete_keys(primary.s3, primary.bucket, [canary_config_key("resnet")])
    assert not annotate(verify_release([primary], "resnet"), primary).ok
    (row,) = status([RegionView(primary, None, None)]).rows
    assert row.problems == 1


def test_every_pod_behind_the_name_reloads() -> None:
    pods = [TritonDouble(), TritonDouble()]
    try:
        ports = [int(p.url.rsplit(":", 1)[1]) for p in pods]
        records = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p)) for p in ports]
        asked: list[tuple[str, int]] = []

        def resolve(host: str, port: int, **kw: object) -> list:
            asked.append((host, port))
            return records + records[:1]  # a duplicate record counts once

        loaded = load_model_on_pods("triton-pods.triton.svc.cluster.local", "resnet", resolve)
        assert sorted(loaded) == sorted(p.url for p in pods)
        assert asked == [("triton-pods.triton.svc.cluster.local", 8000)]
        assert [p.loaded for p in pods] == [["resnet"], ["resnet"]]
        pods[0].refuse_load = True
        with pytest.raises(TritonLoadFailed, match="1 of 2 pods"):
            load_model_on_pods("triton-pods:8000", "resnet", resolve)
        assert pods[1].loaded == ["resnet", "resnet"]  # the healthy pod was still asked
    finally:
        for pod in pods:
            pod.close()


def test_the_real_resolver_and_its_errors(triton: TritonDouble) -> None:
    port = int(triton.url.rsplit(":", 1)[1])
    assert pod_endpoints(f"127.0.0.1:{port}") == [triton.url]
    assert load_model_on_pods(f"http://127.0.0.1:{port}", "resnet") == [triton.url]

    def no_such_name(*args: object, **kw: object) -> list:
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(TritonLoadFailed, match="run in the cluster"):
        pod_endpoints("triton-pods.triton.svc.cluster.local", no_such_name)
    with pytest.raises(TritonLoadFailed, match="not host"):
        pod_endpoints("triton-pods:http")
