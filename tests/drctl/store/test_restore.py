"""restore: from the peer, else an earlier version, else a rebuild request; verify, re-point."""

from __future__ import annotations

from pathlib import Path

from drctl.store.layout import rebuild_request_key, release_key
from drctl.store.publish import publish
from drctl.store.replicator import replicate_all
from drctl.store.restore import restore
from drctl.store.s3ops import get_json
from drctl.store.verify import verify_release

ENGINE = "repository/resnet/1/model.onnx"


def published(regions, build: Path) -> None:
    publish(regions[0], build)
    replicate_all(list(regions))


def test_corrupt_object_is_restored_from_peer(regions, build: Path) -> None:
    primary, dr = regions
    published(regions, build)
    size = (build / "triton/resnet/1/model.onnx").stat().st_size
    dr.s3.put_object(Bucket=dr.bucket, Key=ENGINE, Body=b"\1" * size)
    result = restore(dr, primary, "resnet")
    assert result.ok and [(r.key, r.problem, r.source) for r in result.repairs] == [
        (ENGINE, "corrupt", "peer primary")
    ]
    assert verify_release(regions, "resnet").ok


def test_deleted_everywhere_current_comes_back_from_earlier_version(regions, build: Path) -> None:
    primary, dr = regions
    published(regions, build)
    for store in regions:
        store.s3.delete_object(Bucket=store.bucket, Key=ENGINE)
    result = restore(primary, dr, "resnet")
    assert result.ok and result.repairs[0].source.startswith("earlier version")
    assert verify_release(regions[:1], "resnet").ok


def test_no_good_copy_anywhere_requests_a_rebuild(regions, build: Path) -> None:
    primary, dr = regions
    published(regions, build)
    size = (build / "triton/resnet/1/model.onnx").stat().st_size
    for store in regions:
        for version in store.s3.list_object_versions(Bucket=store.bucket, Prefix=ENGINE)[
            "Versions"
        ]:
            store.s3.delete_object(Bucket=store.bucket, Key=ENGINE, VersionId=version["VersionId"])
        store.s3.put_object(Bucket=store.bucket, Key=ENGINE, Body=b"\2" * size)
    result = restore(dr, primary, "resnet")
    assert not result.ok and result.rebuild_requested
    build_key = get_json(primary.s3, primary.bucket, release_key("resnet"))[0]["build_key"]
    request = get_json(dr.s3, dr.bucket, rebuild_request_key("resnet", build_key))
    assert request is not None and request[0]["missing"] == ["triton/resnet/1/model.onnx"]
    assert restore(dr, primary, "resnet").rebuild_requested


def test_missing_pointer_and_manifest_are_restored_after_files_verify(regions, build: Path) -> None:
    primary, dr = regions
    publish(primary, build)
    result = restore(dr, primary, "resnet")
    assert result.ok and result.repointed
    assert {r.source for r in result.repairs} >= {"peer primary", "manifest held by a peer"}
    report = verify_release(regions, "resnet")
    assert not [f for f in report.findings if f.kind in {"missing", "corrupt", "stale"}]


def test_restore_is_a_no_op_when_healthy(regions, build: Path) -> None:
    published(regions, build)
    result = restore(regions[1], regions[0], "resnet")
    assert result.ok and result.repairs == [] and not result.repointed
